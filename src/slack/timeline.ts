import type { Incident } from '../incident/types';
import { renderTimeline } from './blocks/timeline';
import type { AppDeps } from './deps';
import type { IncidentPresenter } from './incident-presenter';

/** Posts the timeline in the incident's thread (a markdown file too when it is long). */
export async function postTimeline(
  deps: Pick<AppDeps, 'store' | 'runbooks'> & { presenter: IncidentPresenter },
  incident: Incident,
): Promise<void> {
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
