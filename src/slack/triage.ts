/**
 * Triage on open: when an incident opens on a configured host, the bot runs its runbook's triage steps (read actions
 * only) by itself and keeps one message in the thread current as each finishes, then names the likely cause and the
 * button it points to. Every step goes through runStep (host limits, leases, timeline) as a click does, recorded as
 * run by the bot. Bounded: one triage per incident (a store claim, across replicas), `triage.perHostPerMinute` per
 * host, and none past `triage.maxPerMinute` incidents a minute (a storm): those say so, with a button that runs it.
 * Triage steps on a host run one at a time in this process, so a person's click always finds a slot free (with the
 * default two per host) and never waits behind a storm's triage; and the steps of all triages together hold at most
 * half of the process's command slots (`limits.global.concurrency`), so a storm over many hosts cannot fill them
 * either. Its Slack traffic is low priority in the channel's pace (see run()).
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { judge, type Verdict } from '../actions/verdicts';
import type { Config } from '../config/schema';
import type { ClickWindow } from '../exec/click-window';
import { Slots } from '../exec/slots';
import type { AlertStateTracker } from '../incident/alert-state';
import { type RunStepDeps, runStep } from '../incident/run-step';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import type { Runbook } from '../runbook/types';
import { likelyCause } from '../triage/causes';
import { type TriagePlan, triagePlan } from '../triage/plan';
import { withDeadline } from '../with-deadline';
import { ActionId, actionIdPattern } from './action-ids';
import { renderTriageMessage, renderTriageSkipped, type TriageView } from './blocks/triage-message';
import type { IncidentPresenter } from './incident-presenter';
import { onClick } from './on-click';
import { resolveIncident } from './steps';

export interface TriageDeps {
  /** `limits.global.concurrency`: the triage's steps take at most half of the process's slots (see TriageService). */
  config: Pick<Config, 'triage' | 'mitigation'> & { limits: { global: { concurrency: number } } };
  store: Pick<IncidentStore, 'claimTriage' | 'appendTimeline' | 'get'>;
  runbooks: Pick<RunbookRegistry, 'get' | 'action'>;
  presenter: Pick<IncidentPresenter, 'reply' | 'replace' | 'refresh'>;
  runStepDeps: RunStepDeps;
  /** The per-minute windows (this process's, or Redis's shared by the replicas). */
  window: ClickWindow;
  /** True for the built-in catalog's actions. */
  inCatalog(actionId: string): boolean;
  /** Alertmanager's view of the alert (silenced, resolved); absent or not configured: not asked. */
  alertState?: Pick<AlertStateTracker, 'configured' | 'check'>;
  replicaId: string;
  logger: Logger;
  now: () => Date;
}

/** How a triage ended, for logs and tests. */
export type TriageOutcome =
  | { kind: 'none'; why: string }
  | { kind: 'skipped'; reason: string; messageTs?: string }
  | { kind: 'claimed-elsewhere' }
  | { kind: 'done'; messageTs: string; cause: string; action?: string; elapsedMs: number };

/** Key of the storm window: every incident with a triage counts, triaged or not. */
const STORM_KEY = 'triage:incidents';

export class TriageService {
  /** Per host, the chain of triage steps: one at a time in this process. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  /** Triages under way, so a test or a stop can wait for them. */
  private readonly running = new Set<Promise<unknown>>();
  /**
   * The triage's share of the process's command slots: half (at least one). The overall slots are first come, first
   * served, so without this share a storm's steps over many hosts could take them all and a click would wait.
   */
  private readonly slots: Slots;

  constructor(private readonly deps: TriageDeps) {
    this.slots = new Slots(triageSlots(deps.config.limits.global.concurrency));
  }

