/**
 * `runbook-pilot check` and start-up find a missing SSH key before the first click (#21 item 5): an error where the
 * bot runs; a warning where the host's SSH server does not answer either (CI, a laptop: not the bot's machine).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildCore } from '../../../src/app/core';
import { runCheck, sshAnswers } from '../../../src/check/run-check';
import { parseConfigText } from '../../../src/config/load-config';
import { createLogger } from '../../../src/logger';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rbp-keycheck-'));
  mkdirSync(join(dir, 'runbooks'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const HOST_KEY = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
const configText = (keyPath: string) =>
  stringify({
    slack: { channels: ['C0123ALERTS'] },
    alertmanager: { token: 't0k3n' },
    runbooks: './runbooks',
    store: { path: join(dir, 'pilot.db') },
    access: { mitigate: ['U0123ONCALL'] },
    hosts: [
      {
        name: 'lb-1',
        match: { instance: ['lb-1:9101'] },
        ssh: { host: '10.0.0.5', user: 'ops', privateKeyPath: keyPath, hostKey: HOST_KEY },
      },
      {
        name: 'lb-2',
        match: { instance: ['lb-2:9101'] },
        ssh: { host: '10.0.0.6', user: 'ops', privateKeyEnv: 'RBP_KEY_LB2', hostKey: HOST_KEY },
      },
    ],
  });

async function check(reachable: (host: string) => boolean) {
  writeFileSync(join(dir, 'config.yml'), configText('/nonexistent/id_ed25519'));
  const out: string[] = [];
  const asked: string[] = [];
  const result = await runCheck({
    configPath: 'config.yml',
    hosts: false,
    cwd: dir,
    env: {},
    out: (l) => out.push(l),
    reachable: async (host, port) => {
      asked.push(`${host}:${port}`);
      return reachable(host);
    },
  });
  return { result, asked, lines: out.filter((l) => /ssh\.privateKey/.test(l)) };
}

describe('check: every host key source', () => {
  it('an error for a host whose SSH server answers from here (this is the bot’s machine), with line and fix', async () => {
    const { result, asked, lines } = await check((h) => h === '10.0.0.5');
    expect(asked.sort()).toEqual(['10.0.0.5:22', '10.0.0.6:22']);
    expect(lines).toEqual([
      '  error: config.yml:20:23: hosts[lb-1].ssh.privateKeyPath: the SSH key file /nonexistent/id_ed25519 does not exist; put the private key for ops@10.0.0.5 there (the Docker image: mount the key folder at its folder), or fix the path',
      expect.stringMatching(
        /^ {2}warning: config\.yml:\d+:\d+: hosts\[lb-2\]\.ssh\.privateKeyEnv: environment variable RBP_KEY_LB2 \(the SSH key for lb-2\) is not set here, and no SSH server answers at 10\.0\.0\.6:22 from here either \(not the bot's machine\?\); make sure it is right where the bot runs: set RBP_KEY_LB2/,
      ),
    ]);
    expect(result.errors).toBe(1);
  });

  it('only warnings where no host answers: the config passes where the keys are not (CI)', async () => {
    const { result, lines } = await check(() => false);
    expect(lines.every((l) => l.startsWith('  warning: '))).toBe(true);
    expect(lines).toHaveLength(2);
    expect(result.errors).toBe(0);
  });
});

describe('sshAnswers: an SSH banner, not merely an open port', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  async function listen(onConnect: (sock: import('node:net').Socket) => void): Promise<number> {
    const s = createServer(onConnect);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as import('node:net').AddressInfo).port;
  }

  it('true for a server that sends SSH-2.0-…', async () => {
    const port = await listen((sock) => sock.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    await expect(sshAnswers('127.0.0.1', port, 2000)).resolves.toBe(true);
  });

  it('false for a port that accepts and says nothing (a proxy), or something else, or nothing listening', async () => {
    const silent = await listen(() => undefined);
    const http = await listen((sock) => sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const closed = await listen(() => undefined);
    await new Promise((r) => servers.pop()?.close(r));
    await expect(sshAnswers('127.0.0.1', silent, 300)).resolves.toBe(false);
    await expect(sshAnswers('127.0.0.1', http, 2000)).resolves.toBe(false);
    await expect(sshAnswers('127.0.0.1', closed, 2000)).resolves.toBe(false);
  });
});

describe('start-up: every host key source', () => {
  it('stops with one line per host whose key is missing, before anything connects', async () => {
    const config = parseConfigText(configText('/nonexistent/id_ed25519'), 'config.yml');
    const settings = {
      env: {
        botToken: 'xoxb-none',
        signingSecret: 's',
        socketMode: false,
        apiUrl: 'http://127.0.0.1:9/api/',
        port: 0,
        configPath: 'config.yml',
        logLevel: 'silent',
      },
      config,
      environment: {},
    };
    await expect(buildCore({ settings, logger: createLogger('silent') })).rejects.toMatchObject({
      code: 'CONFIG_UNREADABLE',
      details: {
        problems: [
          expect.stringMatching(
            /^config\.yml: hosts\[lb-1\]\.ssh\.privateKeyPath: the SSH key file \/nonexistent\/id_ed25519 does not exist; put the private key/,
          ),
          expect.stringMatching(
            /^config\.yml: hosts\[lb-2\]\.ssh\.privateKeyEnv: environment variable RBP_KEY_LB2 \(the SSH key for lb-2\) is not set; set RBP_KEY_LB2/,
          ),
        ],
      },
    });
  });
});
