/**
 * Start-up fails fast on a user's mistake: one clear line naming the key and the fix, a non-zero exit, no stack
 * trace. Runs the real entry point as `npm start` does (the built src/main.ts) as a process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBot, builtBotProcess } from '../../support/replicas';

const REPO = join(__dirname, '..', '..', '..');
let build: string;
beforeAll(async () => {
  build = await buildBot();
}, 120_000);

function start(env: Record<string, string>, configText?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-main-'));
  try {
    if (configText !== undefined) writeFileSync(join(dir, 'config.yml'), configText);
    const bot = builtBotProcess(build);
    const res = spawnSync(bot.command, bot.args, {
      cwd: dir,
      env: { ...bot.env, RUNBOOK_PILOT_CONFIG: join(dir, 'config.yml'), ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: res.status, stderr: res.stderr.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const env = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', PORT: '0' };
const good = `slack: { channels: [C0123ALERTS] }\nruntbooks: ${join(REPO, 'runbooks')}\n`;

describe('npm start with a bad setup', () => {
  it.each([
    [
      'a missing token',
      { SLACK_SIGNING_SECRET: 'secret' },
      good,
      /^runbook-pilot: environment variable SLACK_BOT_TOKEN is not set\. Set SLACK_BOT_TOKEN in the environment or in \.env/,
    ],
    [
      'a missing config file',
      env,
      undefined,
      /^runbook-pilot: config file .*config\.yml does not exist\. Set RUNBOOK_PILOT_CONFIG/,
    ],
    [
      'invalid YAML',
      env,
      'slack: [',
      /^runbook-pilot: .*config\.yml:1:8: not valid YAML: this bracket is never closed/,
    ],
    [
      'an unknown key',
      env,
      good,
      /^runbook-pilot: .*config\.yml:2:1: runtbooks: unknown key; did you mean `runbooks`\?$/,
    ],
    [
      'a word for a number',
      env,
      `${good.replace('runtbooks', 'runbooks')}limits: { perHost: { concurrency: two } }\n`,
      /^runbook-pilot: .*config\.yml:3:35: limits\.perHost\.concurrency: expected an integer, got "two"$/,
    ],
    [
      'a runbook folder that does not exist',
      env,
      'slack: { channels: [C0123ALERTS] }\nalertmanager: { token: t0k3n }\nrunbooks: ./no-such-folder\n',
      /^runbook-pilot: cannot read the runbook folder .*no-such-folder/,
    ],
    [
      'an open webhook',
      env,
      `slack: { channels: [C0123ALERTS] }\nrunbooks: ${join(REPO, 'runbooks')}\n`,
      /^runbook-pilot: alertmanager\.token is empty .* would accept alerts from anyone .* set alertmanager\.allowUnauthenticated: true/i,
    ],
  ])('%s: one line, exit 1', (_name, e, config, message) => {
    const res = start(e as Record<string, string>, config);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(res.stderr.split('\n')).toHaveLength(1);
    expect(res.stderr).not.toMatch(/\bat .*\.[jt]s:\d+/);
  });

  it('several config mistakes: every one, one line each, as check lists them', () => {
    const res = start(env, 'slack: { chanels: [C0123ALERTS] }\nmitigation: { dryRun: yes, cooldownSec: five }\n');
    expect(res.status).toBe(1);
    expect(res.stderr.split('\n')).toEqual([
      expect.stringMatching(/^runbook-pilot: config file .*config\.yml has 3 problems:$/),
      expect.stringMatching(/^ {2}.*config\.yml:1:10: slack\.chanels: unknown key; did you mean `channels`\?$/),
      expect.stringMatching(/^ {2}.*config\.yml:2:23: mitigation\.dryRun: expected true or false, got "yes"/),
      expect.stringMatching(/^ {2}.*config\.yml:2:41: mitigation\.cooldownSec: expected an integer, got "five"$/),
    ]);
  });
});