  /** The flow's hook: starts the triage in the background (never throws, never blocks the flow). */
  incidentOpened(incident: Incident): void {
    const p = this.onOpen(incident).catch((err: unknown) =>
      this.deps.logger.warn({ err, incidentId: incident.id }, 'triage failed'),
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Resolves when no triage is under way. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Decides whether an opened incident is triaged, and does it. */
  async onOpen(incident: Incident): Promise<TriageOutcome> {
    const { deps } = this;
    const settings = deps.config.triage;
    const log = deps.logger.child({ incidentId: incident.id, component: 'triage' });
    if (!settings.enabled) return { kind: 'none', why: 'triage.enabled is false' };
    const ready = this.readiness(incident);
    if ('why' in ready) return { kind: 'none', why: ready.why };
    const { runbook, plan } = ready;
    const at = deps.now();
    const skipReason = (await this.alertQuiet(incident)) ?? (await this.overBudget(incident, at));
    if (skipReason) {
      if (!(await deps.store.claimTriage(incident.id, { owner: deps.replicaId, at: at.toISOString(), state: 'skip' })))
        return { kind: 'claimed-elsewhere' };
      await deps.store.appendTimeline(incident.id, 'triage.skipped', 'bot', { reason: skipReason }, at.toISOString());
      log.info({ reason: skipReason }, 'triage skipped');
      // Low priority: in a storm these notices must not hold up the channel's other posts (a click's result).
      const messageTs = await deps.presenter.reply(incident, renderTriageSkipped(incident.id, skipReason), {
        low: true,
      });
      return { kind: 'skipped', reason: skipReason, messageTs };
    }
    if (!(await deps.store.claimTriage(incident.id, { owner: deps.replicaId, at: at.toISOString(), state: 'run' })))
      return { kind: 'claimed-elsewhere' };
    return this.run(incident, runbook, plan, 'bot');
  }

  /** A person clicked "Run triage" on a skipped one: runs it (once), updating that message. */
  async runAsked(incident: Incident, user: string, messageTs: string): Promise<TriageOutcome> {
    const ready = this.readiness(incident);
    if ('why' in ready) return { kind: 'none', why: ready.why };
    const at = this.deps.now().toISOString();
    const claimed = await this.deps.store.claimTriage(
      incident.id,
      { owner: this.deps.replicaId, at, state: 'run' },
      { afterSkip: true },
    );
    if (!claimed) return { kind: 'claimed-elsewhere' };
    return this.run(incident, ready.runbook, ready.plan, user, messageTs);
  }

  private readiness(incident: Incident): { runbook: Runbook; plan: TriagePlan } | { why: string } {
    if (incident.status !== 'open') return { why: 'the incident is resolved' };
    if (!incident.hostName) return { why: 'no configured host' };
    if (incident.alert.source === 'manual') return { why: 'opened by hand' };
    const runbook = this.deps.runbooks.get(incident.alertname);
    if (!runbook) return { why: 'no runbook' };
    const plan = triagePlan(runbook, {
      action: (rb, id) => this.deps.runbooks.action(rb, id),
      inCatalog: this.deps.inCatalog,
      // One trust for a binding's own commands: those the config's mitigation.readActions pins as read-only.
      readActions: Object.keys(this.deps.config.mitigation.readActions ?? {}),
    });
    if (!plan.steps.length) return { why: 'the runbook has no triage steps' };
    return { runbook, plan };
  }

  /** A silenced or resolved alert is not triaged: a silence the bot made, or Alertmanager's word (bounded wait). */
  private async alertQuiet(incident: Incident): Promise<string | undefined> {
    const now = this.deps.now().getTime();
    if ((incident.silences ?? []).some((s) => !s.expiredAt && Date.parse(s.endsAt) > now))
      return 'the alert is silenced';
    const tracker = this.deps.alertState;
    if (!tracker?.configured) return undefined;
    const answer = await withDeadline(
      tracker.check(incident).catch(() => undefined),
      this.deps.config.triage.alertStateWaitMs,
    );
    if (answer?.view.kind === 'silenced') return 'the alert is silenced in Alertmanager';
    if (answer?.view.kind === 'resolved') return 'Alertmanager says the alert is resolved';
    return undefined;
  }

  /** The storm and per-host budgets (sliding minutes, shared through Redis when the replicas share limits). */
  private async overBudget(incident: Incident, at: Date): Promise<string | undefined> {
    const { triage } = this.deps.config;
    const storm = await this.deps.window.take(STORM_KEY, Number.MAX_SAFE_INTEGER, at.getTime());
    const opened = storm.recent ?? 0;
    if (opened > triage.maxPerMinute)
      return `${opened} incidents this minute (triage.maxPerMinute ${triage.maxPerMinute})`;
    const host = await this.deps.window.take(`triage:host:${incident.hostName}`, triage.perHostPerMinute, at.getTime());
    if (!host.accepted)
      return `${host.recent} triages on ${incident.hostName} this minute (triage.perHostPerMinute ${triage.perHostPerMinute})`;
    return undefined;
  }

  private async run(
    incident: Incident,
    runbook: Runbook,
    plan: TriagePlan,
    by: string,
    messageTs?: string,
  ): Promise<TriageOutcome> {
    const { deps } = this;
    const started = Date.now();
    const hostName = incident.hostName as string;
    const view: TriageView = {
      incidentId: incident.id,
      hostName,
      by,
      steps: plan.steps.map(({ step, action }) => ({ step, action, view: { state: 'pending' } })),
      left: plan.left,
    };
    await deps.store.appendTimeline(incident.id, 'triage.started', by, {
      steps: plan.steps.map((s) => s.step.id),
      automated: by === 'bot',
    });
    // The triage's post, its edits and the incident message's refreshes are the bot's background work: low priority
    // in the channel's pace (a person's click result goes first), and waiting edits of one message collapse into the
    // newest. A storm's triages then neither hold up a click's result nor flood Slack with edits (chat.update is rate
    // limited too, and a 429 pauses every call of the client).
    let ts = messageTs;
    if (ts) await deps.presenter.replace(incident, ts, renderTriageMessage(view));
    else ts = await deps.presenter.reply(incident, () => renderTriageMessage(view), { low: true });
    const shown = ts;
    const update = coalesce(
      () => deps.presenter.replace(incident, shown, () => renderTriageMessage(view), { low: true }),
      deps.logger,
    );
    const verdicts: Record<string, Verdict | undefined> = {};
    await Promise.all(
      view.steps.map((s) =>
        this.inLane(hostName, async () => {
          s.view = { state: 'running' };
          void update();
          const current = (await deps.store.get(incident.id)) ?? incident;
          const outcome = await this.slots.run(() =>
            runStep(deps.runStepDeps, {
              incident: current,
              step: s.step,
              action: s.action,
              user: by,
              automated: true,
              details: { triage: true },
            }),
          );
          if (outcome.kind === 'ran' && s.action.verdicts) {
            const r = outcome.result;
            const v = judge(
              s.action.verdicts,
              { exitCode: r.exitCode, timedOut: r.timedOut, stdout: r.stdout.text },
              incident.alert.labels,
            );
            verdicts[s.action.id] = v;
            s.view = { state: 'judged', verdict: { level: v.level, text: v.text }, durationMs: r.durationMs };
          } else if (outcome.kind === 'ran') {
            const ok = outcome.result.exitCode === 0 && !outcome.result.timedOut;
            s.view = { state: 'plain', ok, text: ok ? 'ran (no verdict rules)' : `exit ${outcome.result.exitCode}` };
          } else {
            s.view = { state: 'plain', ok: false, text: `could not run: ${outcome.error.message}` };
          }
          void update();
          void deps.presenter.refresh(incident.id, { low: true });
        }),
      ),
    );
    const cause = likelyCause(runbook.binding?.triage ? (runbook.binding.triage.causes ?? []) : [], verdicts);
    const buttonStep = cause.action
      ? runbook.steps.find((st) => st.actions.includes(cause.action as string))
      : undefined;
    const buttonAction = cause.action ? deps.runbooks.action(runbook, cause.action) : undefined;
    const elapsedMs = Date.now() - started;
    view.done = {
      cause,
      elapsedMs,
      ...(buttonStep && buttonAction ? { button: { step: buttonStep, action: buttonAction } } : {}),
    };
    // The timeline first: the final edit may wait for the channel's pace (low priority), and whoever reads the cause
    // in the thread must find it on the timeline too.
    await deps.store.appendTimeline(incident.id, 'triage.finished', by, {
      cause: cause.rule ? cause.text : null,
      action: cause.action ?? null,
      durationMs: elapsedMs,
      verdicts: Object.fromEntries(Object.entries(verdicts).map(([k, v]) => [k, v?.level])),
    });
    await update();
    deps.logger.info({ incidentId: incident.id, elapsedMs, cause: cause.text }, 'triage finished');
    return {
      kind: 'done',
      messageTs: shown,
      cause: cause.text,
      ...(cause.action ? { action: cause.action } : {}),
      elapsedMs,
    };
  }

  /** Runs `fn` after the host's earlier triage steps in this process. */
  private inLane<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(host) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.lanes.set(host, settled);
    void settled.then(() => {
      if (this.lanes.get(host) === settled) this.lanes.delete(host);
    });
    return next;
  }
}

/** How many triage steps may run at once in a process with `global` command slots: half, at least one. */
export function triageSlots(global: number): number {
  return Math.max(1, Math.floor(global / 2));
}

/** Calls `send` for the latest state: calls while one is in flight collapse into one more. */
function coalesce(send: () => Promise<unknown>, logger: Logger): () => Promise<void> {
  let inflight: Promise<void> | undefined;
  let again = false;
  const loop = async (): Promise<void> => {
    do {
      again = false;
      await send().catch((err: unknown) => logger.warn({ err }, 'could not update the triage message'));
    } while (again);
  };
  return () => {
    if (inflight) {
      again = true;
      return inflight;
    }
    inflight = loop().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}

/** Registers the "Run triage" button of a skipped triage. */
export function registerTriage(
  app: App,
  deps: {
    triage: TriageService;
    store: Pick<IncidentStore, 'get'>;
    logger: Logger;
  },
): void {
  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.RunTriage),
    onClick(deps, async ({ body, action, user, log }) => {
      const incident = await resolveIncident(deps, action.value, body.channel?.id);
      const ts = body.message?.ts;
      if (!ts) return;
      const outcome = await deps.triage.runAsked(incident, user, ts);
      if (outcome.kind === 'claimed-elsewhere')
        log.info({ incidentId: incident.id }, 'triage already run or running: click ignored');
    }),
  );
}
