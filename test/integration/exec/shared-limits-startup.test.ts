/**
 * Issue #13: what start-up says about the limits. Postgres without Redis: a warning that the limits are per process
 * (N replicas allow N times as much); with limits.redis.url or REDIS_URL: the limits are shared, no warning; SQLite
 * alone (one process): nothing to warn about.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { buildCore, type Core } from '../../../src/app/core';
import { parseConfigText, type Settings } from '../../../src/config/load-config';
import { createLogger } from '../../../src/logger';
import { describeWithDatastores, freshDatabase, redisUrl } from '../../support/datastores';
import { RecordingExecutor } from '../../support/fakes';

const REPO = join(__dirname, '..', '..', '..');
const PER_PROCESS = /no limits\.redis\.url \(or REDIS_URL\).*kept per process, so N replicas allow N times as much/;

describeWithDatastores('start-up and the shared limits', () => {
  let dir: string;
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rbp-limits-start-'));
    db = await freshDatabase('limits');
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(config: Record<string, unknown>, env: Partial<Settings['env']> = {}) {
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const settings: Settings = {
      config: parseConfigText(
        stringify({
          slack: { channels: ['C0123ALERTS'] },
          runbooks: join(REPO, 'runbooks'),
          store: { path: join(dir, 'pilot.db') },
          alertmanager: { token: 't' },
          access: { mitigate: ['U0ONCALL01'] },
          ...config,
        }),
        'test.yml',
      ),
      env: {
        botToken: 'x',
        signingSecret: 's',
        socketMode: false,
        port: 0,
        configPath: 'test.yml',
        logLevel: 'info',
        ...env,
      },
    };
    const core = await buildCore({ settings, logger: createLogger('info', sink), executor: new RecordingExecutor() });
    return { core, lines };
  }
  async function close(core: Core) {
    await core.sharedLimits?.close();
    await core.eventClaims.close();
    await core.store.close();
  }

  it('warns when the store is Postgres and the limits have no Redis', async () => {
    const { core, lines } = await start({ store: { url: db.url } });
    try {
      expect(core.sharedLimits).toBeUndefined();
      expect(lines.filter((l) => l.level === 40 && PER_PROCESS.test(l.msg))).toHaveLength(1);
    } finally {
      await close(core);
    }
  });

  it.each([
    ['limits.redis.url', { limits: { redis: { url: redisUrl() } } }, {}],
    ['REDIS_URL', {}, { redisUrl: redisUrl() }],
  ])('shares the limits through %s and does not warn', async (_how, config, env) => {
    const { core, lines } = await start({ store: { url: db.url }, ...config }, env);
    try {
      expect(core.sharedLimits).toBeDefined();
      expect(lines.some((l) => PER_PROCESS.test(l.msg))).toBe(false);
      expect(lines.some((l) => l.level === 30 && /^limits: shared through Redis/.test(l.msg))).toBe(true);
    } finally {
      await close(core);
    }
  });

  it('says nothing of the limits for one process on SQLite', async () => {
    const { core, lines } = await start({});
    try {
      expect(lines.some((l) => /limits/.test(l.msg))).toBe(false);
    } finally {
      await close(core);
    }
  });
});
