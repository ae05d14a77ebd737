/**
 * Complete labels: the button on an incident whose alert message lacked labels, its modal, and the submission that
 * records the values (with who gave them) and refreshes the incident message, so the steps can run.
 */
import type { App, BlockAction, ButtonAction, SlackViewAction } from '@slack/bolt';
import type { ActionSpec } from '../actions/types';
import type { Config } from '../config/schema';
import { PilotError } from '../errors';
import { completeIncidentLabels } from '../incident/complete-labels';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import { ActionId, actionIdPattern, CallbackId } from './action-ids';
import {
  completeLabelsModal,
  type LabelField,
  labelFields,
  parseCompleteLabelsMeta,
  readCompleteLabelsForm,
} from './blocks/complete-labels';
import { escapeMrkdwn, inlineCode } from './blocks/format';
import type { IncidentPresenter } from './incident-presenter';
import { onClick, onSubmit } from './on-click';
import { resolveIncident } from './steps';
import { tellUser } from './tell-user';

/** What the Complete labels button and modal need. */
export interface CompleteLabelsFeatureDeps {
  config: Pick<Config, 'hosts'>;
  store: IncidentStore;
  runbooks: Pick<RunbookRegistry, 'get' | 'action'>;
  logger: Logger;
  now: () => Date;
  presenter: Pick<IncidentPresenter, 'reply' | 'refresh'>;
  /** Told the alert's labels once they are complete (see LabelMemory). */
  learn?: (labels: Record<string, string>) => void;
}

function fieldsFor(deps: Pick<CompleteLabelsFeatureDeps, 'config' | 'runbooks'>, incident: Incident): LabelField[] {
  const runbook = deps.runbooks.get(incident.alertname);
  const actions = (runbook?.steps ?? [])
    .flatMap((s) => s.actions)
    .flatMap((id): ActionSpec[] => {
      const a = deps.runbooks.action(runbook, id);
      return a ? [a] : [];
    });
  return labelFields(incident.alert.missingLabels, deps.config.hosts, actions);
}

/** Registers the Complete labels button and modal. */
export function registerCompleteLabels(app: App, deps: CompleteLabelsFeatureDeps): void {
  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.CompleteLabels),
    onClick(deps, async ({ body, action, client, place }) => {
      const incident = await resolveIncident(deps, action.value, place.channel);
      if (incident.alert.missingLabels.length === 0)
        throw new PilotError('STEP_UNKNOWN', `incident #${incident.id} has every label already`);
      await client.views.open({
        trigger_id: body.trigger_id,
        view: completeLabelsModal(incident, fieldsFor(deps, incident)),
      });
    }),
  );

  app.view<SlackViewAction>(
    CallbackId.CompleteLabels,
    onSubmit(
      deps,
      async (view) => {
        const meta = parseCompleteLabelsMeta(view.private_metadata);
        const incident = meta ? await deps.store.get(meta.incidentId) : undefined;
        if (!meta || !incident || incident.channel !== meta.channel)
          throw new PilotError(
            'INCIDENT_UNKNOWN',
            'this form does not belong to a known incident; no label was recorded',
          );
        // The fields of the incident as it is now (another person may have completed some meanwhile).
        const fields = fieldsFor(deps, incident);
        const form = readCompleteLabelsForm(view.state.values as Parameters<typeof readCompleteLabelsForm>[0], fields);
        return 'errors' in form ? form : { form: { incident, labels: form.labels } };
      },
      async ({ client, user, form: { incident, labels } }) => {
        try {
          const updated = await completeIncidentLabels(
            { store: deps.store, hosts: deps.config.hosts, now: deps.now },
            incident,
            labels,
            user,
          );
          if (updated.alert.missingLabels.length === 0) deps.learn?.(updated.alert.labels);
          const given = Object.entries(labels)
            .map(([k, v]) => `${inlineCode(k)}=${inlineCode(v)}`)
            .join(', ');
          const host = updated.hostName ? ` Host: ${inlineCode(updated.hostName)}.` : '';
          await deps.presenter.reply(updated, {
            text: `🏷️ <@${user}> completed the labels ${given}.${host}${updated.alert.missingLabels.length ? ` Still missing: ${updated.alert.missingLabels.map((n) => inlineCode(escapeMrkdwn(n))).join(', ')}.` : ''}`,
          });
          await deps.presenter.refresh(updated.id);
        } catch (err) {
          await tellUser(deps, client, { user, channel: incident.channel, threadTs: incident.threadTs }, err);
        }
      },
    ),
  );
}
