/**
 * Step buttons: ack at once, then look everything up in our own store (never trusting the button), run the step
 * under the host's limits and answer in the thread. Checklist buttons record who did the step and when.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { renderBackendState } from '../actions/render-backend-table';
import type { ActionSpec } from '../actions/types';
import { PilotError } from '../errors';
import {
  type RunStepDeps,
  type RunStepOutcome,
  type RunStepProgress,
  type RunStepRequest,
  runStep,
  type StepScheduler,
} from '../incident/run-step';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { MitigationRequest } from '../mitigation/mitigation-service';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import type { Runbook, Step } from '../runbook/types';
import { ActionId, actionIdPattern, decodeStepValue, parseRunStepActionId } from './action-ids';
import type { SlackMessage } from './blocks/incident-message';
import {
  type RenderedResult,
  renderQueued,
  renderRunning,
  renderStepResult,
  type StepView,
} from './blocks/step-result';
import type { IncidentPresenter } from './incident-presenter';
import { onClick } from './on-click';
import { RUNNING_NOTICE_DELAY_MS, StepReply } from './step-reply';
import { postRunbookSteps, postTimeline, type TimelineDeps } from './timeline';

/** What running a step and showing it in the thread needs (runAndReport). */
export interface StepRunnerDeps {
  presenter: Pick<IncidentPresenter, 'reply' | 'replace' | 'refresh' | 'upload'>;
  runStepDeps: RunStepDeps;
  metrics?: Pick<Metrics, 'actions' | 'actionDuration'>;
  logger: Logger;
  /** Turns raw output into a readable form for actions that have a renderer (e.g. the backend table). */
  formatOutput(action: ActionSpec, stdout: string, labels: Record<string, string>): string | undefined;
  /** How long a step runs before the thread says "running …" (default RUNNING_NOTICE_DELAY_MS). */
  runningNoticeDelayMs?: number;
}

/** Runs a step and shows it in the thread: runAndReport, given its deps once. */
export type ReportedStepRunner = (req: RunStepRequest) => Promise<RunStepOutcome>;

/** A mitigation asked for in Slack (a button or `/incident run`), for the mitigation feature to confirm. */
export type MitigationAsk = MitigationRequest & { triggerId: string; client: WebClient };

/** Where a click's incident, step and action are looked up (our own state, never the button's word). */
export interface ClickLookupDeps {
  store: Pick<IncidentStore, 'get'>;
  runbooks: Pick<RunbookRegistry, 'get' | 'action'>;
}

/** What the step, checklist, timeline and refresh buttons need. */
export interface StepFeatureDeps extends ClickLookupDeps, TimelineDeps {
  store: Pick<IncidentStore, 'get' | 'setStep' | 'appendTimeline' | 'timeline'>;
  presenter: Pick<IncidentPresenter, 'refresh' | 'reply' | 'upload'>;
  scheduler: Pick<StepScheduler, 'countClick'>;
  logger: Logger;
  now: () => Date;
  runAndReport: ReportedStepRunner;
  /** Mitigation (risk `change`) goes through confirmation and guards; without it, such a click is refused. */
  requestMitigation?(req: MitigationAsk): Promise<void>;
}

/** A validated click: the incident, runbook, step and action exist, and belong together. */
export interface ResolvedClick {
  incident: Incident;
  runbook: Runbook;
  step: Step;
  action?: ActionSpec;
}

/** Looks up a click in our own state. Throws a user-facing PilotError when anything does not match. */
export async function resolveClick(
  deps: ClickLookupDeps,
  value: unknown,
  channel: string | undefined,
  wantAction: boolean,
): Promise<ResolvedClick> {
  const v = decodeStepValue(value);
  if (!v) throw new PilotError('STEP_UNKNOWN', 'this button does not belong to a known incident step');
  const incident = await resolveIncident(deps, value, channel);
  const runbook = deps.runbooks.get(incident.alertname);
  const step = runbook?.steps.find((s) => s.id === v.stepId);
  if (!runbook || !step)
    throw new PilotError('STEP_UNKNOWN', `step ${v.stepId} is not a step of the ${incident.alertname} runbook`);
  if (!wantAction) return { incident, runbook, step };
  if (!v.actionId || !step.actions.includes(v.actionId))
    throw new PilotError('STEP_UNKNOWN', `step ${step.id} has no action ${v.actionId ?? '(none)'}`);
  const action = deps.runbooks.action(runbook, v.actionId);
  if (!action) throw new PilotError('ACTION_UNKNOWN', `action ${v.actionId} is not in the catalog`);
  return { incident, runbook, step, action };
}

