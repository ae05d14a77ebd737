/**
 * The memory benchmark (issue #19 §1): what unauthenticated and flooding requests cost a real bot process (the
 * compiled entry point, test/support/replicas.ts, SQLite store, the Slack stand-in). Its resident memory (VmRSS) is
 * sampled every 20 ms: idle, then while 100 unsigned POSTs of 4 MiB each reach /slack/events at once, then while
 * Alertmanager's webhook is flooded with 36,000 alerts (360 batches of 100, 20 at a time, each sent once: a 503 is
 * counted, not retried). The goal: the peak of each within +64 MB of idle (the README sizes a replica at 256 MB).
 * Before the request gate, the 100 unsigned POSTs alone took a replica from 198 to 531 MB.
 */
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { AM_TOKEN } from '../test/support/pilot-harness';
import { startOneBot } from './one-bot';
import { rssMb } from './rss';

const REPO = join(__dirname, '..');
const MIB = 1024 * 1024;

/** POSTs `body` and resolves with the status (0: the connection failed). */
function post(url: string, headers: Record<string, string | number>, body: Buffer | string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Runs `jobs` with at most `width` at once. */
async function pooled<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

const tally = (statuses: number[]) =>
  Object.entries(
    statuses.reduce<Record<string, number>>((acc, s) => {
      acc[s] = (acc[s] ?? 0) + 1;
      return acc;
    }, {}),
  )
    // 0: the connection ended while the client was still sending (the bot answered and closed without reading)
    .map(([s, n]) => `${n}×${s === '0' ? 'closed' : s}`)
    .join(' ');

export interface MemoryBenchSizes {
  unsigned: number;
  unsignedBytes: number;
  alerts: number;
  batch: number;
  width: number;
}

export async function benchMemory(sizes: MemoryBenchSizes): Promise<Record<string, string | number>> {
  const { dir, slack, set, pid } = await startOneBot('memory', 'error');
  const bot = set.replicas[0];
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 20);
  const settle = async () => {
    // Idle is what the process holds a second after the last request, sampled over another second.
    await new Promise((r) => setTimeout(r, 1000));
    let sum = 0;
    for (let i = 0; i < 10; i++) {
      sum += rssMb(pid);
      await new Promise((r) => setTimeout(r, 100));
    }
    return sum / 10;
  };
  try {
    const idle = await settle();

    // 1. unsigned POSTs of 4 MiB, all at once
    const big = Buffer.alloc(sizes.unsignedBytes, 'a');
    peak = 0;
    const unsigned = await Promise.all(
      Array.from({ length: sizes.unsigned }, () =>
        post(`${bot.url}/slack/events`, { 'content-type': 'application/json' }, big),
      ),
    );
    const unsignedPeak = peak;
    const afterUnsigned = await settle();

    // 2. the webhook flood: distinct alerts in batches, `width` requests at once, each sent once
    const fixture = JSON.parse(
      readFileSync(join(REPO, 'test', 'fixtures', 'alertmanager', 'by-instance.webhook.firing.json'), 'utf8'),
    ) as { alerts: Array<Record<string, unknown> & { labels: Record<string, string> }> };
    const { fingerprint: _f, ...template } = fixture.alerts[0];
    const batches = Math.ceil(sizes.alerts / sizes.batch);
    const bodies = Array.from({ length: batches }, (_, b) =>
      JSON.stringify({
        ...fixture,
        alerts: Array.from({ length: sizes.batch }, (_, i) => ({
          ...template,
          labels: { ...(template.labels as Record<string, string>), server: `flood-${b}-${i}` },
        })),
      }),
    );
    peak = 0;
    const started = performance.now();
    const flood = await pooled(
      bodies.map(
        (body) => () =>
          post(
            `${bot.url}/alertmanager`,
            { 'content-type': 'application/json', authorization: `Bearer ${AM_TOKEN}` },
            body,
          ),
      ),
      sizes.width,
    );
    const floodMs = performance.now() - started;
    const floodPeak = peak;
    const afterFlood = await settle();
    set.assertNoCrash();
    const round = (n: number) => Math.round(n);
    return {
      idle_rss_mb: round(idle),
      [`unsigned_${sizes.unsigned}x${sizes.unsignedBytes / MIB}MiB_answers`]: tally(unsigned),
      unsigned_peak_rss_mb: round(unsignedPeak),
      unsigned_peak_over_idle_mb: round(unsignedPeak - idle),
      unsigned_after_rss_mb: round(afterUnsigned),
      [`flood_${sizes.alerts}_alerts_answers`]: tally(flood),
      flood_sent_in_s: Math.round(floodMs / 100) / 10,
      flood_peak_rss_mb: round(floodPeak),
      flood_peak_over_idle_mb: round(floodPeak - idle),
      flood_after_rss_mb: round(afterFlood),
      within_64mb_of_idle: unsignedPeak - idle <= 64 && floodPeak - idle <= 64 ? 'yes' : 'no',
    };
  } finally {
    clearInterval(sampler);
    await set.stop();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
