/**
 * Guarded mitigation in Slack: a click opens a confirmation modal that shows exactly what will run where and asks
 * why; the submission is acked and handed to the mitigation service (which checks everything again and runs it). The
 * service tells an observer how it goes, and this file renders what it is told in one reply: "queued" / "running …",
 * the command's output, "verifying …", then the output with the verification. The workflow and its guards live in
 * `mitigation/mitigation-service.ts`.
 *
 * Who hears a refusal, one rule: a click refused before the modal opens is told to the clicker alone (ephemeral:
 * nothing was confirmed); a confirmed submission is answered in the thread, refused or not, because the team must see
 * every attempt to change a host and why it did not run. Both are on the timeline and in the audit log.
 */
import type { App, BlockAction, ButtonAction, SlackViewAction, ViewOutput } from '@slack/bolt';
import type { View } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { ActionSpec } from '../actions/types';
import { PilotError } from '../errors';
import type { Logger } from '../logger';
import type {
  MitigationObserver,
  MitigationOutcome,
  MitigationRequest,
  MitigationService,
  PrepareOutcome,
} from '../mitigation/mitigation-service';
import { ActionId, CallbackId } from './action-ids';
import { errorText } from './blocks/error-text';
import {
  commandsView,
  confirmationView,
  parseConfirmationMetadata,
  RESOLVED_ACK,
  renderMitigationOutcome,
  renderMitigationReply,
  renderVerifying,
} from './blocks/mitigation';
import type { RenderedResult } from './blocks/step-result';
import type { IncidentPresenter } from './incident-presenter';
import { type FormReading, onClick, onSubmit } from './on-click';
import { type ClickLookupDeps, resolveClick, StepReporter, type StepRunnerDeps } from './steps';
import { tellUser } from './tell-user';

export { RESOLVED_ACK } from './blocks/mitigation';

/** What the mitigation handlers need. */
export interface MitigationFeatureDeps extends ClickLookupDeps {
  mitigation: Pick<MitigationService, 'plan' | 'prepare' | 'confirm'>;
  presenter: Pick<IncidentPresenter, 'reply' | 'refresh'>;
  /** How a step's reply is shown (the same as any step's): the mitigation's reply is one of them. */
  reporting: StepRunnerDeps;
  logger: Logger;
}

/** requestMitigation over these deps, as a function (what the buttons and `/incident run` are given). */
export function mitigationRequester(
  deps: MitigationFeatureDeps,
): (click: Parameters<typeof requestMitigation>[1]) => Promise<void> {
  return (req) => requestMitigation(deps, req);
}

/** The click: asks the service what to confirm and opens the modal, or tells the clicker privately why not. */
export async function requestMitigation(
  deps: MitigationFeatureDeps,
  click: MitigationRequest & { triggerId: string; client: WebClient },
): Promise<void> {
  const { triggerId, client, ...req } = click;
  const { incident, user } = req;
  const place = { user, channel: incident.channel, threadTs: incident.threadTs };
  let prepared: PrepareOutcome;
  try {
    prepared = await deps.mitigation.prepare(req);
  } catch (err) {
    await tellUser(deps, client, place, err);
    return;
  }
  if (prepared.kind === 'refused') {
    await tellUser(deps, client, place, prepared.error);
    return;
  }
  const view = confirmationView({ plan: prepared, alertActive: prepared.alertActive, dryRunOnly: prepared.dryRunOnly });
  await client.views.open({ trigger_id: triggerId, view }).catch((err: unknown) => tellUser(deps, client, place, err));
}

