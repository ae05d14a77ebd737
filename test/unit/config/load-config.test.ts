import { loadConfig } from '../../../src/config/load-config';
import { PilotError } from '../../../src/errors';

const goodEnv = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret', RUNBOOK_PILOT_CONFIG: 'cfg.yml' };
const goodYaml = `
slack:
  channels: [C0123ALERTS]
alertmanager:
  token: ""
runbooks: ./runbooks
hosts:
  - name: lb-1
    match: { instance: ["lb-1:9101", "10.0.0.5:9101"] }
    ssh: { host: 10.0.0.5, port: 22, user: ops, privateKeyPath: /etc/runbook-pilot/id_ed25519,
           hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" }
    haproxy: { socket: /run/haproxy/admin.sock, config: /etc/haproxy/haproxy.cfg, log: /var/log/haproxy.log, service: haproxy }
    commands: {}
access:
  mitigate: [U0123ONCALL, S0123SRE]
`;

function load(env: Record<string, string | undefined>, yaml: string | Error) {
  return loadConfig({
    env,
    readFile: () => {
      if (yaml instanceof Error) throw yaml;
      return yaml;
    },
  });
}

function failure(env: Record<string, string | undefined>, yaml: string | Error): PilotError {
  try {
    load(env, yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(PilotError);
    return err as PilotError;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('loads the documented example shape with defaults filled in, frozen', () => {
    // given the config of the README
    // when
    const { env, config } = load(goodEnv, goodYaml);
    // then
    expect(env).toMatchObject({
      botToken: 'xoxb-1',
      signingSecret: 'secret',
      socketMode: false,
      port: 3000,
      configPath: 'cfg.yml',
    });
    expect(config.hosts[0].ssh.port).toBe(22);
    expect(config.hosts[0].haproxy.service).toBe('haproxy');
    expect(config.limits.perHost.concurrency).toBeGreaterThan(0);
    expect(Object.isFrozen(config.hosts[0].ssh)).toBe(true);
  });

  it('reads METRICS_PORT when set, and leaves /metrics on PORT otherwise', () => {
    expect(load({ ...goodEnv, METRICS_PORT: '9464' }, goodYaml).env.metricsPort).toBe(9464);
    expect(load(goodEnv, goodYaml).env.metricsPort).toBeUndefined();
  });

  it('points SLACK_API_URL at a stand-in with a trailing slash', () => {
    expect(load({ ...goodEnv, SLACK_API_URL: 'http://127.0.0.1:9/api' }, goodYaml).env.apiUrl).toBe(
      'http://127.0.0.1:9/api/',
    );
  });

  it.each([
    [
      'a missing bot token',
      { ...goodEnv, SLACK_BOT_TOKEN: undefined },
      goodYaml,
      'CONFIG_MISSING_ENV',
      /SLACK_BOT_TOKEN is not set/,
    ],
    [
      'a missing signing secret',
      { ...goodEnv, SLACK_SIGNING_SECRET: '' },
      goodYaml,
      'CONFIG_MISSING_ENV',
      /SLACK_SIGNING_SECRET is not set/,
    ],
    [
      'socket mode without an app token',
      { ...goodEnv, SLACK_SOCKET_MODE: 'true' },
      goodYaml,
      'CONFIG_MISSING_ENV',
      /SLACK_APP_TOKEN is not set/,
    ],
    [
      'socket mode with a bot token as app token',
      { ...goodEnv, SLACK_SOCKET_MODE: 'true', SLACK_APP_TOKEN: 'xoxb-1-2-abc' },
      goodYaml,
      'CONFIG_INVALID_ENV',
      /SLACK_APP_TOKEN must be an app-level token \(xapp-…\), got one starting "xoxb-"/,
    ],
    [
      'a bad SLACK_SOCKET_MODE',
      { ...goodEnv, SLACK_SOCKET_MODE: 'maybe' },
      goodYaml,
      'CONFIG_INVALID_ENV',
      /SLACK_SOCKET_MODE must be true or false/,
    ],
    ['a bad PORT', { ...goodEnv, PORT: 'eighty' }, goodYaml, 'CONFIG_INVALID_ENV', /PORT must be a port number/],
    [
      'a bad METRICS_PORT',
      { ...goodEnv, METRICS_PORT: '9o90' },
      goodYaml,
      'CONFIG_INVALID_ENV',
      /METRICS_PORT must be a port number other than PORT, got "9o90"/,
    ],
    [
      'METRICS_PORT the same as PORT',
      { ...goodEnv, PORT: '3000', METRICS_PORT: '3000' },
      goodYaml,
      'CONFIG_INVALID_ENV',
      /METRICS_PORT must be a port number other than PORT/,
    ],
    [
      'an unreadable file',
      goodEnv,
      Object.assign(new Error('nope'), { code: 'ENOENT' }),
      'CONFIG_UNREADABLE',
      /cfg.yml does not exist/,
    ],
    [
      'invalid YAML',
      goodEnv,
      'slack: [unclosed',
      'CONFIG_INVALID_YAML',
      /^cfg\.yml:1:8: not valid YAML: this bracket is never closed/,
    ],
    [
      'an unknown top-level key',
      goodEnv,
      `${goodYaml}\nbogus: 1\n`,
      'CONFIG_INVALID',
      /^cfg\.yml:17:1: bogus: unknown key; remove it; the keys here are slack, /,
    ],
    [
      'an unknown nested key',
      goodEnv,
      goodYaml.replace('service: haproxy }', 'service: haproxy, sokcet: /x }'),
      'CONFIG_INVALID',
      /^cfg\.yml:12:\d+: hosts\[0\]\.haproxy\.sokcet: unknown key; did you mean `socket`\?$/,
    ],
    [
      'a missing channel list',
      goodEnv,
      'slack: {}\n',
      'CONFIG_INVALID',
      /^cfg\.yml:1:8: slack\.channels: missing; add it: a list/,
    ],
    [
      'a bad channel id',
      goodEnv,
      'slack: { channels: ["general"] }\n',
      'CONFIG_INVALID',
      /slack\.channels\[0\]: must be a Slack id/,
    ],
    ['a bad port', goodEnv, goodYaml.replace('port: 22', 'port: 70000'), 'CONFIG_INVALID', /hosts\[0\]\.ssh\.port/],
    [
      'no host key check',
      goodEnv,
      goodYaml.replace(/,\s*hostKey: "[^"]+"/, ''),
      'CONFIG_INVALID',
      /hosts\[0\]\.ssh\.hostKey: set hostKey/,
    ],
    ['a malformed host key', goodEnv, goodYaml.replace(/SHA256:[^"]+/, 'MD5:aa'), 'CONFIG_INVALID', /must be SHA256/],
    [
      'a relative socket path',
      goodEnv,
      goodYaml.replace('/run/haproxy/admin.sock', 'admin.sock'),
      'CONFIG_INVALID',
      /hosts\[0\]\.haproxy\.socket: must be an absolute path/,
    ],
    [
      'a duplicate host name',
      goodEnv,
      goodYaml.replace(/( {2}- name: lb-1[\s\S]*?commands: \{\}\n)/, '$1$1'),
      'CONFIG_INVALID',
      /"lb-1" is used twice/,
    ],
  ])('refuses %s with one clear line', (_name, env, yaml, code, message) => {
    const err = failure(env, yaml);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/\n/);
  });
});

describe('limits.redis (issue #13: the limits replicas share)', () => {
  it('is off by default: no URL, the default prefix and timeout', () => {
    const { env, config } = load(goodEnv, goodYaml);
    expect(config.limits.redis).toEqual({ prefix: 'runbook-pilot', timeoutMs: 2000 });
    expect(env.redisUrl).toBeUndefined();
  });

  it('takes limits.redis.url and a prefix from the file, and REDIS_URL from the environment', () => {
    const yaml = `${goodYaml}limits:\n  redis: { url: "redis://:s3cret@redis:6379/2", prefix: team-a.pilot }\n`;
    const { config } = load(goodEnv, yaml);
    expect(config.limits.redis).toEqual({
      url: 'redis://:s3cret@redis:6379/2',
      prefix: 'team-a.pilot',
      timeoutMs: 2000,
    });
    // the other limits keep their defaults
    expect(config.limits.perHost).toEqual({ concurrency: 2, minGapMs: 100, maxQueued: 100 });
    expect(load({ ...goodEnv, REDIS_URL: 'rediss://cache:6380' }, goodYaml).env.redisUrl).toBe('rediss://cache:6380');
  });

  it.each([
    ['url: "http://redis:6379"', 'limits.redis.url: must be a redis:// (or rediss://) URL'],
    ['prefix: "a b"', 'limits.redis.prefix: must be 1–64 letters, digits, . _ -'],
    ['timeoutMs: 10', 'limits.redis.timeoutMs'],
    ['db: 2', 'limits.redis.db: unknown key'],
  ])('stops start-up on limits.redis { %s } with the key and the fix', (entry, message) => {
    const err = failure(goodEnv, `${goodYaml}limits:\n  redis: { ${entry} }\n`);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(message);
  });

  it('refuses a REDIS_URL that is not a redis URL, without echoing it (it may hold a password)', () => {
    const err = failure({ ...goodEnv, REDIS_URL: 'redis-host:6379?password=s3cret' }, goodYaml);
    expect(err.code).toBe('CONFIG_INVALID_ENV');
    expect(err.message).toBe('REDIS_URL must be a redis:// (or rediss://) URL');
    expect(err.message + err.hint).not.toContain('s3cret');
  });
});

describe('store.path and RUNBOOK_PILOT_STORE_PATH (issue #13: the Docker image keeps its store under /data)', () => {
  it.each([
    ['neither', {}, '', './runbook-pilot.db'],
    ['only the environment', { RUNBOOK_PILOT_STORE_PATH: '/data/runbook-pilot.db' }, '', '/data/runbook-pilot.db'],
    [
      'the environment and a store section without a path',
      { RUNBOOK_PILOT_STORE_PATH: '/data/runbook-pilot.db' },
      'store: { url: "postgres://pilot@db:5432/pilot" }\n',
      '/data/runbook-pilot.db',
    ],
    [
      'both: the file wins',
      { RUNBOOK_PILOT_STORE_PATH: '/data/runbook-pilot.db' },
      'store: { path: /var/lib/pilot/store.db }\n',
      '/var/lib/pilot/store.db',
    ],
    ['only the file', {}, 'store: { path: ./here.db }\n', './here.db'],
  ])('with %s set, the store is at the right path', (_case, env, extra, path) => {
    const { config } = load({ ...goodEnv, ...env }, `${goodYaml}${extra}`);
    expect(config.store.path).toBe(path);
  });

  it('still refuses an unknown key beside the path the environment gives', () => {
    const err = failure({ ...goodEnv, RUNBOOK_PILOT_STORE_PATH: '/data/x.db' }, `${goodYaml}store: { paht: ./x.db }\n`);
    expect(err.message).toContain('store.paht: unknown key; did you mean `path`?');
  });
});
