/**
 * From an alert to Slack: open the incident in the alert's thread, note repeats, close on resolve. Shared by the
 * Slack message listener and the Alertmanager webhook route. Work for one fingerprint runs one at a time in a process;
 * across replicas sharing a store, the store decides: the replica that inserted the incident (won the unique index)
 * posts its message, under a claim with an expiry so another may post it if that replica dies first; resolving and
 * "still firing" are conditional updates, so one replica posts each.
 */

import type { Config, HostConfig } from '../config/schema';
import { applyAlert, type IncidentPlace } from '../incident/incident-service';
import { manualAlert } from '../incident/manual-alert';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Alert } from '../ingest/alert';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import { renderAlreadyOpen, renderResolution, renderStillFiring, renderWebhookAlert } from './blocks/replies';
import type { IncidentPresenter } from './incident-presenter';

/** Features that follow an incident's life (the graph on open, silences on resolve). Optional. */
export interface AlertFlowHooks {
  /** Called once the incident message is posted; must not throw or block (fire and forget). */
  opened?(incident: Incident): void;
  /** Called after the resolution summary is posted, before the incident message's final refresh. */
  resolved?(incident: Incident): Promise<void>;
}

/** The message the bot posts to open a thread for an incident (a webhook alert, a manual incident). */
type Announcement = Parameters<IncidentPresenter['announce']>[1];

/** Who this replica is, for its claims on posting incident messages. */
export interface AlertFlowReplica {
  /** This process's replica id (random at start). */
  id: string;
  /** How long a claim to post an incident's message holds before another replica may post it (ms). */
  postClaimTtlMs: number;
}

/** Without a replica given: one process, whose claims are its own. */
const SOLO: AlertFlowReplica = { id: 'solo', postClaimTtlMs: 120_000 };

/** What the alert flow needs besides the presenter (it opens, updates and closes incidents in the store). */
export interface AlertFlowDeps {
  config: Pick<Config, 'slack' | 'hosts'> & { alertmanager?: Pick<Config['alertmanager'], 'slackMessageWaitSec'> };
  store: IncidentStore;
  runbooks: Pick<RunbookRegistry, 'get' | 'action'>;
  logger: Logger;
  now: () => Date;
}

/** A Slack message read partially, waiting for the webhook's exact alerts it stands for (see slackMessageWaitSec). */
interface WaitingReading {
  alert: Alert;
  place: IncidentPlace;
  /** How many webhook alerts met it so far. */
  met: number;
  timer: NodeJS.Timeout;
}

/** True when the reading may stand for other alerts than it shows (labels missing, or several alerts in one). */
function partial(alert: Alert): boolean {
  return alert.missingLabels.length > 0 || (alert.standsFor ?? 1) > 1;
}

/** The exact alert is one of those the partial reading stands for: same name, every label it shows the alert's. */
function standsFor(reading: Alert, exact: Alert): boolean {
  const missing = new Set(reading.missingLabels);
  return (
    reading.alertname === exact.alertname &&
    Object.entries(reading.labels).every(([k, v]) => missing.has(k) || exact.labels[k] === v)
  );
}

export class AlertFlow {
  private readonly chains = new Map<string, Promise<unknown>>();
  /**
   * The webhook and the Slack message of one notification meeting (one process: a replica holds what it received;
   * after the wait, each goes on alone). Webhook alerts inserted unposted, by fingerprint; partial Slack readings.
   */
  private readonly webhookWaiting = new Map<string, NodeJS.Timeout>();
  private readonly readingsWaiting = new Set<WaitingReading>();

  constructor(
    private readonly deps: AlertFlowDeps,
    private readonly presenter: IncidentPresenter,
    private readonly hooks: AlertFlowHooks = {},
    private readonly replica: AlertFlowReplica = SOLO,
  ) {}

  /**
   * Alerts whose work is under way in this process (opening, posting, resolving: one per fingerprint) or held waiting
   * for their other delivery (alertmanager.slackMessageWaitSec). Zero once everything received has been handled.
   */
  inProgress(): number {
    return this.chains.size + this.webhookWaiting.size + this.readingsWaiting.size;
  }

