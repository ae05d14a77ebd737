/**
 * The message listener: alert messages in watched channels become incidents. Slack's retries are dropped by
 * event id; the bot's own messages, unwatched channels and ordinary chatter are ignored.
 */
import type { App } from '@slack/bolt';
import { hostMatchByLabel } from '../config/find-host';
import type { Config, HostConfig } from '../config/schema';
import type { EventClaims } from '../incident/event-claims';
import type { Alert } from '../ingest/alert';
import type { AlertIntake } from '../ingest/intake';
import type { LabelMemory } from '../ingest/label-memory';
import type { ParsedSlackAlert, SlackAlertOptions } from '../ingest/parse-slack-alert';
import type { Logger } from '../logger';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import type { AlertFlow } from './alert-flow';

/** Parses a Slack message event into alerts; null when it is not an alert message. */
export type SlackAlertParser = (event: Record<string, unknown>) => ParsedSlackAlert | null;

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
  /** Reads a message as alerts (pure). */
  parse: SlackAlertParser;
  /** Caps, counts and learns from the alerts read (the same intake as the webhook's). */
  intake: Pick<AlertIntake, 'acceptAlerts'>;
  /** The bot's own bot id (from auth.test), to ignore its own messages. */
  botId(): Promise<string | undefined>;
  /** The alerts a message stands for (Alertmanager's API, open incidents); default: the message's own reading. */
  complete?: (alert: Alert) => Promise<Alert[]>;
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
    let parsed: ReturnType<SlackAlertParser>;
    try {
      parsed = deps.parse(raw);
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
      const alerts = deps.complete && !parsed.postedBy ? await deps.complete(read) : [read];
      for (const alert of alerts) {
        await deps.flow.fromSlack(alert, { channel, threadTs }, parsed.postedBy).catch((err: unknown) => {
          deps.logger.error({ err, fingerprint: alert.fingerprint, channel }, 'could not handle the alert');
        });
      }
    }
  });
}
