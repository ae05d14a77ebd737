/**
 * The mitigation service, every guard and every outcome, with the recording executor, an in-memory store and a fake
 * clock (#15): the safety rules tested where they live, without the loopback hosts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import type { ActionSpec } from '../../../src/actions/types';
import { parseConfigText } from '../../../src/config/load-config';
import type { Config, HostConfig } from '../../../src/config/schema';
import { PilotError } from '../../../src/errors';
import { MemoryEventClaims } from '../../../src/incident/event-claims';
import { type RunStepDeps, runActionQuietly, runStep } from '../../../src/incident/run-step';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import { AccessPolicy } from '../../../src/mitigation/access';
import { hostLockName } from '../../../src/mitigation/host-lock';
import {
  type MitigationOutcome,
  MitigationService,
  type MitigationServiceDeps,
  type MitigationSubmission,
  type PrepareOutcome,
} from '../../../src/mitigation/mitigation-service';
import type { HostSnapshot } from '../../../src/mitigation/verify';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook, Step } from '../../../src/runbook/types';
import { firingAlert } from '../../support/domain-fixtures';
import { type RecordedAnswer, RecordingExecutor } from '../../support/fakes';

const REPO = join(__dirname, '../../..');
const config = parseConfigText(readFileSync(join(REPO, 'config.example.yml'), 'utf8'), 'config.example.yml', {
  env: { ALERTMANAGER_TOKEN: 'example-token' },
});
const registry = loadRunbooks(join(REPO, 'runbooks'), builtinActions);
const runbook = registry.get('HaproxyServerDown') as Runbook;
const ONCALL = 'U0123ONCALL';
const SRE_MEMBER = 'U0SREMEMBER';
const INTERN = 'U0INTERN01';
const START = Date.parse('2026-11-25T03:20:00.000Z');
/** A second load balancer with lb-1's paths: its commands are the same text as lb-1's. */
const LB2: HostConfig = { ...config.hosts[0], name: 'lb-2', match: { instance: ['lb-2:9101'] } };

function stepWith(actionId: string): { step: Step; action: ActionSpec } {
  const step = runbook.steps.find((s) => s.actions.includes(actionId)) as Step;
  return { step, action: registry.action(runbook, actionId) as ActionSpec };
}

const snapshot = (pid: number, uptimeSec: number, adminState = 'READY'): HostSnapshot => ({
  answered: true,
  pid,
  uptimeSec,
  frontends: [{ name: 'fe', status: 'OPEN' }],
  servers: [{ backend: 'web', server: 'web2', status: adminState === 'DRAIN' ? 'DRAIN' : 'DOWN', adminState }],
});

interface World {
  service: MitigationService;
  store: SqliteIncidentStore;
  executor: RecordingExecutor;
  incident: Incident;
  clock: { t: number };
  sleeps: number[];
  lockCalls: string[];
  readBacks: HostSnapshot[];
  alertActive?: boolean;
}

