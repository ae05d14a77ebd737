/**
 * Issue #6: logs are JSON with context, and no secret reaches them — tokens, signing secret, private keys,
 * passwords, Authorization headers — in the shapes the bot really logs (settings, host config, axios errors).
 */
import { Writable } from 'node:stream';
import { buildCommand } from '../../src/actions/build-command';
import { builtinActions } from '../../src/actions/catalog';
import { HostSchema } from '../../src/config/schema';
import { PilotError } from '../../src/errors';
import type { ExecResult, Executor } from '../../src/exec/types';
import { type RunStepDeps, runStep } from '../../src/incident/run-step';
import { SqliteIncidentStore } from '../../src/incident/sqlite-store';
import type { Alert } from '../../src/ingest/alert';
import { createLogger } from '../../src/logger';
import type { Step } from '../../src/runbook/types';
import { firingAlert } from '../support/domain-fixtures';

const SECRET = 'S3CRET-do-not-log';

/** A logger writing JSON lines into an array. */
function capture(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger(level, stream), lines, raw };
}

/** An error shaped like the one axios throws for an HTTP failure (its config carries the request headers). */
function axiosLikeError(): Error {
  const err = new Error('Request failed with status code 401') as Error & Record<string, unknown>;
  err.name = 'AxiosError';
  err.config = {
    url: 'http://alertmanager:9093/api/v2/silences',
    headers: { Authorization: `Bearer ${SECRET}`, 'Content-Type': 'application/json' },
    auth: { username: 'am', password: SECRET },
  };
  err.response = { status: 401, headers: { 'www-authenticate': 'Bearer' } };
  return err;
}

const cases: [string, Record<string, unknown>, string[]][] = [
  [
    'top-level tokens',
    { token: SECRET, botToken: SECRET, appToken: SECRET, signingSecret: SECRET },
    ['token', 'botToken', 'appToken', 'signingSecret'],
  ],
  [
    'settings.env as loaded',
    { settings: { env: { botToken: SECRET, signingSecret: SECRET, appToken: SECRET, port: 3000 } } },
    ['settings.env.botToken', 'settings.env.signingSecret', 'settings.env.appToken'],
  ],
  ['one level down', { env: { botToken: SECRET, signingSecret: SECRET } }, ['env.botToken', 'env.signingSecret']],
  [
    'ssh credentials',
    { ssh: { privateKey: SECRET, passphrase: SECRET, password: SECRET, user: 'pilot' } },
    ['ssh.privateKey', 'ssh.passphrase', 'ssh.password'],
  ],
  [
    'a host from the config',
    { host: { name: 'lb-1', ssh: { privateKey: SECRET, passphrase: SECRET } } },
    ['host.ssh.privateKey', 'host.ssh.passphrase'],
  ],
  ['the webhook token in config', { config: { alertmanager: { token: SECRET } } }, ['config.alertmanager.token']],
  [
    'request headers',
    { req: { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'x-slack-signature': 'v0=abc' } } },
    ['req.headers.authorization'],
  ],
  [
    'bare headers',
    { headers: { authorization: `Bearer ${SECRET}`, Authorization: `Bearer ${SECRET}` } },
    ['headers.authorization', 'headers.Authorization'],
  ],
  [
    'an outbound request config',
    { config: { headers: { Authorization: `Bearer ${SECRET}` } } },
    ['config.headers.Authorization'],
  ],
  ['a password at the top', { password: SECRET, user: 'admin' }, ['password']],
];

function at(obj: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined),
      obj,
    );
}

