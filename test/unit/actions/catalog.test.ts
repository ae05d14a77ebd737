import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionSpecSchema } from '../../../src/actions/action-spec-schema';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import type { ActionSpec } from '../../../src/actions/types';
import type { HostConfig } from '../../../src/config/schema';

const host: HostConfig = {
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: {
    host: '127.0.0.1',
    port: 22,
    user: 'pilot',
    privateKeyPath: '/k',
    connectTimeoutMs: 5000,
    insecureAcceptAnyHostKey: true,
  },
  haproxy: {
    socket: '/run/haproxy/admin.sock',
    config: '/etc/haproxy/haproxy.cfg',
    log: '/var/log/haproxy.log',
    service: 'haproxy',
    pidFile: '/run/haproxy.pid',
    previousConfig: '/etc/haproxy/haproxy.cfg.prev',
  },
  commands: {},
};
const labels = {
  alertname: 'HaproxyServerDown',
  backend: 'web',
  server: 'web2',
  instance: 'lb-1:9101',
  job: 'haproxy',
  severity: 'critical',
};
// Absolute, so a test can give the command an empty PATH.
const bashPath = execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();
const byId = (id: string): ActionSpec => builtinActions.find((a) => a.id === id)!;

describe('builtinActions', () => {
  it('has the actions the HaproxyServerDown runbook needs, each once', () => {
    const ids = builtinActions.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'log-tail',
        'status-check',
        'config-check',
        'backend-state',
        'connectivity-check',
        'recent-changes',
        'version-check',
        'reload',
        'restart',
        'drain',
        'maint',
        'ready',
      ]),
    );
  });

  it.each(builtinActions.map((a) => [a.id, a] as const))('%s passes the strict schema', (_id, action) => {
    expect(ActionSpecSchema.safeParse(action).error?.issues).toBeUndefined();
  });

  it('marks every action that changes a host as risk change', () => {
    expect(
      builtinActions
        .filter((a) => a.risk === 'change')
        .map((a) => a.id)
        .sort(),
    ).toEqual(['drain', 'maint', 'ready', 'reload', 'restart', 'restart-unit']);
  });

  it.each(builtinActions.map((a) => [a.id, a] as const))(
    '%s builds from alert labels and a host, and is valid bash',
    (_id, action) => {
      // `name` is the unit label of HostSystemdServiceCrashed, which the unit actions need.
      const built = buildCommand(action, { labels: { ...labels, name: 'nginx.service' }, host, input: {} });
      // bash -n parses without running: catches a quoting slip in a template
      const r = spawnSync('bash', ['-n', '-c', built.command], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );

  it('bounds log-tail lines to 1..500 with default 50', () => {
    expect(buildCommand(byId('log-tail'), { labels, host }).params.lines).toBe('50');
    expect(() => buildCommand(byId('log-tail'), { labels, host, input: { lines: 501 } })).toThrow(/between 1 and 500/);
  });

  it('switches log-tail to the journal when the host says log: journal', () => {
    const built = buildCommand(byId('log-tail'), {
      labels,
      host: { ...host, haproxy: { ...host.haproxy, log: 'journal' } },
    });
    expect(built.params.log).toBe('journal');
    expect(built.command).toContain("L='journal'");
  });

  describe('when run locally', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const run = (
      action: ActionSpec,
      h: HostConfig,
      env: NodeJS.ProcessEnv = process.env,
      input?: Record<string, string | number>,
    ) => {
      const built = buildCommand(action, { labels, host: h, input });
      return spawnSync(bashPath, ['-c', built.command], { encoding: 'utf8', env, timeout: 10_000 });
    };

    it('log-tail keeps only lines naming backend/server, up to N', () => {
      const log = join(dir, 'haproxy.log');
      writeFileSync(log, `${['a fe web/web1 200', 'b fe web/web2 503', 'c fe web/web2 503', 'd other'].join('\n')}\n`);
      const h = { ...host, haproxy: { ...host.haproxy, log } };
      expect(run(byId('log-tail'), h, process.env, { lines: 1 }).stdout).toBe(
        `== last 1 lines of ${log} mentioning web/web2\nc fe web/web2 503\n`,
      );
      expect(run(byId('log-tail'), h, process.env, { filter: 'all', lines: 2 }).stdout).toBe(
        `== last 2 lines of ${log}\nc fe web/web2 503\nd other\n`,
      );
    });

    it('log-tail says so when the log file is missing', () => {
      const r = run(byId('log-tail'), { ...host, haproxy: { ...host.haproxy, log: join(dir, 'nope.log') } });
      expect(r.stdout).toContain('is missing or not readable');
      expect(r.status).toBe(1);
    });

    it('stats-socket actions say so when socat is missing', () => {
      // PATH without /usr/bin and /bin: socat is not found (the prelude only adds sbin directories)
      const r = run(byId('backend-state'), host, { PATH: join(dir, 'empty') });
      expect(r.stdout).toContain('socat is not installed');
      expect(r.status).toBe(127);
    });

    it('stats-socket actions say so when the socket does not exist', () => {
      const r = run(byId('drain'), { ...host, haproxy: { ...host.haproxy, socket: join(dir, 'no.sock') } });
      if (spawnSync('bash', ['-c', 'command -v socat']).status !== 0) return; // socat absent: covered above
      expect(r.stdout).toContain(`stats socket ${join(dir, 'no.sock')} does not exist`);
      expect(r.status).toBe(1);
    });

    it('recent-changes tolerates a missing config and previous copy', () => {
      const h = {
        ...host,
        haproxy: { ...host.haproxy, config: join(dir, 'none.cfg'), previousConfig: join(dir, 'prev.cfg') },
      };
      const r = run(byId('recent-changes'), h);
      expect(r.stdout).toContain(`${join(dir, 'none.cfg')} does not exist`);
      expect(r.stdout).toContain(`${join(dir, 'prev.cfg')} is missing or not readable`);
      expect(r.status).toBe(0);
    });

    it("config-check reports a broken config with haproxy's own words", () => {
      if (spawnSync('bash', ['-c', 'PATH=$PATH:/usr/sbin command -v haproxy']).status !== 0) return; // no haproxy here
      const cfg = join(dir, 'broken.cfg');
      writeFileSync(cfg, 'backend web\n    server web1 127.0.0.1:80 chekc\n');
      const r = run(byId('config-check'), { ...host, haproxy: { ...host.haproxy, config: cfg } });
      expect(r.stdout).toContain("unknown keyword 'chekc'");
      expect(r.status).not.toBe(0);
    });

    it('bash -c sees the connect target only as positional arguments', () => {
      const cmd = buildCommand(byId('connectivity-check'), { labels, host }).command;
      expect(cmd).toContain(`bash -c 'exec 3<>"/dev/tcp/$1/$2"' connect "$A" "$P"`);
      expect(
        execFileSync(
          'bash',
          ['-c', `timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' connect 127.0.0.1 1 2>&1; echo "rc=$?"`],
          { encoding: 'utf8' },
        ),
      ).toMatch(/refused[\s\S]*rc=1/);
    });
  });
});

describe('ActionSpecSchema', () => {
  const good = builtinActions[0];
  it.each([
    ['an unknown key', { ...good, sudo: true }, 'sudo'],
    ['an int without bounds', { ...good, params: { n: { from: 'input', type: 'int', default: 1 } } }, 'min'],
    ['an enum without values', { ...good, params: { n: { from: 'input', type: 'enum', default: 'a' } } }, 'values'],
    ['an unknown source', { ...good, params: { n: { from: 'env:HOME', type: 'name' } } }, 'label:'],
    ['an input without default', { ...good, params: { n: { from: 'input', type: 'name' } } }, 'default'],
    [
      '{x?…} on a required param',
      { ...good, params: { x: { from: 'label:x', type: 'name' } }, command: 'echo {x?y}' },
      'optional',
    ],
    [
      'an unclosed {x?…}',
      { ...good, params: { x: { from: 'label:x', type: 'name', optional: true } }, command: 'echo {x?y' },
      'unclosed',
    ],
    ['a bad id', { ...good, id: 'Log Tail' }, 'id'],
    ['a long title', { ...good, title: 't'.repeat(76) }, 'title'],
  ])('rejects %s', (_n, spec, word) => {
    const r = ActionSpecSchema.safeParse(spec);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(word);
  });
});