  /**
   * An alert seen as a Slack message: the incident lives in that message's thread. `actor` is who the timeline
   * records: `alertmanager` for an alert sender's message, the user id for a person's.
   */
  fromSlack(alert: Alert, place: IncidentPlace, actor = 'alertmanager'): Promise<void> {
    return this.serial(alert.fingerprint, async () => {
      const known = actor === 'alertmanager' ? await this.incidentsItStandsFor(alert, place) : [];
      if (known.length === 0 && actor === 'alertmanager' && this.waitMs > 0 && alert.status === 'firing') {
        if (!partial(alert)) {
          // Its webhook twin, inserted unposted, is posted here, in this message's thread (apply: a repeat).
          this.stopWaiting(alert.fingerprint);
          return this.apply(alert, place, actor);
        }
        if (await this.meetWaitingWebhook(alert, place)) return;
        this.holdReading(alert, place, actor);
        return;
      }
      if (known.length === 0) return this.apply(alert, place, actor);
      // A partial reading (labels missing, or one incident for several alerts) of a notification whose exact alerts
      // already have incidents in this thread: an edit of the message (update_message), an update posted in its
      // thread, or the webhook's alerts that met it. It is a delivery of those incidents' alerts, not a new incident.
      this.deps.logger.info(
        { alertname: alert.alertname, thread: place.threadTs, incidents: known.map((i) => i.id) },
        'a partial reading of alerts already open in this thread: applied to them',
      );
      for (const incident of known)
        await this.serial(incident.fingerprint, () =>
          this.apply({ ...incident.alert, status: alert.status, source: alert.source }, place, actor),
        );
    });
  }

  /** How long the webhook and the Slack message of one notification wait for each other (0: they do not). */
  private get waitMs(): number {
    return (this.deps.config.alertmanager?.slackMessageWaitSec ?? 0) * 1000;
  }

  /**
   * A webhook alert with no incident yet: into the thread of a Slack message read partially that stands for it, if
   * one waits; otherwise inserted unposted, for its Slack message to post it in its thread. If none comes within the
   * wait, the bot announces it itself (as without waiting).
   */
  private async meetSlackMessage(alert: Alert): Promise<void> {
    const reading = [...this.readingsWaiting].find((r) => standsFor(r.alert, alert));
    if (reading) {
      reading.met++;
      if (reading.met >= (reading.alert.standsFor ?? 1)) {
        clearTimeout(reading.timer);
        this.readingsWaiting.delete(reading);
      }
      this.deps.logger.info(
        { fingerprint: alert.fingerprint, thread: reading.place.threadTs },
        'webhook alert met its Slack message: incident in that thread',
      );
      return this.apply(alert, reading.place, 'alertmanager');
    }
    const outcome = await this.insertUnposted(alert);
    if (!outcome) return;
    const timer = setTimeout(() => {
      this.webhookWaiting.delete(alert.fingerprint);
      void this.serial(alert.fingerprint, async () => {
        const incident = await this.deps.store.findOpen(alert.fingerprint);
        if (!incident || incident.messageTs) return;
        this.deps.logger.info({ incidentId: incident.id }, 'no Slack message met the webhook alert: announcing it');
        const at = this.deps.now();
        const claim = {
          owner: this.replica.id,
          until: new Date(at.getTime() + this.replica.postClaimTtlMs).toISOString(),
        };
        if (await this.deps.store.claimPost(incident.id, claim, at.toISOString()))
          await this.publish(incident, { channel: incident.channel, threadTs: '' }, () => renderWebhookAlert(alert));
      }).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not announce a webhook alert'));
    }, this.waitMs);
    timer.unref();
    this.webhookWaiting.set(alert.fingerprint, timer);
  }

