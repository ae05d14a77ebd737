/**
 * Issue #13 §4: docker-compose.yml (two replicas, a load balancer, Postgres 15, Redis 7) and the Dockerfile's data
 * volume, checked for what can be checked without a Docker daemon (none runs where the tests run): the services and
 * their images, every environment variable a replica gets is one the bot reads, the mounts land where the bot looks,
 * the engines have healthchecks the replicas wait for, the load balancer sends to every replica and checks /healthz,
 * and the image's default store is a file in its /data volume, owned by the user the bot runs as.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseConnectionString } from 'pg-connection-string';
import { parse, parseDocument } from 'yaml';
import { parseConfigText } from '../../../src/config/load-config';
import { withPassword } from '../../../src/incident/postgres-store';
import { shippedNodeFlags } from '../../support/replicas';

const REPO = join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(REPO, file), 'utf8');

interface Service {
  build?: string | { context: string };
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const replicas = Object.entries(services).filter(([, s]) => s.build !== undefined);

/** Environment variables the bot reads: every `env.NAME` and quoted NAME in the code that reads the environment. */
function namesTheBotReads(): Set<string> {
  const source = read('src/config/load-config.ts') + read('src/main.ts');
  const names = new Set<string>();
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]);
  for (const m of source.matchAll(/'((?:SLACK|RUNBOOK_PILOT)_[A-Z0-9_]+)'/g)) names.add(m[1]);
  // and the ${NAME} placeholders of the example config, read from the environment at load (#21)
  for (const m of read('config.example.yml').matchAll(/^[^#\n]*\$\{([A-Z][A-Z0-9_]*)\}/gm)) names.add(m[1]);
  return names;
}

/** The Dockerfile's instructions of the final stage, continuation lines joined. */
function finalStage(): string[] {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const from = lines.map((l, i) => (/^FROM /.test(l) ? i : -1)).filter((i) => i >= 0);
  return lines.slice(from[from.length - 1]);
}

describe('docker-compose.yml', () => {
  it('runs two replicas of the repo image, a load balancer, Postgres 15 and Redis 7', () => {
    expect(replicas.map(([name]) => name)).toEqual(['pilot-1', 'pilot-2']);
    for (const [, s] of replicas) expect(s.build).toBe('.');
    expect(services.postgres.image).toMatch(/^postgres:15(\.|$|-)/);
    expect(services.redis.image).toMatch(/^redis:7(\.|$|-)/);
    expect(services.lb.image).toMatch(/^haproxy:/);
  });

  it('gives the replicas only environment variables the bot reads, pointing at the compose services', () => {
    const known = namesTheBotReads();
    // the reading itself found the names (a regex that finds nothing would let anything through)
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'RUNBOOK_PILOT_CONFIG', 'SLACK_BOT_TOKEN'])
      expect(known).toContain(name);
    for (const [name, s] of replicas) {
      const env = s.environment ?? {};
      const unknown = Object.keys(env).filter((k) => !known.has(k));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
      // the password passed whole (DATABASE_PASSWORD), never inside the URL, where `@ : /` would break it (#21)
      expect(env.DATABASE_URL).toBe('postgres://pilot@postgres:5432/pilot');
      expect(env.DATABASE_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
      // everything an operator sets in .env reaches the bot (#21 item 7)
      expect(env).toMatchObject({
        SLACK_SOCKET_MODE: '${SLACK_SOCKET_MODE:-false}',
        SLACK_APP_TOKEN: '${SLACK_APP_TOKEN:-}',
        METRICS_PORT: '${METRICS_PORT:-}',
        LOG_LEVEL: '${LOG_LEVEL:-info}',
        ALERTMANAGER_TOKEN: '${ALERTMANAGER_TOKEN:-}',
      });
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.SLACK_BOT_TOKEN).toMatch(/^\$\{SLACK_BOT_TOKEN:\?/);
      expect(env.SLACK_SIGNING_SECRET).toMatch(/^\$\{SLACK_SIGNING_SECRET:\?/);
      // the same password the database is created with
      expect(services.postgres.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
      expect(services.postgres.environment).toMatchObject({ POSTGRES_USER: 'pilot', POSTGRES_DB: 'pilot' });
    }
  });

  it('mounts the config where RUNBOOK_PILOT_CONFIG looks, and the runbooks and SSH keys, all read-only', () => {
    for (const [, s] of replicas) {
      const mounts = (s.volumes ?? []).map((v) => v.split(':'));
      const target = (t: string) => mounts.find((m) => m[1] === t);
      expect(target(s.environment?.RUNBOOK_PILOT_CONFIG as string)).toEqual([
        './config.yml',
        '/config/config.yml',
        'ro',
      ]);
      // the image's working directory is /app and the example config's runbooks are ./runbooks
      expect(target('/app/runbooks')).toEqual(['./runbooks', '/app/runbooks', 'ro']);
      expect(target('/ssh')?.[2]).toBe('ro');
      expect(mounts.every((m) => m[2] === 'ro')).toBe(true);
    }
  });

  it('starts the replicas once Postgres and Redis answer their healthchecks, whose data is on named volumes', () => {
    expect(JSON.stringify(services.postgres.healthcheck?.test)).toContain('pg_isready');
    expect(JSON.stringify(services.redis.healthcheck?.test)).toContain('ping');
    for (const [, s] of replicas)
      expect(s.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    const named = (s: Service, target: string) =>
      (s.volumes ?? []).map((v) => v.split(':')).find((m) => m[1] === target)?.[0];
    expect(named(services.postgres, '/var/lib/postgresql/data')).toBe('postgres-data');
    expect(named(services.redis, '/data')).toBe('redis-data');
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['postgres-data', 'redis-data']));
  });

  it('publishes one port, the load balancer’s, which sends to every replica and checks /healthz', () => {
    expect(services.lb.ports).toEqual(['3000:3000']);
    for (const [, s] of replicas) expect(s.ports).toBeUndefined();
    const mount = (services.lb.volumes ?? []).map((v) => v.split(':')).find((m) => m[0] === './deploy/haproxy.cfg');
    expect(mount?.[2]).toBe('ro');
    const cfg = read('deploy/haproxy.cfg');
    const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+):3000 check/gm)].map((m) => [m[1], m[2]]);
    expect(servers).toEqual(replicas.map(([name]) => [name, name]));
    expect(cfg).toMatch(/^\s*option httpchk GET \/healthz$/m);
    expect(cfg).toMatch(/^\s*bind :3000$/m);
    // a request is replayed only when its connection failed, never one a replica took
    expect(cfg).toMatch(/^\s*retry-on conn-failure$/m);
  });

  const haproxy = spawnSync('bash', ['-c', 'PATH="$PATH:/usr/sbin"; command -v haproxy'], { encoding: 'utf8' });
  const haproxyPath = haproxy.status === 0 ? haproxy.stdout.trim() : undefined;
  (haproxyPath || process.env.RBP_REQUIRE_HOSTS === '1' ? it : it.skip)(
    'has a load balancer config haproxy accepts (haproxy -c)',
    () => {
      const res = spawnSync(haproxyPath ?? 'haproxy', ['-c', '-f', join(REPO, 'deploy', 'haproxy.cfg')], {
        encoding: 'utf8',
      });
      expect(`${res.stdout}${res.stderr}`).toContain('Configuration file is valid');
      expect(res.status).toBe(0);
    },
  );
});

