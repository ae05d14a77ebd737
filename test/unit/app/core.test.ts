import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildCore } from '../../../src/app/core';
import { parseConfigText, type Settings } from '../../../src/config/load-config';
import { PilotError } from '../../../src/errors';
import type { Executor } from '../../../src/exec/types';
import { createLogger } from '../../../src/logger';
import { firingAlert } from '../../support/domain-fixtures';

const REPO = join(__dirname, '..', '..', '..');
const lb1 = {
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: {
    host: '10.0.0.5',
    user: 'ops',
    privateKeyEnv: 'RBP_UNUSED_KEY',
    hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  },
};

function settings(dir: string, extra: Record<string, unknown> = {}): Settings {
  const config = parseConfigText(
    stringify({
      slack: { channels: ['C0123ALERTS'] },
      runbooks: join(REPO, 'runbooks'),
      store: { path: join(dir, 'pilot.db') },
      alertmanager: { token: 't' },
      hosts: [lb1],
      ...extra,
    }),
    'test.yml',
  );
  // A Slack that does not exist: the core never calls it.
  return {
    env: {
      botToken: 'xoxb-none',
      signingSecret: 's',
      socketMode: false,
      apiUrl: 'http://127.0.0.1:9/api/',
      port: 0,
      configPath: 'test.yml',
      logLevel: 'silent',
    },
    config,
  };
}

/** An executor that fails every command as an unreachable host would. */
const unreachable: Executor = {
  run: async (target) => {
    throw new PilotError('SSH_UNREACHABLE', `cannot reach ${target.name}`);
  },
  close: async () => undefined,
};

describe('buildCore (#15 §3)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rbp-core-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds without Slack: runbooks loaded, the store usable, nothing listening', async () => {
    // given settings whose Slack is unreachable
    // when the core is built
    const core = await buildCore({ settings: settings(dir), logger: createLogger('silent'), executor: unreachable });
    try {
      // then the runbooks and the store work on their own
      expect(core.runbooks.get('HaproxyServerDown')).toBeDefined();
      const { incident } = await core.store.openOrGet({
        alert: firingAlert({ fingerprint: 'f1' }),
        hostName: 'lb-1',
        channel: 'C0123ALERTS',
        threadTs: '1.1',
        at: '2026-11-25T03:00:00.000Z',
      });
      expect((await core.store.get(incident.id))?.hostName).toBe('lb-1');
      expect(core.pool).toBeUndefined();
    } finally {
      await core.eventClaims.close();
      await core.store.close();
    }
  });

  it('counts SSH failures of the executor it was given, by host and code', async () => {
    const core = await buildCore({ settings: settings(dir), logger: createLogger('silent'), executor: unreachable });
    try {
      await expect(
        core.executor.run({ name: 'lb-1', host: '10.0.0.5', port: 22, user: 'ops' }, 'true', {
          timeoutMs: 1000,
          outputCap: 1000,
        }),
      ).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
      const { values } = await core.metrics.sshErrors.get();
      expect(values).toEqual([
        expect.objectContaining({ labels: { host: 'lb-1', code: 'SSH_UNREACHABLE' }, value: 1 }),
      ]);
    } finally {
      await core.eventClaims.close();
      await core.store.close();
    }
  });

  it('registers the gauges only when their sources are given, once', async () => {
    const core = await buildCore({ settings: settings(dir), logger: createLogger('silent'), executor: unreachable });
    try {
      expect(await core.metrics.registry.metrics()).not.toMatch(/^runbook_pilot_incidents_open /m);
      core.metrics.watch({
        openIncidents: () => 7,
        hostQueues: () => ({}),
        sshStats: () => ({ connects: 0, reconnects: 0, failures: 0, open: 0 }),
        slackQueued: () => 0,
        intakeQueued: () => 0,
      });
      expect(await core.metrics.registry.metrics()).toMatch(/^runbook_pilot_incidents_open 7$/m);
      expect(() => core.metrics.watch({} as never)).toThrow(/already/);
    } finally {
      await core.eventClaims.close();
      await core.store.close();
    }
  });

  it('an open webhook stops start-up before the store is opened', async () => {
    // given a config whose Alertmanager webhook takes anyone
    const open = settings(dir, { alertmanager: {} });
    // when / then
    await expect(buildCore({ settings: open, logger: createLogger('silent') })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('POST /alertmanager would accept alerts from anyone'),
    });
    expect(existsSync(join(dir, 'pilot.db'))).toBe(false);
  });
});