/**
 * Looks up the incident a button names, in our own store; it must live in the channel the click came from (a click
 * that names no channel matches none).
 */
export async function resolveIncident(
  deps: Pick<ClickLookupDeps, 'store'>,
  value: unknown,
  channel: string | undefined,
): Promise<Incident> {
  const v = decodeStepValue(value);
  const incident = v && (await deps.store.get(v.incidentId));
  if (!incident || incident.channel !== channel) {
    throw new PilotError(
      'INCIDENT_UNKNOWN',
      v ? `incident #${v.incidentId} is not known in this channel` : 'this button does not belong to a known incident',
    );
  }
  return incident;
}

/**
 * A step button's action_id names its step and action as its value does; when they disagree the click was not made
 * on a button the bot rendered, and nothing runs.
 */
export function checkRunStepId(actionId: string, value: unknown): void {
  const fromId = parseRunStepActionId(actionId);
  const fromValue = decodeStepValue(value);
  if (!fromId || !fromValue || fromId.stepId !== fromValue.stepId || fromId.actionId !== fromValue.actionId) {
    throw new PilotError(
      'STEP_UNKNOWN',
      'this button does not match a step of the incident (its id and value disagree)',
    );
  }
}

/** Registers the step, checklist, timeline and refresh buttons. */
export function registerSteps(app: App, deps: StepFeatureDeps): void {
  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.RunStep),
    onClick(deps, async ({ body, action, client, user, place }) => {
      checkRunStepId(action.action_id, action.value);
      const { incident, step, action: spec } = await resolveClick(deps, action.value, place.channel, true);
      if (!spec) throw new PilotError('ACTION_UNKNOWN', `step ${step.id} has no action`);
      if (spec.risk === 'change') {
        // Every guard (a resolved incident included) is the mitigation plan's, recorded there.
        if (!deps.requestMitigation) throw new PilotError('NOT_ALLOWED', `${spec.title} is not enabled on this bot`);
        await deps.requestMitigation({ incident, step, action: spec, user, triggerId: body.trigger_id, client });
        return;
      }
      await deps.runAndReport({ incident, step, action: spec, user });
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.CheckStep),
    onClick(deps, async ({ action, user, place }) => {
      const { incident, step } = await resolveClick(deps, action.value, place.channel, false);
      if (step.kind !== 'checklist') throw new PilotError('STEP_UNKNOWN', `step ${step.id} is not a checklist step`);
      const at = deps.now().toISOString();
      await deps.store.setStep(incident.id, step.id, { state: 'done', by: user, at });
      await deps.store.appendTimeline(incident.id, 'checklist.done', user, { stepId: step.id, title: step.title }, at);
      await deps.presenter.refresh(incident.id);
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.Refresh),
    onClick(deps, async ({ action, place }) => {
      // A click on Refresh asks Alertmanager again rather than showing its cached answer.
      await deps.presenter.refresh((await resolveIncident(deps, action.value, place.channel)).id, {
        recheckAlert: true,
      });
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.Steps),
    onClick(deps, async ({ action, user, place }) => {
      await deps.scheduler.countClick?.(user);
      await postRunbookSteps(deps, await resolveIncident(deps, action.value, place.channel));
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.Timeline),
    onClick(deps, async ({ action, place }) => {
      await postTimeline(deps, await resolveIncident(deps, action.value, place.channel));
    }),
  );
}

/**
 * One step's reply in the thread, rendered from what it is told: "queued" when it waits, "running …" when it takes
 * longer than the notice delay, then its result (long output uploaded as a file), the incident message refreshed at
 * each phase shown. A plain step is told by runAndReport; a mitigation by the mitigation service's observer, which
 * adds its verification to the same reply (see slack/mitigation.ts).
 */
export class StepReporter {
  private readonly reply: StepReply;
  private readonly view: StepView;

  constructor(
    private readonly deps: StepRunnerDeps,
    private readonly req: Pick<RunStepRequest, 'incident' | 'step' | 'action' | 'user'>,
  ) {
    const { presenter } = deps;
    this.view = { step: req.step, action: req.action, hostName: req.incident.hostName, user: req.user };
    this.reply = new StepReply(
      {
        post: (msg) => presenter.reply(req.incident, msg),
        replace: (ts, msg) => presenter.replace(req.incident, ts, msg),
        logger: deps.logger,
      },
      deps.runningNoticeDelayMs ?? RUNNING_NOTICE_DELAY_MS,
    );
  }

  /** The progress a step runner reports: "queued, N ahead" at once, "running …" after the notice delay. */
  readonly progress: RunStepProgress = {
    queued: (ahead) => {
      if (ahead > 0) this.reply.notice(renderQueued(this.view, ahead));
      void this.deps.presenter.refresh(this.req.incident.id);
    },
    // The incident message shows the step running when the thread does: a fast command goes from idle to its result.
    started: (built) =>
      this.reply.noticeLater(
        renderRunning(this.view, built.command),
        () => void this.deps.presenter.refresh(this.req.incident.id),
      ),
  };

  /** The step's outcome, counted and rendered (not shown yet). */
  result(outcome: RunStepOutcome): RenderedResult {
    const { deps, req } = this;
    const result =
      outcome.kind === 'ran'
        ? outcome.result.exitCode === 0 && !outcome.result.timedOut
          ? 'ok'
          : outcome.result.timedOut
            ? 'timeout'
            : 'failed'
        : outcome.kind;
    deps.metrics?.actions.inc({ action: req.action.id, result });
    if (outcome.kind === 'ran')
      deps.metrics?.actionDuration.observe({ action: req.action.id }, outcome.result.durationMs / 1000);
    const formatted =
      outcome.kind === 'ran'
        ? safeFormat(deps, req.action, outcome.result.stdout.text, req.incident.alert.labels)
        : undefined;
    const verdict =
      outcome.kind === 'ran' ? safeJudge(deps, req.action, outcome.result, req.incident.alert.labels) : undefined;
    const rendered = renderStepResult(this.view, outcome, formatted, verdict);
    if (rendered.logId)
      deps.logger.error(
        { logId: rendered.logId, err: outcome.kind !== 'ran' ? outcome.error : undefined },
        'internal error shown to the user',
      );
    return rendered;
  }

  /** Shows a message in the reply now, while the work goes on (e.g. the output while the host is read back). */
  show(message: SlackMessage): void {
    this.reply.notice(message);
  }

  /** Shows the final message, uploads the full output when it was too long, and refreshes the incident message. */
  async finish(message: SlackMessage, upload?: RenderedResult['upload']): Promise<void> {
    const { deps, req } = this;
    await this.reply.finish(message);
    if (upload) {
      await deps.presenter
        .upload(req.incident, upload)
        .catch((err: unknown) =>
          deps.logger.warn({ err, incidentId: req.incident.id }, 'could not upload the full output'),
        );
    }
    await deps.presenter.refresh(req.incident.id);
  }
}

/** Runs a step and shows it in the thread: one reply, told by the step runner's progress and outcome. */
export async function runAndReport(deps: StepRunnerDeps, req: RunStepRequest): Promise<RunStepOutcome> {
  const reporter = new StepReporter(deps, req);
  const outcome = await runStep(deps.runStepDeps, req, reporter.progress);
  const rendered = reporter.result(outcome);
  await reporter.finish(rendered.message, rendered.upload);
  return outcome;
}

function safeJudge(
  deps: Pick<StepRunnerDeps, 'runStepDeps' | 'logger'>,
  action: ActionSpec,
  result: Parameters<NonNullable<StepRunnerDeps['runStepDeps']['judge']>>[1],
  labels: Record<string, string>,
) {
  try {
    return deps.runStepDeps.judge?.(action, result, labels);
  } catch (err) {
    deps.logger.warn({ err, actionId: action.id }, 'could not judge the output; shown without a verdict');
    return undefined;
  }
}

function safeFormat(
  deps: Pick<StepRunnerDeps, 'formatOutput' | 'logger'>,
  action: ActionSpec,
  stdout: string,
  labels: Record<string, string>,
): string | undefined {
  try {
    return deps.formatOutput(action, stdout, labels);
  } catch (err) {
    deps.logger.warn({ err, actionId: action.id }, 'could not format the output; showing it raw');
    return undefined;
  }
}

/**
 * An action's output as its spec asks to show it: `render: backend-state` is the table of the alert's backend (its
 * `backend` label, or `proxy`), the alert's server highlighted; undefined when there is nothing to render (the raw
 * text is shown).
 */
export function renderStepOutput(
  action: { render?: 'text' | 'backend-state' },
  stdout: string,
  labels: Record<string, string>,
): string | undefined {
  const backend = labels.backend ?? labels.proxy;
  if (action.render !== 'backend-state' || !backend) return undefined;
  return renderBackendState(stdout, backend, labels.server);
}
