/**
 * A load balancer of one's own for fault tests: a second haproxy on free loopback ports, run by the test hosts' SSH
 * user, with its own config, stats socket and pid file. Killing it or breaking its config disturbs no other test
 * (the shared haproxy of hosts.sh is left alone, and other runs' globalSetup would restart that one anyway).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostConfig, HostSchema } from '../../src/config/schema';
import { until } from './haproxy-runtime';
import { type TestHosts, testSshTarget } from './test-hosts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateLb {
  host: HostConfig;
  web2Port: number;
  /** web2's status and check in `show stat` (`DOWN L4CON`), or undefined when the socket does not answer. */
  web2(): string | undefined;
  kill(): Promise<void>;
  breakConfig(): void;
  restoreConfig(): void;
  /** Serves HTTP 200 on web2's port until the returned stop. */
  web2Up(): Promise<() => Promise<void>>;
  /** A listening socket on web2's port that never accepts, its backlog full: connects time out. */
  web2Blackhole(): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export async function startPrivateLb(hosts: TestHosts, name = 'lb-tri'): Promise<PrivateLb> {
  const user = hosts.ssh.user;
  const dir = mkdtempSync(join(tmpdir(), 'rbp-privlb-'));
  chmodSync(dir, 0o755);
  const [front, web1, web2] = [await freePort(), await freePort(), await freePort()];
  const cfg = join(dir, 'haproxy.cfg');
  const sock = join(dir, 'admin.sock');
  const pidFile = join(dir, 'haproxy.pid');
  const text = `global
    stats socket ${sock} mode 600 level admin
    log 127.0.0.1:${hosts.haproxy.logPort} local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe_main
    bind 127.0.0.1:${front}
    default_backend web
frontend fe_web1
    bind 127.0.0.1:${web1}
    no log
    http-request return status 200 content-type text/plain string "web1 ok"
backend web
    option httpchk GET /
    default-server check inter 1s fastinter 250ms fall 2 rise 2
    server web1 127.0.0.1:${web1}
    server web2 127.0.0.1:${web2}
`;
  writeFileSync(cfg, text);
  execFileSync('chown', ['-R', user, dir]);
  const asUser = (args: string[]) => execFileSync('runuser', ['-u', user, '--', ...args], { stdio: 'ignore' });
  asUser([hosts.haproxy.binary, '-f', cfg, '-D', '-p', pidFile]);
  const stat = () => {
    try {
      const out = execFileSync('socat', ['-T1', 'stdio', `UNIX-CONNECT:${sock}`], {
        input: 'show stat\n',
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      const f = out
        .split('\n')
        .find((l) => l.startsWith('web,web2,'))
        ?.split(',');
      return f ? `${f[17]} ${(f[36] ?? '').replace(/^\* /, '')}` : undefined;
    } catch {
      return undefined;
    }
  };
  await until('the private haproxy to mark web2 DOWN', () => stat()?.startsWith('DOWN'));
  const { name: _n, ...ssh } = testSshTarget(hosts);
  const host = HostSchema.parse({
    name,
    match: { instance: [`${name}:9101`] },
    ssh,
    haproxy: { socket: sock, config: cfg, log: hosts.haproxy.log, service: 'haproxy', pidFile },
    commands: {},
  });
  const children = new Set<ChildProcess>();
  const python = async (code: string, ready: () => boolean): Promise<() => Promise<void>> => {
    const child = spawn('python3', ['-c', code], { stdio: 'ignore' });
    children.add(child);
    await until('the web2 stand-in', ready);
    return async () => {
      child.kill('SIGKILL');
      children.delete(child);
      await until('web2 DOWN by refusal again', () => stat() === 'DOWN L4CON');
    };
  };
  return {
    host,
    web2Port: web2,
    web2: stat,
    async kill() {
      const pid = readFileSync(pidFile, 'utf8').trim();
      execFileSync('kill', [pid]);
      await until('the private haproxy to stop answering', () => stat() === undefined);
    },
    breakConfig() {
      appendFileSync(cfg, '    severr web3 127.0.0.1:1\n');
    },
    restoreConfig() {
      writeFileSync(cfg, text);
    },
    web2Up: () =>
      python(
        `import http.server\nhttp.server.HTTPServer(("127.0.0.1", ${web2}), http.server.SimpleHTTPRequestHandler).serve_forever()`,
        () => stat()?.startsWith('UP') === true,
      ),
    web2Blackhole: () =>
      python(
        [
          'import socket, time',
          's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
          `s.bind(("127.0.0.1", ${web2})); s.listen(0)`,
          'held = []',
          'for _ in range(3):',
          '    c = socket.socket(); c.setblocking(False)',
          `    try: c.connect(("127.0.0.1", ${web2}))`,
          '    except BlockingIOError: pass',
          '    held.append(c)',
          'time.sleep(600)',
        ].join('\n'),
        () => stat() === 'DOWN L4TOUT',
      ),
    async stop() {
      for (const c of children) c.kill('SIGKILL');
      try {
        execFileSync('kill', [readFileSync(pidFile, 'utf8').trim()], { stdio: 'ignore' });
      } catch {
        // already gone (the kill test)
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
