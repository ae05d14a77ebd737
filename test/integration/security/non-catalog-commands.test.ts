/**
 * Issue #12 §7 through the real bot: a runbook binding that brings its own command (beside the catalog) is allowed,
 * never silent: the bot's start names each such command in one warning line (and `runbook-pilot check` lists them:
 * test/integration/check/check-command.test.ts). Issue #19 §6: a binding cannot lower a guard: its own command
 * declared `risk: read` is host-changing (the access list, then the confirmation modal) unless the config's
 * `mitigation.readActions` trusts it with this very command.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../../src/app';
import { parseConfigText } from '../../../src/config/load-config';
import { HostSchema } from '../../../src/config/schema';
import { createLogger } from '../../../src/logger';
import { RecordingExecutor } from '../../support/fakes';
import { type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';
import { SlackStandIn } from '../../support/slack-standin';
import { plain } from '../../support/step-helpers';

const REPO = join(__dirname, '..', '..', '..');

it('security: names every non-catalog command a binding brings and how it is treated, one warning line each, at start (#12 §7, #19 §6)', async () => {
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
        'runbook HaproxyServerDown brings its own command declared read, treated as host-changing (access list and confirmation) because mitigation.readActions does not list it (action socket-list, not in the catalog): ss -tlnp',
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

describe('security: a binding cannot lower a guard (#19 §6)', () => {
  const executor = new RecordingExecutor();
  let dir: string;
  let h: Harness;
  // A binding's own command that says it reads, though it restarts the service.
  const LIAR = 'sudo -n systemctl restart haproxy';

  function folder(): string {
    const d = mkdtempSync(join(tmpdir(), 'rbp-lower-guard-'));
    mkdirSync(join(d, 'runbooks'));
    copyFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.md'), join(d, 'runbooks', 'HaproxyServerDown.md'));
    writeFileSync(
      join(d, 'runbooks', 'HaproxyServerDown.yml'),
      [
        'alert: HaproxyServerDown',
        'hostLabel: instance',
        'extra:',
        '  - { id: peek, section: diagnosis, title: Peek, actions: [peek] }',
        '  - { id: uptime, section: diagnosis, title: Uptime, actions: [host-uptime] }',
        'actions:',
        `  - { id: peek, title: Peek, description: "says read", risk: read, params: {}, command: "${LIAR}", timeoutMs: 5000, outputCap: 8192 }`,
        '  - { id: host-uptime, title: Uptime, description: uptime, risk: read, params: {}, command: "uptime", timeoutMs: 5000, outputCap: 8192 }',
        '',
      ].join('\n'),
    );
    return d;
  }

  beforeAll(async () => {
    dir = folder();
    h = await startHarness({
      hosts: [
        HostSchema.parse({
          name: 'lb-1',
          match: { instance: ['127.0.0.1:9101'] },
          ssh: {
            host: '127.0.0.1',
            port: 9,
            user: 'ops',
            privateKeyPath: '/nonexistent',
            hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
          },
        }),
      ],
      executor,
      // the config (not the binding) vouches for host-uptime, with its exact command
      config: {
        runbooks: join(dir, 'runbooks'),
        mitigation: { verifyDelayMs: 0, readActions: { 'host-uptime': 'uptime' } },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a binding command declared read is refused to someone not on the access list, and asks the on-call to confirm', async () => {
    const threadTs = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(threadTs);
    const incident = (await h.pilot.deps.store.listOpen())[0];

    await h.click(threadTs, 'step.run:diagnosis-peek:peek', INTERN);
    await h.slack.waitFor(
      'chat.postEphemeral',
      (c) => /you may not run Peek on lb-1/.test(plain(JSON.stringify(c.args))),
      5000,
    );
    expect(await h.pilot.deps.store.audits({ host: 'lb-1' })).toEqual([
      expect.objectContaining({
        user: INTERN,
        actionId: 'peek',
        outcome: 'refused',
        details: expect.objectContaining({ code: 'NOT_ALLOWED' }),
      }),
    ]);

    await h.click(threadTs, 'step.run:diagnosis-peek:peek', ONCALL);
    const opened = await h.slack.waitFor('views.open', () => true, 5000);
    expect(plain(JSON.stringify(opened.args.view))).toContain(LIAR);

    // the step the config trusts runs at once for anyone in the channel; its result is the barrier for "nothing else ran"
    await h.click(threadTs, 'step.run:diagnosis-uptime:host-uptime', INTERN);
    await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === incident.threadTs && String(c.args.text) === 'Uptime on lb-1: ok',
      5000,
    );
    expect(executor.commands).toEqual(['uptime']);
  });
});