describe('log redaction', () => {
  it.each(cases)('%s: every secret is [redacted]', (_name, obj, paths) => {
    const { logger, lines, raw } = capture();
    logger.info(obj, 'something happened');
    expect(raw.join('\n')).not.toContain(SECRET);
    for (const p of paths) expect(at(lines[0], p)).toBe('[redacted]');
  });

  it('keeps what is not secret', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        ssh: { user: 'pilot', privateKey: SECRET },
        req: { method: 'POST', headers: { 'content-type': 'application/json' } },
      },
      'x',
    );
    expect(lines[0]).toMatchObject({
      ssh: { user: 'pilot' },
      req: { method: 'POST', headers: { 'content-type': 'application/json' } },
      msg: 'x',
      app: 'runbook-pilot',
    });
  });

  it('redacts the Authorization header and password of an axios-like error logged as err', () => {
    const { logger, lines, raw } = capture();
    logger.error({ err: axiosLikeError() }, 'silence failed');
    expect(raw.join('\n')).not.toContain(SECRET);
    expect(at(lines[0], 'err.config.headers.Authorization')).toBe('[redacted]');
    expect(at(lines[0], 'err.config.auth.password')).toBe('[redacted]');
    expect(at(lines[0], 'err.message')).toBe('Request failed with status code 401');
  });

  it('redacts in child loggers too', () => {
    const { logger, raw } = capture();
    logger.child({ component: 'ssh' }).warn({ target: { name: 'lb-1', privateKey: SECRET } }, 'connect failed');
    expect(raw.join('\n')).not.toContain(SECRET);
  });
});

describe('step log context', () => {
  const host = HostSchema.parse({
    name: 'lb-1',
    match: { instance: ['lb-1:9101'] },
    ssh: {
      host: '10.0.0.5',
      user: 'pilot',
      privateKeyPath: '/k',
      hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    },
    haproxy: {
      socket: '/run/haproxy/admin.sock',
      config: '/etc/haproxy/haproxy.cfg',
      log: '/var/log/haproxy.log',
      service: 'haproxy',
      pidFile: '/run/haproxy.pid',
    },
  });
  const alert: Alert = firingAlert({ fingerprint: 'fp-log' });
  const action = builtinActions.find((a) => a.id === 'status-check')!;
  const step: Step = {
    id: 'diagnosis-2',
    section: 'diagnosis',
    number: 2,
    title: 'Status',
    text: 'Check the process',
    kind: 'action',
    actions: [action.id],
  };
  const ok: ExecResult = {
    exitCode: 0,
    stdout: { text: 'Pid: 1', bytes: 6, truncatedBytes: 0 },
    stderr: { text: '', bytes: 0, truncatedBytes: 0 },
    durationMs: 12,
    timedOut: false,
  };

  function deps(executor: Executor, logger: RunStepDeps['logger'], hosts = [host]): RunStepDeps {
    const store = new SqliteIncidentStore(':memory:');
    return {
      store,
      executor,
      scheduler: { schedule: (_k, fn) => fn() },
      hosts,
      buildCommand: (a, ctx) => buildCommand(a, ctx),
      toSshTarget: (h) => ({ name: h.name, ...h.ssh }),
      now: () => new Date('2026-11-25T03:00:00Z'),
      logger,
    };
  }

  async function open(d: RunStepDeps) {
    return (
      await d.store.openOrGet({
        alert,
        channel: 'C0123ALERTS',
        threadTs: '1.1',
        hostName: host.name,
        at: '2026-11-25T03:00:00Z',
      })
    ).incident;
  }

  it.each([
    ['a step that ran', async () => ok, 'step ran'],
    [
      'a step whose connection failed',
      async () => Promise.reject(new PilotError('SSH_UNREACHABLE', 'could not reach 10.0.0.5:22')),
      'step failed',
    ],
  ] as const)('%s: the line carries incident, step, action, host and user', async (_name, run, msg) => {
    const { logger, lines } = capture();
    const d = deps({ run, close: async () => undefined }, logger);
    const incident = await open(d);
    await runStep(d, { incident, step, action, user: 'U0ONCALL01' });
    const line = lines.find((l) => l.msg === msg);
    expect(line).toMatchObject({
      incidentId: incident.id,
      stepId: 'diagnosis-2',
      actionId: 'status-check',
      host: 'lb-1',
      user: 'U0ONCALL01',
    });
    // a key bound once (no duplicate "host" in the JSON line)
    expect(JSON.stringify(line).match(/"host":/g)).toHaveLength(1);
  });

  it('a refused step (host not configured) carries incident, action and user', async () => {
    const { logger, lines } = capture();
    const d = deps({ run: async () => ok, close: async () => undefined }, logger, []);
    const incident = await open(d);
    await runStep(d, { incident, step, action, user: 'U0ONCALL01' });
    expect(lines.find((l) => l.msg === 'step refused, nothing ran')).toMatchObject({
      incidentId: incident.id,
      actionId: 'status-check',
      user: 'U0ONCALL01',
      code: 'HOST_NOT_CONFIGURED',
    });
  });
});
