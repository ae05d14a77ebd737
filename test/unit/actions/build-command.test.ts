import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommand } from '../../../src/actions/build-command';
import type { ActionSpec, ParamSpec } from '../../../src/actions/types';
import type { HostConfig } from '../../../src/config/schema';
import { PilotError } from '../../../src/errors';
import { expectPilotError } from '../../support/expect-pilot-error';

const host: HostConfig = {
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: {
    host: 'lb-1.example.net',
    port: 22,
    user: 'pilot',
    privateKeyPath: '/k',
    connectTimeoutMs: 5000,
    insecureAcceptAnyHostKey: false,
    knownHostsPath: '/kh',
  },
  haproxy: {
    socket: '/run/haproxy/admin.sock',
    config: '/etc/haproxy/haproxy.cfg',
    log: '/var/log/haproxy.log',
    service: 'haproxy',
    pidFile: '/run/haproxy.pid',
  },
  commands: {},
};

const setState: ActionSpec = {
  id: 'drain',
  title: 'Drain',
  description: 'test',
  risk: 'change',
  params: {
    socket: { from: 'host:haproxy.socket', type: 'path' },
    backend: { from: 'label:backend', type: 'name' },
    server: { from: 'label:server', type: 'name' },
  },
  command: 'echo {backend}/{server} via {socket}',
  timeoutMs: 1000,
  outputCap: 1000,
};

function expectParamInvalid(fn: () => unknown, ...parts: string[]): PilotError {
  return expectPilotError(fn, 'PARAM_INVALID', ...parts);
}