describe('Dockerfile', () => {
  const stage = finalStage();
  const index = (re: RegExp) => stage.findIndex((l) => re.test(l));

  it('starts the bot with the same Node flags as `npm start` and the test replicas (#20: the young generation capped)', () => {
    const flags = shippedNodeFlags();
    expect(flags).toEqual(['--max-semi-space-size=4']);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(`node ${flags.join(' ')} dist/main.js`);
    // the reason is measured and written next to the flag
    expect(read('Dockerfile')).toMatch(/max-semi-space-size=4 \(MB[\s\S]*BENCH_ONLY=idle[\s\S]*CMD \[/);
  });

  it('declares /data a volume, created and given to the bot’s user before it is declared', () => {
    const volume = index(/^VOLUME \/data$/);
    const created = index(/mkdir -p \/data && chown pilot:pilot \/data/);
    expect(volume).toBeGreaterThan(-1);
    expect(created).toBeGreaterThan(-1);
    // changes to a path after VOLUME declares it are discarded by the build
    expect(created).toBeLessThan(volume);
    expect(stage[index(/^USER /)]).toBe('USER pilot');
  });

  it('leaves /app (code, runbooks, node_modules) to root, not writable by the bot’s user (#19 §10)', () => {
    // WORKDIR creates /app as root; COPY without --chown gives root the files (mode 644/755 from the build).
    expect(index(/^WORKDIR \/app$/)).toBeGreaterThan(-1);
    const copies = stage.filter((l) => /^(COPY|ADD) /.test(l));
    expect(copies.length).toBeGreaterThanOrEqual(5);
    for (const copy of copies) {
      expect(copy).not.toMatch(/--chown/);
      expect(copy).not.toMatch(/--chmod=\S*[2367]\S*\b/); // no group/other write bit either
    }
    for (const dest of ['./node_modules', './dist', './runbooks', './bin'])
      expect(copies.some((c) => c.trim().endsWith(` ${dest}`))).toBe(true);
    // nothing after them hands /app (or a path in it) to the bot's user or opens it to writing
    for (const line of stage.filter((l) => /^RUN /.test(l))) {
      expect(line).not.toMatch(/chown[^&;]*\s(\/app|\.)(\/|\s|$)/);
      expect(line).not.toMatch(/chmod[^&;]*\s(\/app|\.)(\/|\s|$)/);
    }
    // the bot runs as pilot only once the files are in place
    expect(index(/^USER pilot$/)).toBeGreaterThan(Math.max(...copies.map((c) => stage.indexOf(c))));
  });

  it('makes a file in /data the default store, which the example config does not override', () => {
    const env = stage.filter((l) => l.startsWith('ENV ')).join(' ');
    const storePath = /\bRUNBOOK_PILOT_STORE_PATH=(\S+)/.exec(env)?.[1];
    expect(storePath).toMatch(/^\/data\/[^/]+\.db$/);
    const known = namesTheBotReads();
    for (const m of env.matchAll(/\b([A-Z][A-Z0-9_]+)=/g)) if (m[1] !== 'NODE_ENV') expect(known).toContain(m[1]);
    // the example config, as a user copies it into the container, keeps its store in the volume
    const example = parseConfigText(read('config.example.yml'), 'config.example.yml', {
      storePath,
      env: { ALERTMANAGER_TOKEN: 'example-token' },
    });
    expect(example.store.path).toBe(storePath);
    expect(example.store.url).toBeUndefined();
  });
});

describe('docker-compose.yml as Compose reads it (#21 item 7)', () => {
  it('is valid YAML to a strict parser: no duplicate keys, no errors or warnings, merge keys resolved', () => {
    const doc = parseDocument(read('docker-compose.yml'), { merge: true, uniqueKeys: true, prettyErrors: true });
    expect(doc.errors.map((e) => e.message)).toEqual([]);
    expect(doc.warnings.map((w) => w.message)).toEqual([]);
    // every ${VAR} is Compose's interpolation syntax: ${NAME}, ${NAME:-default} or ${NAME:?message}
    for (const m of read('docker-compose.yml').matchAll(/\$\{([^}]*)\}/g))
      expect(m[1]).toMatch(/^[A-Z][A-Z0-9_]*(?::?[-?][^}]*)?$/);
  });

  it('the README gives the compose steps: config, .env, the SSH key folder and its owner uid 10001', () => {
    const readme = read('README.md');
    const steps = readme.slice(
      readme.indexOf('**With docker compose.**'),
      readme.indexOf('**What each engine holds.**'),
    );
    expect(steps).toContain('cp config.example.yml config.yml');
    expect(steps).toContain('mkdir -p ssh');
    expect(steps).toContain('sudo chown -R 10001:10001 ssh');
    expect(steps).toContain('chmod 600');
    expect(steps).toContain('docker compose up -d --build');
  });
});

describe('a Postgres password with @ : / (#21 item 7)', () => {
  it.each(['p@ss:w/rd', 'a%b?c#d&e', 'plain'])('%s reaches the driver whole', (password) => {
    const url = withPassword('postgres://pilot@postgres:5432/pilot', password);
    expect(parseConnectionString(url)).toMatchObject({ user: 'pilot', password, host: 'postgres', database: 'pilot' });
  });
  it('leaves the URL alone without DATABASE_PASSWORD, and replaces a password in it with one', () => {
    expect(withPassword('postgres://pilot:x@db/pilot', undefined)).toBe('postgres://pilot:x@db/pilot');
    expect(parseConnectionString(withPassword('postgres://pilot:x@db/pilot', 'y@z')).password).toBe('y@z');
  });
});