/** A service over an in-memory store with one open incident on lb-1, and hooks to script each part. */
async function world(
  opts: {
    settings?: Partial<Config['mitigation']>;
    answer?: RecordedAnswer;
    groups?: (id: string) => Promise<string[]>;
    alertActive?: boolean;
    /** Runs just before the decision's transaction (after the early checks): another replica acting in between. */
    beforeDecide?: () => void | Promise<void>;
    runStep?: MitigationServiceDeps['runStep'];
    submissions?: MitigationServiceDeps['submissions'];
    extraHosts?: HostConfig[];
  } = {},
): Promise<World> {
  const store = new SqliteIncidentStore(':memory:');
  const clock = { t: START };
  const now = () => new Date(clock.t);
  const executor = new RecordingExecutor(opts.answer);
  const hosts: HostConfig[] = [...config.hosts, ...(opts.extraHosts ?? [])];
  const { incident } = await store.openOrGet({
    alert: firingAlert(),
    hostName: 'lb-1',
    channel: 'C0123ALERTS',
    threadTs: '1700000000.000100',
    at: now().toISOString(),
  });
  const runStepDeps: RunStepDeps = {
    store,
    executor,
    scheduler: { schedule: (_key, fn) => fn() },
    hosts,
    buildCommand,
    toSshTarget: (h) => ({ name: h.name, ...h.ssh }),
    now,
    logger: createLogger('silent'),
  };
  const w: World = {
    service: undefined as never,
    store,
    executor,
    incident,
    clock,
    sleeps: [],
    lockCalls: [],
    readBacks: [snapshot(100, 5000), snapshot(200, 1)],
    alertActive: opts.alertActive,
  };
  // The decision's transaction runs on the real store; its lock calls are recorded.
  const recording = (tx: Pick<SqliteIncidentStore, 'audits' | 'acquireLock' | 'releaseLock'>) => ({
    audits: (f: Parameters<SqliteIncidentStore['audits']>[0]) => tx.audits(f),
    acquireLock: async (...a: Parameters<SqliteIncidentStore['acquireLock']>) => {
      w.lockCalls.push(`acquire ${a[0]}`);
      return tx.acquireLock(...a);
    },
    releaseLock: (name: string, owner: string) => {
      w.lockCalls.push(`release ${name}`);
      return tx.releaseLock(name, owner);
    },
  });
  const lockStore = {
    get: (id: number) => store.get(id),
    appendAudit: (r: Parameters<SqliteIncidentStore['appendAudit']>[0]) => store.appendAudit(r),
    appendTimeline: (...a: Parameters<SqliteIncidentStore['appendTimeline']>) => store.appendTimeline(...a),
    ...recording(store),
    transaction: async <T>(fn: (tx: ReturnType<typeof recording>) => Promise<T>, o: { lockKey: string }) => {
      w.lockCalls.push(`decide ${o.lockKey}`);
      await opts.beforeDecide?.();
      return store.transaction((tx) => fn(recording(tx)), o);
    },
  };
  const deps: MitigationServiceDeps = {
    store: lockStore,
    access: new AccessPolicy(config.access, opts.groups ?? (async () => [SRE_MEMBER]), () => new Date(clock.t)),
    hosts,
    settings: { ...config.mitigation, verifyDelayMs: 1500, ...opts.settings },
    buildCommand,
    precheckAction: registry.action(undefined, 'config-check'),
    runQuietly: (host, action, built, user) => runActionQuietly(runStepDeps, host, action, {}, user, built),
    runStep: opts.runStep ?? ((req, progress) => runStep(runStepDeps, req, progress)),
    readBack: async () => {
      clock.t += 50;
      return w.readBacks.shift() ?? { answered: false, error: 'no answer', frontends: [], servers: [] };
    },
    alertActive: async () => w.alertActive,
    submissions: opts.submissions,
    now,
    sleep: async (ms) => {
      w.sleeps.push(ms);
      clock.t += ms;
    },
  };
  w.service = new MitigationService(deps);
  return w;
}

/** A submission of the modal the on-call user was shown for `actionId` (its digest from the plan made now). */
async function submission(
  w: World,
  actionId: string,
  over: Partial<MitigationSubmission> = {},
): Promise<MitigationSubmission> {
  const shown = await w.service.plan({ incident: w.incident, ...stepWith(actionId), user: ONCALL });
  return {
    incident: w.incident,
    ...stepWith(actionId),
    user: ONCALL,
    reason: 'web2 keeps flapping',
    dryRun: false,
    resolvedAck: false,
    shownDigest: shown.kind === 'plan' ? shown.digest : 'no plan',
    ...over,
  };
}

const restartCommands = (w: World) => w.executor.commands.filter((c) => c.includes('haproxy -f "$C" -D'));
const refusedCode = (o: MitigationOutcome | PrepareOutcome) =>
  o.kind === 'refused' ? o.code : `not refused: ${o.kind}`;
const audits = (w: World) => w.store.audits({ host: 'lb-1' });
const minutesAgo = (w: World, m: number) => new Date(w.clock.t - m * 60_000).toISOString();
const pastRestart = (w: World, m: number, outcome: 'ok' | 'failed' = 'ok') =>
  w.store.appendAudit({
    at: minutesAgo(w, m),
    incidentId: w.incident.id,
    user: SRE_MEMBER,
    host: 'lb-1',
    actionId: 'restart',
    outcome,
    exitCode: outcome === 'ok' ? 0 : 1,
  });

