/**
 * What a replica does not load at start (issue #20, idle memory): node-ssh and ssh2 (whose WebAssembly Poly1305
 * reserves 16 MB as it loads) wait for the first SSH connection or the first key to check, axios for the first
 * request to Prometheus or Alertmanager. Each module is replaced by itself behind a factory that records when it is
 * first required, so the test sees the load happen (or not) while the code gets the real module.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deadUrl, type HttpStub, json, startHttpStub } from '../observe/http-stub';

const watched = ['node-ssh', 'ssh2', 'axios'] as const;
let loaded: Set<string>;

beforeEach(() => {
  jest.resetModules();
  loaded = new Set();
  for (const name of watched) {
    jest.doMock(name, () => {
      loaded.add(name);
      return jest.requireActual(name);
    });
  }
});
afterEach(() => {
  for (const name of watched) jest.dontMock(name);
});

describe('modules loaded on first use', () => {
  it('importing the whole app (every feature, the SSH pool, the observe clients) loads neither client', () => {
    require('../../../src/app');
    require('../../../src/exec/ssh-pool');
    require('../../../src/observe/prometheus-client');
    require('../../../src/observe/alertmanager-client');
    expect([...loaded]).toEqual([]);
  });

  it('node-ssh loads at the first connection and is the real client', async () => {
    const { loadNodeSsh } = require('../../../src/exec/ssh-pool') as typeof import('../../../src/exec/ssh-pool');
    expect(loaded.has('node-ssh')).toBe(false);
    const NodeSSH = await loadNodeSsh();
    expect(loaded).toEqual(new Set(['node-ssh', 'ssh2']));
    expect(typeof new NodeSSH().connect).toBe('function');
    // loaded once: the second connection gets the same class
    expect(await loadNodeSsh()).toBe(NodeSSH);
  });

  it('ssh2 loads when the first key is checked, and the check still tells a private key from a public one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rbp-lazy-keys-'));
    try {
      const file = join(dir, 'k');
      expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]).status).toBe(0);
      const { systemKeySourceDeps } =
        require('../../../src/exec/key-sources') as typeof import('../../../src/exec/key-sources');
      const deps = systemKeySourceDeps({});
      expect(loaded.has('ssh2')).toBe(false);
      expect(deps.keyError(readFileSync(file, 'utf8'), undefined)).toBeUndefined();
      expect(loaded.has('ssh2')).toBe(true);
      expect(deps.keyError(readFileSync(`${file}.pub`, 'utf8'), undefined)).toBe('it is a public key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('axios', () => {
    let stub: HttpStub | undefined;
    afterEach(async () => {
      await stub?.close();
      stub = undefined;
    });

    it('loads at the first request, which works; a configured client that never asks never loads it', async () => {
      stub = await startHttpStub((_req, res) => json(res, 200, []));
      const { AlertmanagerClient } =
        require('../../../src/observe/alertmanager-client') as typeof import('../../../src/observe/alertmanager-client');
      const am = new AlertmanagerClient({ url: stub.url, timeoutMs: 1000 });
      expect(loaded.has('axios')).toBe(false);
      await expect(am.listAlerts({})).resolves.toEqual([]);
      expect(loaded.has('axios')).toBe(true);
      expect(stub.requests.map((r) => r.url.split('?')[0])).toEqual(['/api/v2/alerts']);
    });

    it('a transport failure on the first request is still described (axios loaded by then)', async () => {
      const { PrometheusClient } =
        require('../../../src/observe/prometheus-client') as typeof import('../../../src/observe/prometheus-client');
      const prom = new PrometheusClient({ url: await deadUrl(), timeoutMs: 1000 });
      await expect(prom.queryRange('up', new Date(0), new Date(60_000), 15)).rejects.toThrow(/connection refused/);
    });
  });
});
