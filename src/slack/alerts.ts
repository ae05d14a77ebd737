/**
 * The message listener: alert messages in watched channels become incidents. Slack's retries are dropped by
 * event id; the bot's own messages, unwatched channels and ordinary chatter are ignored.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { hostMatchByLabel } from '../config/find-host';
import type { Config, HostConfig } from '../config/schema';
import type { EventClaims } from '../incident/event-claims';
import type { IncidentStore } from '../incident/store';
import type { Alert } from '../ingest/alert';
import { completeAlert } from '../ingest/complete-alerts';
import type { AlertIntake } from '../ingest/intake';
import type { LabelMemory } from '../ingest/label-memory';
import { type ParsedSlackAlert, parseSlackAlertMessage, type SlackAlertOptions } from '../ingest/parse-slack-alert';
import type { Logger } from '../logger';
import type { AlertmanagerClient } from '../observe/alertmanager-client';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import type { AlertFlow } from './alert-flow';

/**
 * What the Slack parsers need to know, from the runbooks (label names, grouping, host label: the bindings) and the
 * configured hosts (their match values help tell which title value is the host).
 */
export function alertParseOptions(
  runbooks: Pick<RunbookRegistry, 'get'>,
  hosts: readonly HostConfig[],
  memory?: LabelMemory,
): SlackAlertOptions {
  return {
    labelNames: (name) => runbooks.get(name)?.binding?.labels,
    learnedLabelNames: (name) => memory?.nameSets(name) ?? [],
    knownValues: (name, label) => memory?.values(name, label),
    groupBy: (name) => runbooks.get(name)?.binding?.groupBy,
    knownAlert: (name) => runbooks.get(name) !== undefined,
    hostLabel: (name) => runbooks.get(name)?.binding?.hostLabel,
    hostMatch: hostMatchByLabel(hosts),
  };
}

/** What the message listener needs. */
export interface AlertFeatureDeps {
  config: Pick<Config, 'slack'>;
  logger: Logger;
  now: () => Date;
  flow: Pick<AlertFlow, 'fromSlack'>;
  /** Each Slack event id is handled once (Slack retries). */
  eventClaims: Pick<EventClaims, 'claim'>;
  /** How a message is read as alerts (ingest/parse-slack-alert.ts): the bindings, learned labels, alert senders. */
  parseOptions: SlackAlertOptions;
  /** Caps, counts and learns from the alerts read (the same intake as the webhook's). */
  intake: Pick<AlertIntake, 'acceptAlerts'>;
  /** The bot's own bot id (from auth.test), to ignore its own messages. */
  botId(): Promise<string | undefined>;
  /**
   * Where the alerts a message stands for are found (Alertmanager's API when configured, the open incidents), and the
   * label memory told what Alertmanager returned; without it, the message's own reading stands.
   */
  completion?: {
    alertmanager: Pick<AlertmanagerClient, 'configured' | 'listAlerts'>;
    store: Pick<IncidentStore, 'listOpen'>;
    labelMemory: Pick<LabelMemory, 'learn'>;
  };
}

/** The alerts a message's reading stands for (see ingest/complete-alerts.ts). */
async function complete(
  read: Alert,
  from: NonNullable<AlertFeatureDeps['completion']>,
  logger: Logger,
): Promise<Alert[]> {
  const { alertmanager, store, labelMemory } = from;
  const completion = await completeAlert(read, {
    listAlerts: alertmanager.configured ? (labels) => alertmanager.listAlerts(labels) : undefined,
    openAlerts: async (alertname) =>
      (await store.listOpen()).filter((i) => i.alertname === alertname).map((i) => i.alert),
    learn: (labels) => labelMemory.learn(labels),
    logger,
  });
  return completion.alerts;
}

/**
 * The bot's own bot id, to ignore what the bot itself posted: asked of Slack (auth.test) once and kept; a failed ask
 * is not kept, so the next message asks again, and until then no message is taken for the bot's own.
 */
export function ownBotId(
  client: { auth: Pick<WebClient['auth'], 'test'> },
  logger: Logger,
): () => Promise<string | undefined> {
  let asked: Promise<string | undefined> | undefined;
  return () => {
    asked ??= client.auth.test().then(
      (r) => r.bot_id,
      (err: unknown) => {
        asked = undefined;
        logger.warn({ err }, 'auth.test failed: cannot tell the bot’s own messages yet');
        return undefined;
      },
    );
    return asked;
  };
}

/** Registers the `message` listener. */
export function registerAlerts(app: App, deps: AlertFeatureDeps): void {
  const watched = new Set(deps.config.slack.channels);
  app.event('message', async ({ event, body, client }) => {
    const raw = event as unknown as Record<string, unknown>;
    const channel = typeof raw.channel === 'string' ? raw.channel : undefined;
    if (!channel || !watched.has(channel)) return;
    const inner = (raw.subtype === 'message_changed' ? raw.message : raw) as Record<string, unknown> | undefined;
    const ownBot = await deps.botId();
    if (ownBot && inner?.bot_id === ownBot) return;
    const eventId = (body as { event_id?: string }).event_id;
    if (eventId && !(await deps.eventClaims.claim(eventId, deps.now()))) {
      deps.logger.debug({ eventId }, 'Slack retry of an event already handled: dropped');
      return;
    }
    let parsed: ParsedSlackAlert | null;
    try {
      parsed = parseSlackAlertMessage(raw, deps.parseOptions);
    } catch (err) {
      deps.logger.warn({ err, channel, eventId }, 'an alert-like message could not be parsed; ignored');
      return;
    }
    if (!parsed) return;
    const threadTs = parsed.ref.threadTs ?? parsed.ref.ts;
    if (parsed.refused && parsed.postedBy) {
      deps.logger.info({ channel, user: parsed.postedBy }, 'a person’s message tried to resolve an incident: ignored');
      await client.chat
        .postEphemeral({
          channel,
          user: parsed.postedBy,
          text: `Nothing changed: ${parsed.refused}.`,
          thread_ts: threadTs,
        })
        .catch((err: unknown) => deps.logger.warn({ err }, 'could not post an ephemeral answer'));
    }
    for (const read of deps.intake.acceptAlerts('slack', parsed.alerts)) {
      // A person's message is what they typed: not completed from Alertmanager, recorded under their name.
      const alerts = deps.completion && !parsed.postedBy ? await complete(read, deps.completion, deps.logger) : [read];
      for (const alert of alerts) {
        await deps.flow.fromSlack(alert, { channel, threadTs }, parsed.postedBy).catch((err: unknown) => {
          deps.logger.error({ err, fingerprint: alert.fingerprint, channel }, 'could not handle the alert');
        });
      }
    }
  });
}
