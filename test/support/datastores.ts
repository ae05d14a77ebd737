/**
 * The real PostgreSQL and Redis of the replica tests (started by test/support/datastores.sh, like the test hosts):
 * their URLs, a fresh database per test file, and a describe() that skips without them (fails under
 * RBP_REQUIRE_DATASTORES=1, as on CI).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';

/** The script's path. */
export const datastoresScript = join(__dirname, 'datastores.sh');

const PG_PORT = Number(process.env.RBP_PG_PORT || 25432);
const REDIS_PORT = Number(process.env.RBP_REDIS_PORT || 26379);

/** Why Postgres and Redis cannot run here, or null when they can. */
export function datastoresUnavailable(): string | null {
  const found = spawnSync(
    'bash',
    ['-c', 'ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl; command -v redis-server'],
    { stdio: 'ignore' },
  );
  if (found.status !== 0) return 'PostgreSQL or Redis is not installed (apt-get install postgresql redis-server)';
  return null;
}

/** Starts both engines (idempotent). */
export function startDatastores(): void {
  execFileSync('bash', [datastoresScript, 'start'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 90_000 });
}

/** Stops both engines. */
export function stopDatastores(): void {
  execFileSync('bash', [datastoresScript, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}

/** The URL of a database on the test Postgres (the maintenance database `postgres` by default). */
export function pgUrl(database = 'postgres'): string {
  return `postgres://pilot@127.0.0.1:${PG_PORT}/${database}`;
}

/** The URL of the test Redis. */
export function redisUrl(): string {
  return `redis://127.0.0.1:${REDIS_PORT}`;
}

let counter = 0;

/** Creates an empty database for one test (dropped by the returned function) and returns its URL. */
export async function freshDatabase(prefix = 'rbp'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`.toLowerCase();
  const admin = new Client({ connectionString: pgUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: pgUrl(name),
    async drop() {
      const c = new Client({ connectionString: pgUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** describe() that runs with Postgres and Redis up, skips (with the reason) without them, or fails when required. */
export function describeWithDatastores(name: string, fn: () => void): void {
  const reason = datastoresUnavailable();
  if (reason && process.env.RBP_REQUIRE_DATASTORES === '1') {
    describe(name, () => {
      it('needs PostgreSQL and Redis', () => {
        throw new Error(`RBP_REQUIRE_DATASTORES=1 but ${reason}`);
      });
    });
    return;
  }
  if (reason) {
    describe.skip(`${name} (skipped: ${reason})`, fn);
    return;
  }
  describe(name, fn);
}