  /** Opens the incident of a webhook alert without posting it (its Slack message, or the wait's end, posts it). */
  private async insertUnposted(alert: Alert): Promise<boolean> {
    const outcome = await applyAlert(
      {
        store: this.deps.store,
        hosts: this.deps.config.hosts,
        stillFiringIntervalSec: this.deps.config.slack.stillFiringIntervalSec,
        now: this.deps.now,
        bindingOf: (name) => this.deps.runbooks.get(name)?.binding,
        // Claimed for the wait and a little more: no other path posts it meanwhile (this replica's Slack delivery may).
        postClaim: { owner: this.replica.id, ttlMs: this.waitMs + this.replica.postClaimTtlMs },
      },
      alert,
      { channel: this.deps.config.slack.channels[0], threadTs: '' },
      'alertmanager',
    );
    if (outcome.kind !== 'opened') return false;
    this.deps.logger.info(
      { incidentId: outcome.incident.id, waitMs: this.waitMs },
      'webhook alert: waiting for its Slack message before posting',
    );
    return true;
  }

  private stopWaiting(fingerprint: string): void {
    const timer = this.webhookWaiting.get(fingerprint);
    if (timer) clearTimeout(timer);
    this.webhookWaiting.delete(fingerprint);
  }

  /**
   * A partial reading whose exact alerts the webhook already gave (inserted, unposted): exactly as many as it counts,
   * each carrying every label it shows. They are posted in this message's thread; the reading opens nothing.
   */
  private async meetWaitingWebhook(alert: Alert, place: IncidentPlace): Promise<boolean> {
    const waiting = (
      await Promise.all([...this.webhookWaiting.keys()].map((fp) => this.deps.store.findOpen(fp)))
    ).filter((i): i is Incident => i !== undefined && !i.messageTs && standsFor(alert, i.alert));
    if (waiting.length === 0 || waiting.length !== (alert.standsFor ?? 1)) return false;
    this.deps.logger.info(
      { thread: place.threadTs, incidents: waiting.map((i) => i.id) },
      'Slack message met the webhook alerts it stands for: their incidents in its thread',
    );
    for (const incident of waiting) {
      this.stopWaiting(incident.fingerprint);
      await this.serial(incident.fingerprint, () =>
        this.apply({ ...incident.alert, source: alert.source }, place, 'alertmanager'),
      );
    }
    return true;
  }

  /** A partial reading waits for the webhook's exact alerts; when the wait ends without them, it stands alone. */
  private holdReading(alert: Alert, place: IncidentPlace, actor: string): void {
    const reading: WaitingReading = {
      alert,
      place,
      met: 0,
      timer: setTimeout(() => {
        this.readingsWaiting.delete(reading);
        if (reading.met > 0) return; // some met it: those are its incidents
        void this.serial(alert.fingerprint, () => this.apply(alert, place, actor)).catch((err: unknown) =>
          this.deps.logger.warn({ err }, 'could not handle a Slack alert after waiting for the webhook'),
        );
      }, this.waitMs),
    };
    reading.timer.unref();
    this.readingsWaiting.add(reading);
  }

  /**
   * At shutdown: partial readings still waiting are applied now (they exist only in this process); the waits of
   * webhook alerts end (their incidents are in the store, unposted: a replica posts them once their claim expired).
   */
  async flushMeeting(): Promise<void> {
    for (const t of this.webhookWaiting.values()) clearTimeout(t);
    this.webhookWaiting.clear();
    const readings = [...this.readingsWaiting];
    this.readingsWaiting.clear();
    for (const r of readings) {
      clearTimeout(r.timer);
      if (r.met > 0) continue;
      await this.serial(r.alert.fingerprint, () => this.apply(r.alert, r.place, 'alertmanager')).catch((err: unknown) =>
        this.deps.logger.warn({ err }, 'could not handle a waiting Slack alert at stop'),
      );
    }
  }

  /**
   * The open incidents of this thread that a partial reading stands for: same alert name, every label it shows theirs.
   * Empty for an exact reading (its own fingerprint finds its incident).
   */
  private async incidentsItStandsFor(alert: Alert, place: IncidentPlace): Promise<Incident[]> {
    if (!partial(alert)) return [];
    const missing = new Set(alert.missingLabels);
    const shown = Object.entries(alert.labels).filter(([k]) => !missing.has(k));
    return (await this.deps.store.listOpen()).filter(
      (i) =>
        i.channel === place.channel &&
        i.threadTs === place.threadTs &&
        i.fingerprint !== alert.fingerprint &&
        i.alert.missingLabels.length === 0 &&
        i.alertname === alert.alertname &&
        shown.every(([k, v]) => i.alert.labels[k] === v),
    );
  }

