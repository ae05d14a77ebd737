/**
 * Slack refusing at start-up, end to end (#21 item 4): the real entry point (built, as `npm start` runs it) as a process against the
 * Slack stand-in, which answers auth.test as Slack does; a placeholder token and an unreachable Slack each end in one
 * line, exit 1, no stack trace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBot, builtBotProcess } from '../../support/replicas';
import { SlackStandIn } from '../../support/slack-standin';

const REPO = join(__dirname, '..', '..', '..');
jest.setTimeout(90_000);
let build: string;
beforeAll(async () => {
  build = await buildBot();
}, 120_000);

/** Runs main.ts to its end (asynchronously: the stand-in in this process must answer meanwhile). */
function start(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-slack-refusal-'));
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'slack: { channels: [C0123ALERTS], retries: 1 }',
      'alertmanager: { token: t0k3n }',
      `runbooks: ${join(REPO, 'runbooks')}`,
      `store: { path: ${join(dir, 'pilot.db')} }`,
      '',
    ].join('\n'),
  );
  const bot = builtBotProcess(build);
  const child = spawn(bot.command, bot.args, {
    cwd: dir,
    env: {
      ...bot.env,
      RUNBOOK_PILOT_CONFIG: join(dir, 'config.yml'),
      SLACK_SIGNING_SECRET: 'secret',
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) =>
    child.once('close', (status) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ status, stderr: stderr.trim() });
    }),
  );
}

describe('npm start when Slack refuses', () => {
  let slack: SlackStandIn;
  let apiUrl: string;
  beforeAll(async () => {
    slack = new SlackStandIn({ channels: { C0123ALERTS: 'alerts' } });
    ({ apiUrl } = await slack.start());
  });
  afterAll(() => slack.stop());

  it('a placeholder token (invalid_auth): one line naming SLACK_BOT_TOKEN, Slack’s answer and the fix', async () => {
    const res = await start({ SLACK_BOT_TOKEN: 'xoxb-your-bot-token', SLACK_API_URL: apiUrl });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      `runbook-pilot: Slack refused SLACK_BOT_TOKEN: auth.test at ${apiUrl} answered invalid_auth. Copy the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page, put it in SLACK_BOT_TOKEN (environment or .env), then start again.`,
    );
    // the stand-in was asked (it is Slack's answer, not a guess)
    expect(slack.calls('auth.test').at(-1)?.response).toEqual({ ok: false, error: 'invalid_auth' });
  });

  it('an unreachable Slack: one line with the reason and the retries, no stack trace', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as { port: number };
    await new Promise((r) => s.close(r));
    const url = `http://127.0.0.1:${port}/api/`;
    const res = await start({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: url });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      `runbook-pilot: Slack did not answer auth.test at ${url} (connection refused, ECONNREFUSED, after 1 retry). Check SLACK_API_URL (unset it for Slack’s own) and that it is up, then start again.`,
    );
  });
});