describe('buildCommand', () => {
  it('fills each placeholder with the single-quoted validated value', () => {
    const built = buildCommand(setState, { labels: { backend: 'web', server: 'web2' }, host });
    expect(built).toEqual({
      actionId: 'drain',
      command: "echo 'web'/'web2' via '/run/haproxy/admin.sock'",
      params: { socket: '/run/haproxy/admin.sock', backend: 'web', server: 'web2' },
    });
  });

  const hostile: Array<[string, string]> = [
    ['command substitution', '$(touch /tmp/pwned)'],
    ['semicolon', ';rm -rf /'],
    ['backticks', '`id`'],
    ['newline', 'web2\nid'],
    ['single quote', "web2'"],
    ['double quote', 'web2"'],
    ['space', 'web 2'],
    ['slash', 'web/../x'],
    ['too long', 'w'.repeat(65)],
    ['very long', 'x'.repeat(100_000)],
    ['unicode', 'wéb2'],
    ['right-to-left override', 'web\u202e2'],
    ['leading dash', '-rf'],
    ['empty', ''],
    ['glob', 'web*'],
    ['haproxy command separator', 'web2;shutdown sessions'],
  ];

  it.each(hostile)('refuses a server label with %s', (_name, value) => {
    const e = expectParamInvalid(
      () => buildCommand(setState, { labels: { backend: 'web', server: value }, host }),
      '"server"',
      'label:server',
    );
    // never echo more than ~60 characters of the bad value
    expect(e.message.length).toBeLessThan(250);
  });

  it('label:a|b reads the first of the labels the alert has (v1 `backend`, v2 `proxy`)', () => {
    const spec = {
      id: 'x',
      title: 'x',
      description: 'x',
      risk: 'read',
      params: { b: { from: 'label:backend|proxy', type: 'name' } },
      command: 'echo {b}',
      timeoutMs: 1000,
      outputCap: 1024,
    } satisfies ActionSpec;
    expect(buildCommand(spec, { labels: { proxy: 'api' }, host }).command).toBe("echo 'api'");
    expect(buildCommand(spec, { labels: { backend: 'web', proxy: 'api' }, host }).command).toBe("echo 'web'");
    expect(buildCommand(spec, { labels: { backend: '', proxy: 'api' }, host }).command).toBe("echo 'api'");
    expectPilotError(
      () => buildCommand(spec, { labels: { proxy: 'a;b' }, host }),
      'PARAM_INVALID',
      'label:backend|proxy',
    );
    expectPilotError(() => buildCommand(spec, { labels: {}, host }), 'PARAM_INVALID', 'is required but has no value');
  });

  it('names a missing required parameter and its source', () => {
    expectParamInvalid(
      () => buildCommand(setState, { labels: { backend: 'web' }, host }),
      '"server"',
      'label:server',
      'required',
    );
  });

  it.each([
    ['relative', 'run/admin.sock'],
    ['dot-dot', '/run/../etc/shadow'],
    ['space', '/run/my sock'],
    ['quote', "/run/a'b"],
    ['dollar', '/run/$x'],
  ])('refuses a %s path from the host config', (_n, socket) => {
    const h = { ...host, haproxy: { ...host.haproxy, socket } };
    expectParamInvalid(
      () => buildCommand(setState, { labels: { backend: 'web', server: 'web2' }, host: h }),
      '"socket"',
      'host:haproxy.socket',
      'absolute path',
    );
  });

  describe('types', () => {
    const spec = (p: ActionSpec['params'][string]): ActionSpec => ({
      ...setState,
      params: { v: p },
      command: 'echo {v}',
    });
    // `as const` tables give readonly arrays; the spec wants mutable ones.
    const run = (
      p: Readonly<Omit<ParamSpec, 'values'>> & { values?: readonly string[] },
      input: string | number | undefined,
    ): string =>
      buildCommand(spec({ ...p, values: p.values ? [...p.values] : undefined }), {
        labels: {},
        host,
        input: input === undefined ? {} : { v: input },
      }).params.v;

    it.each([
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, undefined, '50'],
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, 500, '500'],
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, '7', '7'],
      [{ from: 'input', type: 'port' } as const, 65535, '65535'],
      [{ from: 'input', type: 'port' } as const, '080', '80'],
      [{ from: 'input', type: 'host' } as const, 'lb-1.example.net', 'lb-1.example.net'],
      [{ from: 'input', type: 'host' } as const, '10.0.0.7', '10.0.0.7'],
      [{ from: 'input', type: 'host' } as const, 'fe80::1', 'fe80::1'],
      [{ from: 'input', type: 'enum', values: ['alert', 'all'] } as const, 'all', 'all'],
      [{ from: 'input', type: 'path', values: ['journal'] } as const, 'journal', 'journal'],
    ])('accepts %j with %p', (p, input, expected) => {
      expect(run(p, input)).toBe(expected);
    });

    it.each([
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, 501, 'between 1 and 500'],
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, 0, 'between 1 and 500'],
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, '5; id', 'integer'],
      [{ from: 'input', type: 'int', min: 1, max: 500, default: 50 } as const, 1.5, 'integer'],
      [{ from: 'input', type: 'port' } as const, 0, '1..65535'],
      [{ from: 'input', type: 'port' } as const, 65536, '1..65535'],
      [{ from: 'input', type: 'port' } as const, '80 ', '1..65535'],
      [{ from: 'input', type: 'host' } as const, '-oProxyCommand=id', 'host name'],
      [{ from: 'input', type: 'host' } as const, 'a b', 'host name'],
      [{ from: 'input', type: 'enum', values: ['alert', 'all'] } as const, 'ALL', 'one of alert, all'],
      [{ from: 'input', type: 'path' } as const, 'journal', 'absolute path'],
    ])('refuses %j with %p', (p, input, rule) => {
      expectParamInvalid(() => run(p, input), '"v"', rule);
    });
  });

  it('keeps {name?text} only when the optional parameter is set', () => {
    const spec: ActionSpec = {
      ...setState,
      params: {
        backend: { from: 'label:backend', type: 'name', optional: true },
        server: { from: 'label:server', type: 'name', optional: true },
      },
      command: "P=''{backend?{backend}/}{server?{server}}; echo \"$P\" '{ print }' %{http_code} ${HOME}",
    };
    expect(buildCommand(spec, { labels: { backend: 'web', server: 'web2' }, host }).command).toBe(
      "P=''" + "'web'/'web2'; echo \"$P\" '{ print }' %{http_code} ${HOME}",
    );
    expect(buildCommand(spec, { labels: { server: 'web2' }, host }).command).toBe(
      "P='''web2'; echo \"$P\" '{ print }' %{http_code} ${HOME}",
    );
    expect(buildCommand(spec, { labels: {}, host }).command).toBe("P=''; echo \"$P\" '{ print }' %{http_code} ${HOME}");
  });

  it("uses the host's command override with the same placeholders", () => {
    const h = { ...host, commands: { drain: 'sudo -n /usr/local/bin/lb-drain {backend} {server}' } };
    expect(buildCommand(setState, { labels: { backend: 'web', server: 'web2' }, host: h }).command).toBe(
      "sudo -n /usr/local/bin/lb-drain 'web' 'web2'",
    );
  });

  it('resolves const and server sources', () => {
    const spec: ActionSpec = {
      ...setState,
      params: {
        mode: { from: 'const:tcp', type: 'enum', values: ['tcp', 'http'] },
        addr: { from: 'server:addr', type: 'host' },
        port: { from: 'server:port', type: 'port' },
      },
      command: 'check {mode} {addr} {port}',
    };
    expect(buildCommand(spec, { labels: {}, host, server: { addr: '10.1.2.3', port: 8080 } }).command).toBe(
      "check 'tcp' '10.1.2.3' '8080'",
    );
  });

  describe('under bash', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'build-command-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    // The enum's values come from config, so they are the one place a hostile string passes validation: it must still
    // reach the command as one literal word.
    const nasty = [
      `$(touch ${'DIR'}/pwned1)`,
      '`touch DIR/pwned2`',
      "'; touch DIR/pwned3; '",
      '"; touch DIR/pwned4; "',
      'x\ntouch DIR/pwned5',
      '$(touch${IFS}DIR/pwned6)',
      "\\'; touch DIR/pwned7 #",
    ];

    it('never runs what a value holds, even when the value passed validation', () => {
      const values = nasty.map((v) => v.replace(/DIR/g, dir));
      for (const value of values) {
        const spec: ActionSpec = {
          ...setState,
          params: { v: { from: 'input', type: 'enum', values } },
          command: "printf '%s' {v}",
        };
        const built = buildCommand(spec, { labels: {}, host, input: { v: value } });
        const out = execFileSync('bash', ['-c', built.command], { encoding: 'utf8', cwd: dir });
        expect(out).toBe(value);
      }
      expect(readdirSync(dir)).toEqual([]);
    });

    it('runs refused labels nowhere: the build throws before any shell sees them', () => {
      const marker = join(dir, 'pwned');
      for (const server of [`$(touch ${marker})`, `;touch ${marker}`, `\`touch ${marker}\``]) {
        expect(() => buildCommand(setState, { labels: { backend: 'web', server }, host })).toThrow(PilotError);
      }
      expect(existsSync(marker)).toBe(false);
    });
  });
});
