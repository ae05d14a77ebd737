/**
 * Issue #12 §7 through the real bot: a runbook binding that brings its own command (beside the catalog) is allowed,
 * never silent: the bot's start names each such command in one warning line (and `runbook-pilot check` lists them:
 * test/integration/check/check-command.test.ts).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../../src/app';
import { parseConfigText } from '../../../src/config/load-config';
import { createLogger } from '../../../src/logger';
import { SlackStandIn } from '../../support/slack-standin';

const REPO = join(__dirname, '..', '..', '..');

it('security: names every non-catalog command a binding brings, one warning line each, at start (#12 §7)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-noncatalog-'));
  const runbooks = join(dir, 'runbooks');
  mkdirSync(runbooks);
  copyFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.md'), join(runbooks, 'HaproxyServerDown.md'));
  writeFileSync(
    join(runbooks, 'HaproxyServerDown.yml'),
    [
      'alert: HaproxyServerDown',
      'hostLabel: instance',
      'extra:',
      '  - { id: sockets, section: diagnosis, title: Sockets, actions: [socket-list] }',
      '  - { id: kick, section: mitigation, title: Kick, actions: [kick-haproxy] }',
      'actions:',
      '  - { id: socket-list, title: Sockets, description: ss, risk: read, params: {}, command: "ss -tlnp", timeoutMs: 5000, outputCap: 8192 }',
      '  - { id: kick-haproxy, title: Kick, description: kill, risk: change, params: {}, command: "pkill -HUP haproxy", timeoutMs: 5000, outputCap: 8192 }',
      '',
    ].join('\n'),
  );
  const slack = new SlackStandIn({ channels: { C0123ALERTS: 'incidents' } });
  const { apiUrl } = await slack.start();
  const lines: Array<{ level: number; msg: string; action?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = parseConfigText(
    `slack: { channels: [C0123ALERTS] }\nalertmanager: { token: a-token }\nrunbooks: ${JSON.stringify(runbooks)}\nstore: { path: ${JSON.stringify(join(dir, 'p.db'))} }\n`,
    'config.yml',
  );
  const pilot = await createApp({
    settings: {
      config,
      env: {
        botToken: slack.botToken,
        signingSecret: 'secret',
        socketMode: false,
        apiUrl,
        port: 0,
        configPath: 'config.yml',
        logLevel: 'warn',
      },
    },
    logger: createLogger('warn', sink),
  });
  try {
    const named = lines.filter((l) => /brings its own/.test(l.msg));
    expect(named.map((l) => [l.level, l.action, l.msg])).toEqual([
      [
        40,
        'socket-list',
        'runbook HaproxyServerDown brings its own command (action socket-list, not in the catalog): ss -tlnp',
      ],
      [
        40,
        'kick-haproxy',
        'runbook HaproxyServerDown brings its own host-changing command (action kick-haproxy, not in the catalog): pkill -HUP haproxy',
      ],
    ]);
  } finally {
    await pilot.stop();
    // Bolt's auth.test may still be on its way: let the stand-in answer it (see the harness's stop()).
    await slack.waitFor('auth.test', () => true, 3000).catch(() => undefined);
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