describe('MitigationService.prepare (the click)', () => {
  it('gives the exact commands (pre-check first for a restart) and the alert state for the confirmation', async () => {
    const w = await world({ alertActive: false });
    const out = await w.service.prepare({ incident: w.incident, ...stepWith('restart'), user: ONCALL });
    expect(out).toMatchObject({ kind: 'plan', host: { name: 'lb-1' }, alertActive: false, dryRunOnly: false });
    if (out.kind !== 'plan') throw new Error('not confirm');
    expect(out.commands.precheck?.actionId).toBe('config-check');
    expect(out.commands.action.command).toContain('-st');
    const drain = await w.service.prepare({ incident: w.incident, ...stepWith('drain'), user: ONCALL });
    expect(drain.kind === 'plan' && drain.commands.precheck).toBeUndefined();
    expect(w.executor.calls).toEqual([]);
    expect(await audits(w)).toEqual([]);
  });

  it('refuses someone without access: the grantees as data, recorded without markup and without a reason', async () => {
    const w = await world();
    const out = await w.service.prepare({ incident: w.incident, ...stepWith('restart'), user: INTERN });
    expect(refusedCode(out)).toBe('NOT_ALLOWED');
    expect(out.kind === 'refused' && out.error.details).toMatchObject({
      host: 'lb-1',
      grantees: ['U0123ONCALL', 'S0123SRE'],
    });
    const [audit] = await audits(w);
    expect(audit).toMatchObject({
      user: INTERN,
      outcome: 'refused',
      details: { code: 'NOT_ALLOWED', grantees: ['U0123ONCALL', 'S0123SRE'] },
    });
    expect(audit.reason).toBeUndefined();
    expect(JSON.stringify([await audits(w), await w.store.timeline(w.incident.id)])).not.toMatch(/<[@!]/);
  });

  it('refuses when the user group cannot be read (fails closed)', async () => {
    const w = await world({ groups: async () => Promise.reject(new Error('missing_scope')) });
    const out = await w.service.prepare({ incident: w.incident, ...stepWith('restart'), user: INTERN });
    expect(refusedCode(out)).toBe('NOT_ALLOWED');
  });

  it('refuses a step whose action needs a label the alert message did not carry', async () => {
    const w = await world();
    const { server: _server, ...labels } = w.incident.alert.labels;
    const lacking = { ...w.incident, alert: { ...w.incident.alert, labels, missingLabels: ['server'] } };
    const out = await w.service.prepare({ incident: lacking, ...stepWith('drain'), user: ONCALL });
    expect(refusedCode(out)).toBe('LABELS_MISSING');
    expect(out.kind === 'refused' && out.error.details).toEqual({ labels: ['server'] });
  });

  it('refuses on a resolved incident and on a host not configured', async () => {
    const w = await world();
    const resolved = await w.service.prepare({
      incident: { ...w.incident, status: 'resolved' },
      ...stepWith('restart'),
      user: ONCALL,
    });
    expect(refusedCode(resolved)).toBe('INCIDENT_CLOSED');
    const nowhere = await w.service.prepare({
      incident: { ...w.incident, hostName: 'lb-9' },
      ...stepWith('restart'),
      user: ONCALL,
    });
    expect(refusedCode(nowhere)).toBe('HOST_NOT_CONFIGURED');
    expect((await w.store.audits()).map((a) => [a.host, a.details?.code])).toEqual([
      ['lb-1', 'INCIDENT_CLOSED'],
      ['lb-9', 'HOST_NOT_CONFIGURED'],
    ]);
  });
});

