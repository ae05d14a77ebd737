/**
 * The triage's rules where they live (TriageService, with a real SQLite store and step runner, a recording executor
 * answering the real captured outputs, a fake presenter and a fake clock): once per incident across replicas, never
 * a host-changing step, the storm and per-host budgets with their "click to run", silenced and resolved alerts, one
 * message updated per step, the likely cause and its button, and one triage step at a time per host.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import { judge } from '../../../src/actions/verdicts';
import { ConfigSchema, HostSchema } from '../../../src/config/schema';
import { MemoryClickWindow } from '../../../src/exec/click-window';
import { HostLimiter } from '../../../src/exec/host-limiter';
import type { RunStepDeps } from '../../../src/incident/run-step';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook } from '../../../src/runbook/types';
import type { SlackMessage } from '../../../src/slack/blocks/incident-message';
import { type TriageDeps, TriageService, triageSlots } from '../../../src/slack/triage';
import { firingAlert } from '../../support/domain-fixtures';
import { RecordingExecutor } from '../../support/fakes';

const FIX = join(__dirname, '..', '..', 'fixtures', 'triage');
const RUNBOOKS = loadRunbooks(join(__dirname, '..', '..', '..', 'runbooks'), builtinActions);
const logger = createLogger('silent');
const lb1 = HostSchema.parse({
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: { host: '127.0.0.1', user: 'pilot', privateKeyPath: '/k', insecureAcceptAnyHostKey: true },
});
const lb2 = { ...lb1, name: 'lb-2', match: { instance: ['lb-2:9101'] } };

/** The captured output of an action in a fault (test/fixtures/triage). */
function captured(fault: string, actionId: string) {
  const base = join(FIX, `${fault}.${actionId}`);
  return {
    exitCode: Number(readFileSync(`${base}.exit`, 'utf8').trim()),
    stdout: { text: readFileSync(`${base}.txt`, 'utf8'), bytes: 1, truncatedBytes: 0 },
  };
}

interface World {
  triage: TriageService;
  store: SqliteIncidentStore;
  executor: RecordingExecutor;
  /** `low`: paced behind the channel's other posts (a click's result goes first). */
  posts: Array<{ incidentId: number; ts: string; msg: SlackMessage; low: boolean }>;
  updates: Array<{ ts: string; msg: SlackMessage; low: boolean }>;
  refreshes: Array<{ incidentId: number; low: boolean }>;
  open(server?: string, host?: string): Promise<Incident>;
  clock: { t: number };
  maxParallel(): number;
}