  /**
   * An alert from the webhook: the bot posts the alert message itself and uses its thread. The incident is inserted
   * first (with no thread yet): only the replica that inserted it posts the alert message, so the same notification
   * reaching two replicas (Alertmanager in HA sends from each of its peers) posts one.
   */
  fromWebhook(alert: Alert): Promise<void> {
    return this.serial(alert.fingerprint, async () => {
      const open = await this.deps.store.findOpen(alert.fingerprint);
      if (!open && this.waitMs > 0 && alert.status === 'firing') return this.meetSlackMessage(alert);
      await this.apply(
        alert,
        { channel: open?.channel ?? this.deps.config.slack.channels[0], threadTs: open?.threadTs ?? '' },
        'alertmanager',
        () => renderWebhookAlert(alert),
      );
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
      // Inserted first, announced by the replica that inserted it (as a webhook alert is).
      await this.apply(alert, { channel, threadTs: '' }, user, () => ({
        text: `🛠️ ${alertname} on ${host.name}: incident opened by hand by <@${user}> (no alert).`,
      }));
      return (await this.deps.store.findOpen(alert.fingerprint)) as Incident;
    });
  }

  /**
   * Posts the messages of open incidents nobody posted: their opener died before posting (its claim expired) or its
   * post failed. Run on the heartbeat, so such an incident does not wait for its alert's next delivery (hours away
   * with Alertmanager's repeat_interval). Each is claimed first: of the replicas doing this, one posts it. Returns how
   * many this replica posted.
   */
  async postUnposted(): Promise<number> {
    let posted = 0;
    for (const found of await this.deps.store.unpostedIncidents(this.deps.now().toISOString())) {
      await this.serial(found.fingerprint, async () => {
        const at = this.deps.now();
        const claim = {
          owner: this.replica.id,
          until: new Date(at.getTime() + this.replica.postClaimTtlMs).toISOString(),
        };
        if (!(await this.deps.store.claimPost(found.id, claim, at.toISOString()))) return;
        const incident = await this.deps.store.get(found.id);
        if (incident?.status !== 'open' || incident.messageTs) return;
        this.deps.logger.info(
          { incidentId: incident.id },
          'incident message never posted (its opener is gone or failed): posting it now',
        );
        await this.publish(incident, { channel: incident.channel, threadTs: incident.threadTs }, () =>
          renderWebhookAlert(incident.alert),
        );
        posted++;
      }).catch((err: unknown) =>
        this.deps.logger.warn({ err, incidentId: found.id }, 'could not post the message of an unposted incident'),
      );
    }
    return posted;
  }

  /** Resolves an incident by hand (`/incident resolve`). */
  async resolveByUser(incident: Incident, user: string): Promise<Incident> {
    return this.serial(incident.fingerprint, async () => {
      const at = this.deps.now().toISOString();
      // One conditional update: a resolve by hand racing the alert's own resolve (another replica) closes out once.
      const resolved = await this.deps.store.resolveOpen(incident.id, { resolvedAt: at, resolvedBy: user });
      if (!resolved) return (await this.deps.store.get(incident.id)) ?? incident;
      await this.deps.store.appendTimeline(incident.id, 'incident.resolved', user, { reason: 'resolved by hand' }, at);
      await this.closeOut(resolved);
      return resolved;
    });
  }