/** Registers the modal's submission handler and its *All commands* button. */
export function registerMitigation(app: App, deps: MitigationFeatureDeps): void {
  // *All commands*: the same plan the modal showed, every line, pushed over the modal (Back returns to it). Planned
  // again from our own state (nothing taken from the button), and shown only while its digest is the modal's.
  app.action<BlockAction<ButtonAction>>(
    ActionId.ShowCommands,
    onClick(deps, async ({ body, action, client, user, log }) => {
      const meta = parseConfirmationMetadata(body.view?.private_metadata);
      let view: View;
      try {
        const resolved = await resolveClick(deps, action.value, meta.c, true);
        const planned = await deps.mitigation.plan({
          incident: resolved.incident,
          step: resolved.step,
          action: resolved.action as ActionSpec,
          user,
        });
        view =
          planned.kind === 'refused'
            ? commandsView({ refusal: errorText(planned.error).text })
            : planned.kind !== 'plan' || planned.digest !== meta.d
              ? commandsView({
                  refusal:
                    'The commands changed since this confirmation opened (the host, its config or the alert): cancel and click the step again to see what would run now.',
                })
              : commandsView({ action: planned.request.action, host: planned.host, commands: planned.commands });
      } catch (err) {
        view = commandsView({ refusal: errorText(err).text });
      }
      await client.views
        .push({ trigger_id: body.trigger_id, view })
        .catch((err: unknown) => log.warn({ err }, 'could not show the commands in full'));
    }),
  );

  app.view<SlackViewAction>(
    CallbackId.ConfirmMitigation,
    onSubmit(deps, readConfirmation, async ({ view, client, user, form: { meta, reason, resolvedAck } }) => {
      const options = view.state.values.options?.options?.selected_options ?? [];
      let click: MitigationRequest;
      try {
        const resolved = await resolveClick(deps, meta.v, meta.c, true);
        const action = resolved.action as ActionSpec;
        if (action.risk !== 'change') throw new PilotError('STEP_UNKNOWN', `${action.id} is not a mitigation`);
        click = { incident: resolved.incident, step: resolved.step, action, user, ...(meta.h ? { host: meta.h } : {}) };
      } catch (err) {
        // No incident we know: no thread to answer in, so the user hears it directly.
        await tellUser(deps, client, { user }, err);
        return;
      }
      // The one reply of this mitigation, rendered from what the service tells.
      const reporter = new StepReporter(deps.reporting, click);
      let ran: RenderedResult | undefined;
      const observer: MitigationObserver = {
        ...reporter.progress,
        ran: (stepOutcome) => {
          ran = reporter.result(stepOutcome);
          reporter.show(ran.message);
        },
        verifying: () => {
          if (ran) reporter.show(renderVerifying(ran.message, click.incident.hostName ?? '?'));
        },
      };
      let outcome: MitigationOutcome;
      try {
        outcome = await deps.mitigation.confirm(
          {
            ...click,
            reason,
            dryRun: options.some((o) => o.value === 'dry-run'),
            resolvedAck,
            // A modal without a digest (opened by an older bot) binds to nothing: refused, the user clicks again.
            shownDigest: meta.d ?? '',
            view: { id: view.id, hash: view.hash },
          },
          observer,
        );
      } catch (err) {
        await tellUser(deps, client, { user, channel: click.incident.channel, threadTs: click.incident.threadTs }, err);
        return;
      }
      const rendered = renderMitigationOutcome({ action: click.action, user, reason }, outcome);
      if (rendered?.logId)
        deps.logger.error(
          { logId: rendered.logId, err: outcome.kind === 'refused' ? outcome.error : undefined },
          'internal error shown to the user',
        );
      if (ran) {
        // The step ran (or tried to): its reply becomes the mitigation's, output first, then what it came to.
        await reporter.finish(renderMitigationReply(ran.message, rendered?.message), ran.upload);
        return;
      }
      // Refused or a dry run: nothing ran, the outcome is the reply.
      if (rendered)
        await deps.presenter
          .reply(click.incident, rendered.message)
          .catch((err: unknown) => deps.logger.warn({ err }, 'could not post the mitigation outcome'));
      await deps.presenter.refresh(click.incident.id);
    }),
  );
}

/**
 * The confirmation form: a reason of a few words, and the tick a resolved alert asks for; the errors are shown on the
 * fields (the modal stays open).
 */
function readConfirmation(
  view: ViewOutput,
): FormReading<{ meta: ReturnType<typeof parseConfirmationMetadata>; reason: string; resolvedAck: boolean }> {
  const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
  if (reason.length < 3) return { errors: { reason: 'Say in a few words why (it is recorded on the timeline).' } };
  const meta = parseConfirmationMetadata(view.private_metadata);
  const resolvedAck = (view.state.values[RESOLVED_ACK]?.[RESOLVED_ACK]?.selected_options ?? []).some(
    (o) => o.value === RESOLVED_ACK,
  );
  if (meta.r === 1 && !resolvedAck)
    return { errors: { [RESOLVED_ACK]: 'The alert is resolved: tick this to run anyway, or cancel.' } };
  return { form: { meta, reason, resolvedAck } };
}
