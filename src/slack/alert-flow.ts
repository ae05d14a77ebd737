/**
 * From an alert to Slack: open the incident in the alert's thread, note repeats, close on resolve. Shared by the
 * Slack message listener and the Alertmanager webhook route. Work for one fingerprint runs one at a time, so two
 * deliveries of the same alert never open two incidents or post two alert messages.
 */

import type { HostConfig } from '../config/schema';
import { applyAlert, type IncidentPlace } from '../incident/incident-service';
import { manualAlert } from '../incident/manual-alert';
import type { Incident } from '../incident/types';
import type { Alert } from '../ingest/alert';
import { renderResolution, renderStillFiring, renderWebhookAlert } from './blocks/replies';
import type { AppDeps } from './deps';
import type { IncidentPresenter } from './incident-presenter';

/** Features that follow an incident's life (the graph on open, silences on resolve). Optional. */
export interface AlertFlowHooks {
  /** Called once the incident message is posted; must not throw or block (fire and forget). */
  opened?(incident: Incident): void;
  /** Called after the resolution summary is posted, before the incident message's final refresh. */
  resolved?(incident: Incident): Promise<void>;
}

export class AlertFlow {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: AppDeps,
    private readonly presenter: IncidentPresenter,
    private readonly hooks: AlertFlowHooks = {},
  ) {}

  /**
   * An alert seen as a Slack message: the incident lives in that message's thread. `actor` is who the timeline
   * records: `alertmanager` for an alert sender's message, the user id for a person's.
   */
  fromSlack(alert: Alert, place: IncidentPlace, actor = 'alertmanager'): Promise<void> {
    return this.serial(alert.fingerprint, () => this.apply(alert, place, actor));
  }

  /** An alert from the webhook: the bot posts the alert message itself (when no incident is open) and uses its thread. */
  fromWebhook(alert: Alert): Promise<void> {
    return this.serial(alert.fingerprint, async () => {
      const open = await this.deps.store.findOpen(alert.fingerprint);
      if (open || alert.status === 'resolved') {
        await this.apply(alert, {
          channel: open?.channel ?? this.deps.config.slack.channels[0],
          threadTs: open?.threadTs ?? '',
        });
        return;
      }
      const channel = this.deps.config.slack.channels[0];
      const threadTs = await this.presenter.announce(channel, renderWebhookAlert(alert));
      await this.apply(alert, { channel, threadTs });
    });
  }

  /**
   * Opens an incident by hand (`/incident run` with none open) in `channel` (default: the first incident channel):
   * the bot posts the opening message itself. An incident already open for the same host and runbook is returned.
   */
  async openManual(
    alertname: string,
    host: HostConfig,
    user: string,
    channel = this.deps.config.slack.channels[0],
  ): Promise<Incident> {
    const alert = manualAlert(alertname, host);
    return this.serial(alert.fingerprint, async () => {
      const open = await this.deps.store.findOpen(alert.fingerprint);
      if (open) return open;
      const threadTs = await this.presenter.announce(channel, {
        text: `🛠️ ${alertname} on ${host.name}: incident opened by hand by <@${user}> (no alert).`,
      });
      await this.apply(alert, { channel, threadTs }, user);
      return (await this.deps.store.findOpen(alert.fingerprint)) as Incident;
    });
  }

  /** Resolves an incident by hand (`/incident resolve`). */
  async resolveByUser(incident: Incident, user: string): Promise<Incident> {
    return this.serial(incident.fingerprint, async () => {
      const at = this.deps.now().toISOString();
      const current = await this.deps.store.get(incident.id);
      if (!current || current.status === 'resolved') return current ?? incident;
      const resolved = await this.deps.store.update(incident.id, {
        status: 'resolved',
        resolvedAt: at,
        resolvedBy: user,
      });
      await this.deps.store.appendTimeline(incident.id, 'incident.resolved', user, { reason: 'resolved by hand' }, at);
      await this.closeOut(resolved);
      return resolved;
    });
  }

  private async apply(alert: Alert, place: IncidentPlace, actor = 'alertmanager'): Promise<void> {
    const log = this.deps.logger.child({ fingerprint: alert.fingerprint, alertname: alert.alertname });
    const outcome = await applyAlert(
      {
        store: this.deps.store,
        hosts: this.deps.config.hosts,
        stillFiringIntervalSec: this.deps.config.slack.stillFiringIntervalSec,
        now: this.deps.now,
        bindingOf: (name) => this.deps.runbooks.get(name)?.binding,
      },
      alert,
      place,
      actor,
    );
    switch (outcome.kind) {
      case 'opened': {
        log.info({ incidentId: outcome.incident.id, host: outcome.incident.hostName }, 'incident opened');
        const posted = await this.presenter.post(outcome.incident);
        try {
          this.hooks.opened?.(posted);
        } catch (err) {
          log.warn({ err, incidentId: posted.id }, 'a feature failed on the new incident');
        }
        return;
      }
      case 'repeated': {
        if (!outcome.incident.messageTs) {
          // The first post failed (Slack down past every retry): the repeat is the chance to show the incident.
          log.info({ incidentId: outcome.incident.id }, 'incident message was never posted: posting it now');
          await this.presenter.post(outcome.incident);
          return;
        }
        if (outcome.notify)
          await this.presenter.reply(
            outcome.incident,
            renderStillFiring(outcome.incident, this.deps.now().toISOString()),
          );
        await this.presenter.refresh(outcome.incident.id);
        return;
      }
      case 'resolved': {
        log.info({ incidentId: outcome.incident.id }, 'incident resolved by its alert');
        await this.closeOut(outcome.incident);
        return;
      }
      case 'resolved-unknown':
        log.info({ incidentId: outcome.incident?.id }, 'resolved alert without an open incident: nothing to do');
        return;
    }
  }

  /** The summary in the thread (broadcast to the channel) and the incident message's final state. */
  private async closeOut(incident: Incident): Promise<void> {
    const runbook = this.deps.runbooks.get(incident.alertname);
    const summary = renderResolution(
      incident,
      await this.deps.store.timeline(incident.id),
      runbook,
      (id) => this.deps.runbooks.action(runbook, id)?.title,
    );
    await this.presenter.reply(incident, summary, { broadcast: true });
    await this.hooks
      .resolved?.(incident)
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, incidentId: incident.id }, 'a feature failed on the resolved incident'),
      );
    await this.presenter.refresh(incident.id);
    // Its final state is shown: what the presenter remembered of it would only grow.
    this.presenter.forget(incident.id);
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }
}