  private async apply(
    alert: Alert,
    place: IncidentPlace,
    actor = 'alertmanager',
    announcement?: () => Announcement,
  ): Promise<void> {
    const log = this.deps.logger.child({ fingerprint: alert.fingerprint, alertname: alert.alertname });
    const outcome = await applyAlert(
      {
        store: this.deps.store,
        hosts: this.deps.config.hosts,
        stillFiringIntervalSec: this.deps.config.slack.stillFiringIntervalSec,
        now: this.deps.now,
        bindingOf: (name) => this.deps.runbooks.get(name)?.binding,
        postClaim: { owner: this.replica.id, ttlMs: this.replica.postClaimTtlMs },
      },
      alert,
      place,
      actor,
    );
    switch (outcome.kind) {
      case 'opened': {
        log.info({ incidentId: outcome.incident.id, host: outcome.incident.hostName }, 'incident opened');
        // Inserted here, with this replica's claim to post: no other replica posts it while the claim holds.
        await this.publish(outcome.incident, place, announcement);
        return;
      }
      case 'repeated': {
        if (!outcome.incident.messageTs) {
          // The replica that opened it is posting it, or its post failed (Slack down past every retry, or the replica
          // died): the repeat is the chance to show the incident, once its claim has expired.
          const at = this.deps.now();
          const claimed = await this.deps.store.claimPost(
            outcome.incident.id,
            { owner: this.replica.id, until: new Date(at.getTime() + this.replica.postClaimTtlMs).toISOString() },
            at.toISOString(),
          );
          if (!claimed) {
            log.info({ incidentId: outcome.incident.id }, 'incident message is being posted by another replica');
            return;
          }
          log.info({ incidentId: outcome.incident.id }, 'incident message was never posted: posting it now');
          await this.publish(outcome.incident, place, announcement);
          return;
        }
        // A new alert message (not the incident's own) says nothing by itself otherwise: answer under it which
        // incident is already open and where. A low-priority post, and not awaited: in a storm every repeated message
        // gets its answer, but after the channel's other posts (new incidents' messages, clicks' results), and the
        // work of this alert's next delivery does not wait for it in the channel's pace.
        if (
          place.threadTs &&
          place.channel === outcome.incident.channel &&
          place.threadTs !== outcome.incident.threadTs
        ) {
          const link = await this.presenter.permalink(outcome.incident);
          void this.presenter
            .replyAt(place, renderAlreadyOpen(outcome.incident, link), { low: true })
            .catch((err: unknown) => log.warn({ err }, 'could not say the incident is already open'));
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

  /**
   * Posts an incident's message, under this replica's claim. An incident opened by the webhook has no thread yet: the
   * alert's own Slack message is its thread when this delivery came as one, otherwise the bot posts the alert first.
   */
  private async publish(incident: Incident, place: IncidentPlace, announcement?: () => Announcement): Promise<void> {
    const claim = this.keepClaim(incident.id);
    try {
      await this.publishClaimed(incident, place, announcement);
    } finally {
      claim.stop();
    }
  }

  /**
   * Renews this replica's claim to post while the post waits (a storm's posts queue for the channel's pace, which can
   * outlast the claim): another replica takes over only from a replica that stopped renewing, i.e. died.
   */
  private keepClaim(incidentId: number): { stop(): void } {
    const { id, postClaimTtlMs } = this.replica;
    const timer = setInterval(
      () => {
        const at = this.deps.now();
        this.deps.store
          .claimPost(
            incidentId,
            { owner: id, until: new Date(at.getTime() + postClaimTtlMs).toISOString() },
            at.toISOString(),
          )
          .catch((err: unknown) => this.deps.logger.warn({ err, incidentId }, 'could not renew the claim to post'));
      },
      Math.max(1000, Math.floor(postClaimTtlMs / 3)),
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async publishClaimed(
    incident: Incident,
    place: IncidentPlace,
    announcement?: () => Announcement,
  ): Promise<void> {
    let current = incident;
    if (!current.threadTs) {
      const threadTs =
        place.threadTs ||
        (await this.presenter.announce(current.channel, announcement?.() ?? renderWebhookAlert(current.alert)));
      current = await this.deps.store.update(current.id, { threadTs });
    }
    const posted = await this.presenter.post(current);
    try {
      this.hooks.opened?.(posted);
    } catch (err) {
      this.deps.logger.warn({ err, incidentId: posted.id }, 'a feature failed on the new incident');
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