function world(
  opts: {
    triage?: Record<string, unknown>;
    fault?: string;
    alertState?: TriageDeps['alertState'];
    runbooks?: TriageDeps['runbooks'];
    replicaId?: string;
    store?: SqliteIncidentStore;
    /** limits.global.concurrency: the process's command slots, half of which the triage may hold. */
    globalSlots?: number;
  } = {},
): World {
  const clock = { t: Date.parse('2026-12-06T03:00:00Z') };
  const now = () => new Date(clock.t);
  const store = opts.store ?? new SqliteIncidentStore(':memory:');
  let running = 0;
  let max = 0;
  const executor = new RecordingExecutor(async (command) => {
    running++;
    max = Math.max(max, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    const id = /^#action:(\S+)/.exec(command)?.[1] as string;
    return captured(opts.fault ?? 'web2-refused', id);
  });
  const runStepDeps: RunStepDeps = {
    store,
    executor,
    scheduler: new HostLimiter({
      perHost: { concurrency: 2, minGapMs: 0, maxQueued: 100 },
      global: { concurrency: 20 },
      perUser: { clicksPerMinute: 2 },
    }),
    hosts: [lb1, lb2],
    // Marks each command with its action, so the recording executor answers that action's captured output.
    buildCommand: (action, ctx) => {
      const built = buildCommand(action, ctx);
      return { ...built, command: `#action:${action.id}\n${built.command}` };
    },
    toSshTarget: (h) => ({ name: h.name, ...h.ssh }),
    now,
    logger,
    judge: (action, result, labels) => {
      if (!action.verdicts) return undefined;
      const v = judge(
        action.verdicts,
        { exitCode: result.exitCode, timedOut: result.timedOut, stdout: result.stdout.text },
        labels,
      );
      return { level: v.level, text: v.text };
    },
  };
  const posts: World['posts'] = [];
  const updates: World['updates'] = [];
  const refreshes: World['refreshes'] = [];
  let seq = 0;
  const config = ConfigSchema.parse({
    slack: { channels: ['C0123ALERTS'] },
    triage: opts.triage ?? {},
    limits: { global: { concurrency: opts.globalSlots ?? 20 } },
  });
  const triage = new TriageService({
    config,
    store,
    runbooks: opts.runbooks ?? RUNBOOKS,
    presenter: {
      reply: async (incident, msg, o) => {
        const ts = `9.${++seq}`;
        posts.push({
          incidentId: incident.id,
          ts,
          msg: typeof msg === 'function' ? (msg() as SlackMessage) : (msg as SlackMessage),
          low: o?.low === true,
        });
        return ts;
      },
      replace: async (_incident, ts, msg, o) =>
        void updates.push({
          ts,
          msg: typeof msg === 'function' ? (msg() as SlackMessage) : (msg as SlackMessage),
          low: o?.low === true,
        }),
      refresh: async (incidentId, o) => void refreshes.push({ incidentId, low: o?.low === true }),
    },
    runStepDeps,
    window: new MemoryClickWindow(),
    inCatalog: (id) => builtinActions.some((a) => a.id === id),
    ...(opts.alertState ? { alertState: opts.alertState } : {}),
    replicaId: opts.replicaId ?? 'r1',
    logger,
    now,
  });
  let fp = 0;
  return {
    triage,
    store,
    executor,
    posts,
    updates,
    refreshes,
    clock,
    maxParallel: () => max,
    async open(server = 'web2', host = 'lb-1') {
      fp++;
      const alert = firingAlert({
        fingerprint: `fp-${fp}`,
        labels: { alertname: 'HaproxyServerDown', instance: `${host}:9101`, backend: 'web', server },
      });
      const { incident } = await store.openOrGet({
        alert,
        hostName: host,
        channel: 'C0123ALERTS',
        threadTs: `1.${fp}`,
        at: now().toISOString(),
      });
      return incident;
    },
  };
}

const text = (m: SlackMessage) => JSON.stringify(m.blocks);

describe('TriageService', () => {
  it('runs the five read steps once, in one message updated as each finishes, and names the cause with its button', async () => {
    const w = world();
    const incident = await w.open();
    const out = await w.triage.onOpen(incident);
    expect(out).toMatchObject({ kind: 'done', action: 'drain' });
    expect(out.kind === 'done' && out.cause).toMatch(
      /^web2 itself is down or not listening on port 18082; HAProxy is fine$/,
    );
    // the catalog's triage steps, never a host-changing one
    const ran = w.executor.commands.map((c) => /^#action:(\S+)/.exec(c)?.[1]);
    expect(ran.sort()).toEqual(['backend-state', 'config-check', 'connectivity-check', 'log-tail', 'status-check']);
    expect(w.posts).toHaveLength(1);
    expect(w.updates.every((u) => u.ts === w.posts[0].ts)).toBe(true);
    // the bot's background work: its post, its edits and the incident message's refreshes all wait behind a click's
    // result in the channel's pace (#22)
    expect(w.posts[0].low).toBe(true);
    expect(w.updates.length).toBeGreaterThan(0);
    expect(w.updates.every((u) => u.low)).toBe(true);
    expect(w.refreshes.length).toBeGreaterThanOrEqual(5);
    expect(w.refreshes.every((r) => r.low && r.incidentId === incident.id)).toBe(true);
    const final = w.updates[w.updates.length - 1].msg;
    expect(text(final)).toContain('Likely cause:* web2 itself is down or not listening on port 18082; HAProxy is fine');
    expect(text(final)).toContain('step.run:mitigation-server-state:drain');
    expect(text(final)).toContain('web2 DOWN — L4CON connection refused, 57 s; 1 of 2 servers up');
    // the steps are the bot's, with their verdicts; the timeline says it was the bot
    const stored = (await w.store.get(incident.id)) as Incident;
    expect(stored.steps['diagnosis-backend-state']).toMatchObject({
      state: 'ok',
      by: 'bot',
      verdict: { level: 'problem' },
    });
    expect(stored.steps['diagnosis-3']).toMatchObject({ state: 'failed', by: 'bot', verdict: { level: 'problem' } });
    const events = await w.store.timeline(incident.id);
    expect(events.filter((e) => e.type.startsWith('step.')).every((e) => e.actor === 'bot')).toBe(true);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['triage.started', 'triage.finished']));
    // the bot's runs are not a user's clicks: 5 steps did not hit a per-user limit of 2
    expect(events.some((e) => e.type === 'step.refused')).toBe(false);
  });

  it('triages an incident once, whichever replicas see it open', async () => {
    const a = world({ replicaId: 'A' });
    const b = world({ replicaId: 'B', store: a.store });
    const incident = await a.open();
    const [x, y] = await Promise.all([a.triage.onOpen(incident), b.triage.onOpen(incident)]);
    expect([x.kind, y.kind].sort()).toEqual(['claimed-elsewhere', 'done']);
    expect(a.executor.commands.length + b.executor.commands.length).toBe(5);
    expect(await a.triage.onOpen(incident)).toEqual({ kind: 'claimed-elsewhere' });
  });

  it('in a storm triages no more than triage.maxPerMinute; the rest say so, and a click runs one once', async () => {
    const w = world({ triage: { maxPerMinute: 3, perHostPerMinute: 100 } });
    const incidents: Incident[] = [];
    for (let i = 0; i < 6; i++) incidents.push(await w.open(`web${i}`));
    const outs: Awaited<ReturnType<TriageService['onOpen']>>[] = [];
    for (const i of incidents) outs.push(await w.triage.onOpen(i));
    expect(outs.filter((o) => o.kind === 'done')).toHaveLength(3);
    const skipped = outs.filter((o) => o.kind === 'skipped');
    expect(skipped.map((o) => o.kind === 'skipped' && o.reason)).toEqual([
      '4 incidents this minute (triage.maxPerMinute 3)',
      '5 incidents this minute (triage.maxPerMinute 3)',
      '6 incidents this minute (triage.maxPerMinute 3)',
    ]);
    const skipPost = w.posts.find((p) => p.incidentId === incidents[5].id) as World['posts'][number];
    expect(text(skipPost.msg)).toContain(
      'Triage skipped: 6 incidents this minute (triage.maxPerMinute 3) — click to run',
    );
    expect(text(skipPost.msg)).toContain('triage.run');
    expect(w.executor.commands).toHaveLength(15);
    // the click: runs it in that message; a second click (or replica) does not run it again
    const asked = await w.triage.runAsked(incidents[5], 'U0ONCALL01', skipPost.ts);
    expect(asked.kind).toBe('done');
    expect(w.updates.some((u) => u.ts === skipPost.ts && text(u.msg).includes('Likely cause'))).toBe(true);
    expect(await w.triage.runAsked(incidents[5], 'U0OTHER001', skipPost.ts)).toEqual({ kind: 'claimed-elsewhere' });
    expect(w.executor.commands).toHaveLength(20);
    // a minute later the window is free again
    w.clock.t += 61_000;
    expect((await w.triage.onOpen(await w.open('web9'))).kind).toBe('done');
  });

  it('runs at most triage.perHostPerMinute triages on a host; another host is not held back', async () => {
    const w = world({ triage: { perHostPerMinute: 1 } });
    expect((await w.triage.onOpen(await w.open('web1'))).kind).toBe('done');
    expect(await w.triage.onOpen(await w.open('web2'))).toMatchObject({
      kind: 'skipped',
      reason: '1 triages on lb-1 this minute (triage.perHostPerMinute 1)',
    });
    expect((await w.triage.onOpen(await w.open('web2', 'lb-2'))).kind).toBe('done');
  });

  it.each([
    ['silenced', 'the alert is silenced in Alertmanager'],
    ['resolved', 'Alertmanager says the alert is resolved'],
  ] as const)('does not triage a %s alert', async (kind, reason) => {
    const w = world({
      alertState: { configured: true, check: async () => ({ view: { kind, checkedAt: 'x' }, changed: false }) },
    });
    expect(await w.triage.onOpen(await w.open())).toMatchObject({ kind: 'skipped', reason });
    expect(w.executor.commands).toHaveLength(0);
  });

  it('runs the steps of one host one at a time, so a click always finds a slot', async () => {
    const w = world({ triage: { perHostPerMinute: 100 } });
    await Promise.all([w.triage.onOpen(await w.open('web1')), w.triage.onOpen(await w.open('web2'))]);
    expect(w.executor.commands).toHaveLength(10);
    expect(w.maxParallel()).toBe(1);
  });

  it("holds at most half of the process's command slots over all hosts, so a click always finds one (#22)", async () => {
    // given two slots overall (the triage's share: one) and incidents on two hosts at once
    const w = world({ triage: { perHostPerMinute: 100 }, globalSlots: 2 });
    // when both are triaged
    await Promise.all([w.triage.onOpen(await w.open('web2', 'lb-1')), w.triage.onOpen(await w.open('web2', 'lb-2'))]);
    // then every step ran, never two at once (each host's lane alone would allow one per host: two)
    expect(w.executor.commands).toHaveLength(10);
    expect(w.maxParallel()).toBe(1);
    // and with the default 20 slots, the two hosts' lanes do run side by side
    const wide = world({ triage: { perHostPerMinute: 100 } });
    await Promise.all([
      wide.triage.onOpen(await wide.open('web2', 'lb-1')),
      wide.triage.onOpen(await wide.open('web2', 'lb-2')),
    ]);
    expect(wide.maxParallel()).toBe(2);
  });

  it.each([
    [1, 1],
    [2, 1],
    [3, 1],
    [20, 10],
  ])('with %i command slots overall, triage steps take at most %i (#22)', (global, share) => {
    expect(triageSlots(global)).toBe(share);
  });

  it('says honestly when no cause rule fits, and triage: false turns it off', async () => {
    const w = world({ fault: 'web2-up' });
    // web2 UP but the LB log reads "DOWN": the recovered rule holds (UP now), the others do not
    const out = await w.triage.onOpen(await w.open());
    expect(out.kind === 'done' && out.cause).toMatch(/recovered since the alert/);
    const rb = RUNBOOKS.get('HaproxyServerDown') as Runbook;
    const noRules: Runbook = {
      ...rb,
      binding: { ...(rb.binding as NonNullable<Runbook['binding']>), triage: { causes: [] } },
    };
    const off: Runbook = { ...rb, binding: { ...(rb.binding as NonNullable<Runbook['binding']>), triage: false } };
    const using = (r: Runbook): TriageDeps['runbooks'] => ({ get: () => r, action: (x, id) => RUNBOOKS.action(x, id) });
    const n = world({ runbooks: using(noRules) });
    const none = await n.triage.onOpen(await n.open());
    expect(none.kind === 'done' && none.cause).toMatch(/^no cause rule fits these verdicts/);
    expect(text(n.updates[n.updates.length - 1].msg)).toContain('Likely cause:* none known');
    const o = world({ runbooks: using(off) });
    expect(await o.triage.onOpen(await o.open())).toEqual({ kind: 'none', why: 'the runbook has no triage steps' });
  });
});