describe('MitigationService.confirm (the submission)', () => {
  it('runs a confirmed restart once: pre-check, run, read back after the delay, verified, recorded', async () => {
    const w = await world();
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(out).toMatchObject({ kind: 'ran', host: 'lb-1', verification: { verified: true } });
    expect(w.executor.commands[0]).toContain('haproxy -c -f');
    expect(restartCommands(w)).toHaveLength(1);
    expect(w.sleeps).toEqual([1500]);
    expect(await audits(w)).toEqual([
      expect.objectContaining({
        user: ONCALL,
        actionId: 'restart',
        outcome: 'ok',
        exitCode: 0,
        reason: 'web2 keeps flapping',
        verification: expect.stringMatching(/^verified/),
      }),
    ]);
    expect((await w.store.timeline(w.incident.id)).map((e) => e.type)).toEqual([
      'mitigation.confirmed',
      'step.clicked',
      'step.started',
      'step.finished',
      'mitigation.verified',
    ]);
    expect(w.lockCalls).toEqual(['decide mitigation:lb-1', 'acquire mitigation:lb-1', 'release mitigation:lb-1']);
  });

  it('says "not verified" when the read-back shows the same process', async () => {
    const w = await world();
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002)];
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(out).toMatchObject({ kind: 'ran', verification: { verified: false } });
    expect((await w.store.timeline(w.incident.id)).map((e) => e.type)).toContain('mitigation.not-verified');
  });

  it('verifies a drain by the server admin state, with no pre-check', async () => {
    const w = await world();
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002, 'DRAIN')];
    const out = await w.service.confirm(await submission(w, 'drain'));
    expect(out).toMatchObject({ kind: 'ran', verification: { verified: true } });
    expect(w.executor.commands.some((c) => c.includes('haproxy -c -f'))).toBe(false);
  });

  it('shows the commands of a dry run (asked, or the bot in dry-run mode) and runs nothing', async () => {
    for (const [w, asked] of [
      [await world(), true],
      [await world({ settings: { dryRun: true } }), false],
    ] as const) {
      const out = await w.service.confirm(await submission(w, 'restart', { dryRun: asked }));
      expect(out).toEqual({
        kind: 'dry-run',
        host: 'lb-1',
        commands: {
          precheck: expect.objectContaining({ actionId: 'config-check' }),
          action: expect.objectContaining({ actionId: 'restart' }),
        },
      });
      expect(w.executor.calls).toEqual([]);
      expect(w.lockCalls).toEqual([]);
      expect(await audits(w)).toEqual([
        expect.objectContaining({
          outcome: 'dry-run',
          reason: 'web2 keeps flapping',
          command: expect.stringContaining('-st'),
        }),
      ]);
    }
  });

  it('runs only what the confirmation showed: a different digest is refused, the same one runs', async () => {
    const w = await world();
    const prepared = await w.service.prepare({ incident: w.incident, ...stepWith('drain'), user: ONCALL });
    if (prepared.kind !== 'plan') throw new Error('not confirm');
    const stale = await w.service.confirm(await submission(w, 'drain', { shownDigest: 'digest-of-other-commands' }));
    expect(refusedCode(stale)).toBe('CONFIRMATION_CHANGED');
    expect(w.executor.calls).toEqual([]);
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002, 'DRAIN')];
    const same = await w.service.confirm(await submission(w, 'drain', { shownDigest: prepared.digest }));
    expect(same.kind).toBe('ran');
  });

  it("runs the very command object the plan built and the modal showed, on the plan's host (#19 §7)", async () => {
    const seen: Array<NonNullable<Parameters<MitigationServiceDeps['runStep']>[0]['planned']>> = [];
    let w: World | undefined;
    w = await world({
      runStep: async (req) => {
        if (req.planned) seen.push(req.planned);
        return runStep(
          {
            store: (w as World).store,
            executor: (w as World).executor,
            scheduler: { schedule: (_key, fn) => fn() },
            hosts: config.hosts,
            // the runner must not build again: a build here is a failure
            buildCommand: () => {
              throw new Error('built again');
            },
            toSshTarget: (h) => ({ name: h.name, ...h.ssh }),
            now: () => new Date((w as World).clock.t),
            logger: createLogger('silent'),
          },
          req,
        );
      },
    });
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002, 'DRAIN')];
    const out = await w.service.confirm(await submission(w, 'drain'));
    expect(out.kind).toBe('ran');
    expect(seen).toHaveLength(1);
    expect(seen[0].host.name).toBe('lb-1');
    expect(w.executor.commands).toEqual([seen[0].built.command]);
  });

  it('refuses a submission whose incident or host is not the one the modal showed, running nothing (#19 §7)', async () => {
    // lb-2 has the same paths as lb-1, so its drain command is the same text: only the incident and host differ
    const w = await world({ extraHosts: [LB2] });
    const shownForLb1 = await submission(w, 'drain');
    const { incident: onLb2 } = await w.store.openOrGet({
      alert: firingAlert({ fingerprint: 'fp-lb2', labels: { ...firingAlert().labels, instance: 'lb-2:9101' } }),
      hostName: 'lb-2',
      channel: 'C0123ALERTS',
      threadTs: '1700000000.000200',
      at: new Date(w.clock.t).toISOString(),
    });
    const lb2Plan = await w.service.plan({ incident: onLb2, ...stepWith('drain'), user: ONCALL });
    const lb1Plan = await w.service.plan({ incident: w.incident, ...stepWith('drain'), user: ONCALL });
    if (lb2Plan.kind !== 'plan' || lb1Plan.kind !== 'plan') throw new Error('not planned');
    expect(lb2Plan.commands.action.command).toBe(lb1Plan.commands.action.command);

    const otherIncident = await w.service.confirm({ ...shownForLb1, incident: onLb2 });
    expect(refusedCode(otherIncident)).toBe('CONFIRMATION_CHANGED');
    const otherHost = await w.service.confirm({ ...shownForLb1, host: 'lb-2' });
    expect(refusedCode(otherHost)).toBe('CONFIRMATION_CHANGED');
    expect(w.executor.calls).toEqual([]);
    expect((await w.store.audits()).map((a) => [a.host, a.incidentId, a.outcome, a.details?.code])).toEqual([
      ['lb-2', onLb2.id, 'refused', 'CONFIRMATION_CHANGED'],
      ['lb-1', w.incident.id, 'refused', 'CONFIRMATION_CHANGED'],
    ]);
  });

  it('runs a submitted view once: the same view id and hash again is refused and recorded (#19 §7)', async () => {
    const claims = new MemoryEventClaims();
    const w = await world({ submissions: claims });
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002, 'DRAIN')];
    const sub = { ...(await submission(w, 'drain')), view: { id: 'V0CONFIRM1', hash: '1764990000.a1b2c3d4' } };
    const first = await w.service.confirm(sub);
    expect(first.kind).toBe('ran');
    const replay = await w.service.confirm(sub);
    expect(refusedCode(replay)).toBe('CONFIRMATION_REPLAYED');
    expect(w.executor.calls).toHaveLength(1);
    expect((await audits(w)).map((a) => [a.outcome, a.details?.code])).toEqual([
      ['ok', undefined],
      ['refused', 'CONFIRMATION_REPLAYED'],
    ]);
    // another view (a new click, a new modal) runs again
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002, 'DRAIN')];
    const next = await w.service.confirm({ ...sub, view: { id: 'V0CONFIRM2', hash: '1764990060.e5f6a7b8' } });
    expect(next.kind).toBe('ran');
  });

  it('tells its observer each phase, in order, and calls nothing up into Slack (#20 §2)', async () => {
    const w = await world();
    const told: string[] = [];
    const out = await w.service.confirm(await submission(w, 'restart'), {
      queued: (ahead) => told.push(`queued ${ahead}`),
      started: (built) => told.push(`started ${built.actionId}`),
      ran: (o) => told.push(`ran ${o.kind} exit ${o.kind === 'ran' ? o.result.exitCode : '-'}`),
      verifying: () => told.push(`verifying after ${w.sleeps.length} sleeps`),
    });
    expect(out.kind).toBe('ran');
    expect(told).toEqual(['started restart', 'ran ran exit 0', 'verifying after 0 sleeps']);
  });

  it('tells no "verifying" when the command failed (nothing is read back), and nothing when refused', async () => {
    const w = await world({ answer: (cmd) => (cmd.includes('state drain') ? { exitCode: 1 } : {}) });
    const told: string[] = [];
    const observer = { ran: () => told.push('ran'), verifying: () => told.push('verifying') };
    expect((await w.service.confirm(await submission(w, 'drain'), observer)).kind).toBe('failed');
    expect(told).toEqual(['ran']);
    // a refusal runs nothing and tells nothing
    const refused = await w.service.confirm(await submission(w, 'drain', { user: INTERN }), observer);
    expect(refused.kind).toBe('refused');
    expect(told).toEqual(['ran']);
  });

  it('asks Alertmanager again: a resolved alert needs the second confirmation', async () => {
    const w = await world({ alertActive: false });
    expect(refusedCode(await w.service.confirm(await submission(w, 'drain')))).toBe('ALERT_RESOLVED');
    expect(w.executor.calls).toEqual([]);
    w.readBacks = [snapshot(100, 5000), snapshot(100, 5002, 'DRAIN')];
    expect((await w.service.confirm(await submission(w, 'drain', { resolvedAck: true }))).kind).toBe('ran');
  });

  it('checks access again on submission, and keeps the typed reason of the refusal', async () => {
    const w = await world();
    const out = await w.service.confirm(await submission(w, 'restart', { user: INTERN }));
    expect(refusedCode(out)).toBe('NOT_ALLOWED');
    expect(await audits(w)).toEqual([
      expect.objectContaining({ user: INTERN, outcome: 'refused', reason: 'web2 keeps flapping' }),
    ]);
    expect(w.executor.calls).toEqual([]);
  });

  it('refuses in the cooldown before taking the lock, and says the last attempt failed when it did', async () => {
    const w = await world();
    await pastRestart(w, 2, 'failed');
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(refusedCode(out)).toBe('COOLDOWN');
    expect(out.kind === 'refused' && out.error.details).toMatchObject({
      lastOutcome: 'failed',
      waitSec: 180,
      lastUser: SRE_MEMBER,
    });
    expect(w.lockCalls).toEqual([]);
    expect(w.executor.calls).toEqual([]);
    expect((await audits(w)).at(-1)).toMatchObject({
      outcome: 'refused',
      reason: 'web2 keeps flapping',
      command: expect.stringContaining('-st'),
    });
  });

  it('holds a cooldown longer than an hour', async () => {
    const w = await world({ settings: { cooldownSec: 4 * 3600 } });
    await pastRestart(w, 3 * 60);
    expect(refusedCode(await w.service.confirm(await submission(w, 'restart')))).toBe('COOLDOWN');
    w.clock.t += 61 * 60_000;
    expect((await w.service.confirm(await submission(w, 'restart'))).kind).toBe('ran');
  });

  it('refuses past the hourly budget', async () => {
    const w = await world({ settings: { cooldownSec: 60, maxRestartsPerHour: 2 } });
    await pastRestart(w, 40);
    await pastRestart(w, 20, 'failed');
    expect(refusedCode(await w.service.confirm(await submission(w, 'restart')))).toBe('RESTART_BUDGET');
  });

  it('two submissions in the cooldown are both told the cooldown, never "another mitigation is running"', async () => {
    const w = await world();
    await pastRestart(w, 1);
    const outs = await Promise.all([
      w.service.confirm(await submission(w, 'restart')),
      w.service.confirm(await submission(w, 'restart', { reason: 'me too' })),
    ]);
    expect(outs.map(refusedCode)).toEqual(['COOLDOWN', 'COOLDOWN']);
  });

  it('refuses while another mitigation holds the host, naming the holder as a typed record', async () => {
    const w = await world();
    await w.store.acquireLock(
      hostLockName('lb-1'),
      JSON.stringify({ user: SRE_MEMBER, actionId: 'drain', incidentId: 3, since: minutesAgo(w, 1) }),
      600_000,
      new Date(w.clock.t),
    );
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(refusedCode(out)).toBe('HOST_BUSY');
    expect(out.kind === 'refused' && out.error.details).toMatchObject({
      holder: { user: SRE_MEMBER, actionId: 'drain', incidentId: 3 },
    });
    expect(w.executor.calls).toEqual([]);
  });

  it('checks the cooldown again under the lock (another replica finished a restart in between) and releases it', async () => {
    let w: World | undefined;
    w = await world({ beforeDecide: async () => void (await pastRestart(w as World, 0)) });
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(refusedCode(out)).toBe('COOLDOWN');
    expect(restartCommands(w)).toEqual([]);
    expect(w.lockCalls).toEqual(['decide mitigation:lb-1', 'acquire mitigation:lb-1', 'release mitigation:lb-1']);
  });

  it('refuses when the pre-check fails, with its output, and runs nothing else', async () => {
    const w = await world({
      answer: (cmd) =>
        cmd.includes('haproxy -c -f')
          ? { exitCode: 1, stdout: { text: "[ALERT] parsing: unknown keyword 'bogus'", bytes: 40, truncatedBytes: 0 } }
          : {},
    });
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(refusedCode(out)).toBe('PRECHECK_FAILED');
    expect(out.kind === 'refused' && out.precheck).toMatchObject({
      exitCode: 1,
      output: expect.stringContaining('bogus'),
    });
    expect(w.executor.calls).toHaveLength(1);
    expect(w.lockCalls).toEqual(['decide mitigation:lb-1', 'acquire mitigation:lb-1', 'release mitigation:lb-1']);
  });

  it('refuses when the pre-check cannot reach the host', async () => {
    const w = await world({
      answer: () => Promise.reject(new PilotError('SSH_UNREACHABLE', 'lb-1 did not answer on port 22')),
    });
    expect(refusedCode(await w.service.confirm(await submission(w, 'restart')))).toBe('SSH_UNREACHABLE');
    expect(await audits(w)).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        reason: 'web2 keeps flapping',
        details: expect.objectContaining({ code: 'SSH_UNREACHABLE' }),
      }),
    ]);
  });

  it('reports a restart that exits non-zero as failed, not verified, and cools down after it', async () => {
    const w = await world({
      answer: (cmd) =>
        cmd.includes('-st') ? { exitCode: 1, stdout: { text: 'stale pid file', bytes: 14, truncatedBytes: 0 } } : {},
    });
    const out = await w.service.confirm(await submission(w, 'restart'));
    expect(out).toEqual({
      kind: 'failed',
      host: 'lb-1',
      command: expect.stringContaining('-st'),
      exitCode: 1,
      timedOut: false,
    });
    expect(await audits(w)).toEqual([
      expect.objectContaining({ outcome: 'failed', exitCode: 1, reason: 'web2 keeps flapping' }),
    ]);
    expect(w.sleeps).toEqual([]);
    const again = await w.service.confirm(await submission(w, 'restart'));
    expect(refusedCode(again)).toBe('COOLDOWN');
    expect(again.kind === 'refused' && again.error.details).toMatchObject({ lastOutcome: 'failed' });
    expect(w.lockCalls).toEqual(['decide mitigation:lb-1', 'acquire mitigation:lb-1', 'release mitigation:lb-1']);
  });

  it('reports a run the step runner could not start (a limit) as failed with its error, recorded as refused', async () => {
    const w = await world({
      runStep: async () => ({ kind: 'refused', error: new PilotError('RATE_LIMITED', 'too many clicks') }),
    });
    const out = await w.service.confirm(await submission(w, 'drain'));
    expect(out).toMatchObject({ kind: 'failed', error: { code: 'RATE_LIMITED' } });
    expect(await audits(w)).toEqual([
      expect.objectContaining({ outcome: 'refused', details: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
  });

  it('records every refusal as plain facts: no Slack markup in the audit log or on the timeline', async () => {
    const w = await world({ alertActive: false });
    await pastRestart(w, 1);
    await w.store.acquireLock(
      hostLockName('lb-1'),
      JSON.stringify({ user: SRE_MEMBER, actionId: 'drain', incidentId: 3, since: minutesAgo(w, 1) }),
      600_000,
      new Date(w.clock.t),
    );
    await w.service.confirm(await submission(w, 'restart', { user: INTERN }));
    await w.service.confirm(await submission(w, 'restart'));
    await w.service.confirm(await submission(w, 'restart', { resolvedAck: true }));
    await w.service.confirm(await submission(w, 'drain', { resolvedAck: true }));
    expect((await audits(w)).map((a) => a.details?.code)).toEqual([
      undefined,
      'NOT_ALLOWED',
      'ALERT_RESOLVED',
      'COOLDOWN',
      'HOST_BUSY',
    ]);
    expect(JSON.stringify([await audits(w), await w.store.timeline(w.incident.id)])).not.toMatch(/<[@!#]/);
  });
});
