import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import { renderRunbookSteps } from './blocks/runbook-steps';
import { renderTimeline } from './blocks/timeline';
import type { IncidentPresenter } from './incident-presenter';

/** What posting a timeline needs. */
export interface TimelineDeps {
  store: Pick<IncidentStore, 'timeline'>;
  runbooks: Pick<RunbookRegistry, 'get' | 'action'>;
  presenter: Pick<IncidentPresenter, 'reply' | 'upload'>;
}

/** Posts the timeline in the incident's thread (a markdown file too when it is long). */
export async function postTimeline(deps: TimelineDeps, incident: Incident): Promise<void> {
  const runbook = deps.runbooks.get(incident.alertname);
  const { message, file } = renderTimeline(
    incident,
    await deps.store.timeline(incident.id),
    runbook,
    (id) => deps.runbooks.action(runbook, id)?.title,
  );
  await deps.presenter.reply(incident, message);
  if (file) await deps.presenter.upload(incident, file);
}

/** Posts the runbook's steps in full in the incident's thread (a markdown file too when they are long). */
export async function postRunbookSteps(deps: TimelineDeps, incident: Incident): Promise<void> {
  const runbook = deps.runbooks.get(incident.alertname);
  if (!runbook) {
    await deps.presenter.reply(incident, {
      text: `No runbook is loaded for ${incident.alertname}.`,
      blocks: [],
    });
    return;
  }
  const { message, file } = renderRunbookSteps(incident, runbook, (id) => deps.runbooks.action(runbook, id)?.title);
  await deps.presenter.reply(incident, message);
  if (file) await deps.presenter.upload(incident, file);
}
