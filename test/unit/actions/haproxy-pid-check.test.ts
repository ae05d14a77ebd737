/**
 * Reload and restart signal only the haproxy their pid file names when that pid is still haproxy running the
 * host's config (#15). The built commands run here in bash against a fake `haproxy` that records how it was
 * called, so no signal reaches a real process unless the check let it through.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import type { HostConfig } from '../../../src/config/schema';

jest.setTimeout(20_000); // it spawns processes: slow on a loaded machine

let dir: string;
let host: HostConfig;
const started: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rbp-pidcheck-'));
  mkdirSync(join(dir, 'bin'));
  // Serves (loops, its process named haproxy) with --serve; otherwise records its arguments and succeeds.
  writeFileSync(
    join(dir, 'bin', 'haproxy'),
    `#!/bin/sh\nif [ "$1" = --serve ]; then while :; do sleep 1; done; fi\necho "$*" >> "${dir}/calls"\n`,
  );
  chmodSync(join(dir, 'bin', 'haproxy'), 0o755);
  // A real executable named haproxy (a copy of sh) that serves: its /proc/<pid>/exe ends in /haproxy, as the real
  // one's does; the script above is named haproxy too, but its executable is the shell (#19 §9).
  mkdirSync(join(dir, 'sbin'));
  copyFileSync('/bin/sh', join(dir, 'sbin', 'haproxy'));
  chmodSync(join(dir, 'sbin', 'haproxy'), 0o755);
  writeFileSync(join(dir, 'haproxy.cfg'), 'global\n');
  host = {
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
      socket: join(dir, 'admin.sock'),
      config: join(dir, 'haproxy.cfg'),
      log: join(dir, 'log'),
      service: 'haproxy',
      pidFile: join(dir, 'haproxy.pid'),
      previousConfig: join(dir, 'prev.cfg'),
    },
    commands: {},
  };
});

afterEach(() => {
  for (const p of started.splice(0)) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a long-running process and waits until `ps` sees it under its final name. */
async function startProcess(command: string, args: string[], name: string): Promise<number> {
  const child = spawn(command, args, { stdio: 'ignore' });
  started.push(child);
  const deadline = Date.now() + 5000;
  while (spawnSync('ps', ['-o', 'comm=', '-p', String(child.pid)], { encoding: 'utf8' }).stdout.trim() !== name) {
    if (Date.now() > deadline) throw new Error(`${name} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return child.pid as number;
}

function alive(pid: number): boolean {
  const state = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return state !== '' && !state.startsWith('Z');
}

function run(actionId: 'restart' | 'reload'): { status: number | null; out: string; calls: string[] } {
  const action = builtinActions.find((a) => a.id === actionId)!;
  const { command } = buildCommand(action, { labels: {}, host });
  const res = spawnSync('bash', ['-c', command], {
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` },
  });
  const callsFile = join(dir, 'calls');
  const calls = existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : [];
  return { status: res.status, out: `${res.stdout}${res.stderr}`, calls };
}

/** The calls that start or signal haproxy (`-D`, `-sf`, `-st` as words; the config check `-c` is neither). */
const signalling = (calls: string[]) => calls.filter((c) => / -(s[tf]|D) /.test(` ${c} `));

describe.each(['restart', 'reload'] as const)('%s and the pid file', (actionId) => {
  it('refuses when the pid is a live process that is not haproxy, and signals nothing', async () => {
    const sleeper = await startProcess('sleep', ['300'], 'sleep');
    writeFileSync(host.haproxy.pidFile, `${sleeper}\n`);
    const r = run(actionId);
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `stale pid file ${host.haproxy.pidFile}: pid ${sleeper} is not haproxy running ${host.haproxy.config}`,
    );
    expect(r.out).toContain('Nothing was signalled');
    expect(signalling(r.calls)).toEqual([]);
    expect(alive(sleeper)).toBe(true);
  });

  it('refuses when the pid is a haproxy running another config', async () => {
    const other = await startProcess(
      join(dir, 'sbin', 'haproxy'),
      ['-c', 'while :; do sleep 1; done', 'haproxy', '-f', join(dir, 'other.cfg')],
      'haproxy',
    );
    writeFileSync(host.haproxy.pidFile, `${other}\n`);
    const r = run(actionId);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`stale pid file ${host.haproxy.pidFile}: pid ${other}`);
    expect(signalling(r.calls)).toEqual([]);
  });

  it('refuses a pid file that does not hold a pid', () => {
    writeFileSync(host.haproxy.pidFile, 'garbage\n');
    const r = run(actionId);
    expect(r.status).toBe(1);
    expect(r.out).toContain('not a pid: nothing was signalled');
    expect(signalling(r.calls)).toEqual([]);
  });

  it('refuses a process named haproxy and running this config whose executable is not haproxy (#19 §9)', async () => {
    const impostor = await startProcess(
      join(dir, 'bin', 'haproxy'),
      ['--serve', '-f', host.haproxy.config, '-D'],
      'haproxy',
    );
    writeFileSync(host.haproxy.pidFile, `${impostor}\n`);
    const r = run(actionId);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      new RegExp(`stale pid file .*: pid ${impostor} is not haproxy running .*\\(executable /\\S*/(da)?sh\\)`),
    );
    expect(r.out).toContain('Nothing was signalled');
    expect(signalling(r.calls)).toEqual([]);
    expect(alive(impostor)).toBe(true);
  });

  it('hands the pid to haproxy when it is haproxy running this config', async () => {
    const ours = await startProcess(
      join(dir, 'sbin', 'haproxy'),
      ['-c', 'while :; do sleep 1; done', 'haproxy', '-f', host.haproxy.config, '-D'],
      'haproxy',
    );
    writeFileSync(host.haproxy.pidFile, `${ours}\n`);
    const r = run(actionId);
    expect(r.status).toBe(0);
    expect(signalling(r.calls)).toEqual([
      `-f ${host.haproxy.config} -D -p ${host.haproxy.pidFile} ${actionId === 'restart' ? '-st' : '-sf'} ${ours}`,
    ]);
  });
});

describe('a pid file whose process is gone', () => {
  async function deadPid(): Promise<number> {
    const child = spawn('true');
    await new Promise((r) => child.once('exit', r));
    return child.pid as number;
  }

  it('restart starts haproxy without signalling anyone, and says so', async () => {
    writeFileSync(host.haproxy.pidFile, `${await deadPid()}\n`);
    const r = run('restart');
    expect(r.status).toBe(0);
    expect(r.out).toContain('haproxy is not running');
    expect(signalling(r.calls)).toEqual([`-f ${host.haproxy.config} -D -p ${host.haproxy.pidFile}`]);
  });

  it('reload refuses and points to restart', async () => {
    writeFileSync(host.haproxy.pidFile, `${await deadPid()}\n`);
    const r = run('reload');
    expect(r.status).toBe(1);
    expect(r.out).toContain('use Restart HAProxy to start it');
    expect(signalling(r.calls)).toEqual([]);
  });
});
