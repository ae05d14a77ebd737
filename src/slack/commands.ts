/**
 * `/incident`: list, show, timeline, run, note, resolve, help. Acked at once; answers only the caller unless the
 * result belongs in the incident's thread.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config, HostConfig } from '../config/schema';
import { PilotError } from '../errors';
import type { StepScheduler } from '../incident/run-step';
import type { IncidentStore } from '../incident/store';
import type { Incident } from '../incident/types';
import type { Logger } from '../logger';
import type { AccessPolicy } from '../mitigation/access';
import type { MitigationService } from '../mitigation/mitigation-service';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import type { Runbook, Step } from '../runbook/types';
import type { AlertFlow } from './alert-flow';
import { errorText } from './blocks/error-text';
import { escapeMrkdwn, formatUtc, truncate } from './blocks/format';
import { stateText } from './blocks/incident-message';
import type { IncidentPresenter } from './incident-presenter';
import { pickIncidentHost } from './pick-host';
import type { MitigationAsk, ReportedStepRunner } from './steps';
import { postTimeline } from './timeline';

// mrkdwn: Slack reads `<id>` as a link or mention and shows `id`, so the placeholders are written as entities.
export const USAGE = [
  '*Usage:* `/incident &lt;subcommand&gt;`',
  '• `list`: open incidents, with links to their threads',
  '• `show &lt;id&gt;`: an incident and the state of its steps',
  '• `timeline &lt;id&gt;`: post the timeline in the incident thread',
  '• `run &lt;step&gt; &lt;host&gt;`: run a runbook step (e.g. `backend-state`, `diagnosis-2`) on a configured host; opens an incident when there is none',
  '• `host &lt;id&gt; &lt;host&gt;`: pick the host of an incident whose alert names none (its rule sums over instances)',
  '• `note &lt;id&gt; &lt;text&gt;`: add a note to the timeline',
  '• `resolve &lt;id&gt;`: close the incident with a summary',
  '• `help`: this text',
].join('\n');

/** What `/incident` needs. */
export interface CommandDeps {
  config: Pick<Config, 'slack' | 'hosts'>;
  store: Pick<IncidentStore, 'get' | 'listOpen' | 'update' | 'appendTimeline' | 'timeline'>;
  runbooks: Pick<RunbookRegistry, 'get' | 'list' | 'action'>;
  scheduler: Pick<StepScheduler, 'countClick'>;
  presenter: Pick<IncidentPresenter, 'permalink' | 'reply' | 'upload' | 'refresh'>;
  logger: Logger;
  now: () => Date;
  flow: Pick<AlertFlow, 'openManual' | 'resolveByUser'>;
  access: Pick<AccessPolicy, 'checkResolve'>;
  /** Plans a mitigation (access before anything opens); absent, `run` of a mitigation is refused. */
  mitigation?: Pick<MitigationService, 'plan'>;
  /** The hosts an incident's binding offers (see hostChoices), for `host`. */
  hostChoices?(incident: Incident): string[];
  runAndReport: ReportedStepRunner;
  /** Mitigation goes through confirmation and guards; without it, `run` of a mitigation is refused. */
  requestMitigation?(req: MitigationAsk): Promise<void>;
}

/** Who typed the command, where: incidents are listed and found only in that channel. */
export interface CommandCaller {
  user: string;
  channel: string;
  triggerId: string;
}

/** Registers `/incident`. */
export function registerCommands(app: App, deps: CommandDeps): void {
  app.command('/incident', async ({ ack, command, respond, client }) => {
    await ack();
    const reply = (text: string) => respond({ response_type: 'ephemeral', text });
    try {
      await dispatch(
        deps,
        client,
        { user: command.user_id, channel: command.channel_id, triggerId: command.trigger_id },
        command.text ?? '',
        reply,
      );
    } catch (err) {
      const { text, logId } = errorText(err);
      if (logId) deps.logger.error({ logId, err }, 'internal error shown to the user');
      await reply(text).catch(() => undefined);
    }
  });
}

/** The one line answered outside the incident channels. */
export function outsideChannelsText(channels: readonly string[]): string {
  return `/incident works only in the incident channel${channels.length > 1 ? 's' : ''} ${channels.map((c) => `<#${c}>`).join(', ')} and their threads: use it there.`;
}

/** Parses and runs one `/incident` text, typed by `caller.user` in `caller.channel` (an incident channel). */
export async function dispatch(
  deps: CommandDeps,
  client: WebClient,
  caller: CommandCaller,
  text: string,
  reply: (t: string) => Promise<unknown>,
): Promise<void> {
  const { user, channel, triggerId } = caller;
  // Answered only in the incident channels (and their threads, which Slack reports as the channel): elsewhere a DM
  // or another channel would list, show or resolve incidents its members should not see.
  if (!deps.config.slack.channels.includes(channel))
    return void (await reply(outsideChannelsText(deps.config.slack.channels)));
  const [sub = 'help', ...args] = text.trim().split(/\s+/).filter(Boolean);
  // Every command counts against the user's clicks a minute, like a button: at the door (count-every-click.ts).
  const usage = (why: string) => reply(`${why}\n\n${USAGE}`);
  switch (sub.toLowerCase()) {
    case 'help':
      await reply(USAGE);
      return;
    case 'list': {
      const open = (await deps.store.listOpen()).filter((i) => i.channel === channel);
      if (!open.length) return void (await reply('No open incidents in this channel.'));
      const lines = await Promise.all(
        open.map(async (i) => {
          const link = await deps.presenter.permalink(i);
          return `• *#${i.id}* ${escapeMrkdwn(i.alertname)} — ${escapeMrkdwn(i.alert.labels.backend ?? '?')}/${escapeMrkdwn(i.alert.labels.server ?? '?')} on \`${escapeMrkdwn(i.hostName ?? i.alert.labels.instance ?? '?')}\`, since ${formatUtc(i.openedAt)}${link ? ` — <${link}|thread>` : ''}`;
        }),
      );
      await reply(truncate(`*Open incidents in this channel (${open.length})*\n${lines.join('\n')}`, 3000));
      return;
    }
    case 'show': {
      const incident = await incidentArg(deps, args[0], channel);
      if (!incident)
        return void (await usage(
          `\`show\` needs an incident id such as \`12\`${args[0] ? `; #${escapeMrkdwn(args[0])} does not exist` : ''}.`,
        ));
      const runbook = deps.runbooks.get(incident.alertname);
      const steps = (runbook?.steps ?? []).map(
        (s) =>
          `• ${escapeMrkdwn(s.id)}: ${escapeMrkdwn(s.title)} — ${stateText(incident.steps[s.id], s, { hostConfigured: incident.hostName !== undefined })}`,
      );
      const link = await deps.presenter.permalink(incident);
      await reply(
        truncate(
          `*#${incident.id} ${escapeMrkdwn(incident.alertname)}* — ${incident.status}, host \`${escapeMrkdwn(incident.hostName ?? 'not configured')}\`, opened ${formatUtc(incident.openedAt)}${incident.resolvedAt ? `, resolved ${formatUtc(incident.resolvedAt)}` : ''}${link ? ` — <${link}|thread>` : ''}\n${steps.join('\n')}`,
          3000,
        ),
      );
      return;
    }
    case 'timeline': {
      const incident = await incidentArg(deps, args[0], channel);
      if (!incident)
        return void (await usage(
          `\`timeline\` needs an incident id such as \`12\`${args[0] ? `; #${escapeMrkdwn(args[0])} does not exist` : ''}.`,
        ));
      await postTimeline(deps, incident);
      await reply(`Posted the timeline of #${incident.id} in its thread.`);
      return;
    }
    case 'note': {
      const incident = await incidentArg(deps, args[0], channel);
      const note = args.slice(1).join(' ').trim();
      if (!incident || !note)
        return void (await usage('`note` needs an incident id and the text, e.g. `/incident note 12 web2 disk full`.'));
      const clean = truncate(note, 1000);
      await deps.store.appendTimeline(incident.id, 'note.added', user, { text: clean }, deps.now().toISOString());
      await deps.presenter.reply(incident, { text: `📝 Note by <@${user}>: ${escapeMrkdwn(clean)}` });
      await reply(`Noted on #${incident.id}.`);
      return;
    }
    case 'resolve': {
      const incident = await incidentArg(deps, args[0], channel);
      if (!incident)
        return void (await usage(
          `\`resolve\` needs an incident id such as \`12\`${args[0] ? `; #${escapeMrkdwn(args[0])} does not exist` : ''}.`,
        ));
      if (incident.status === 'resolved') return void (await reply(`#${incident.id} is already resolved.`));
      // Resolving also expires the incident's silences and ends its mitigation: the same people as mitigation,
      // widened by access.resolve.
      const host = deps.config.hosts.find((h) => h.name === incident.hostName);
      const decision = await deps.access.checkResolve(user, host);
      if (!decision.allowed) {
        const e = new PilotError('NOT_ALLOWED', `you may not resolve #${incident.id}`, {
          hint: 'ask one of them, or let the alert resolve it',
          details: { grantees: decision.grantees },
        });
        await deps.store.appendTimeline(
          incident.id,
          'incident.resolve-refused',
          user,
          { code: e.code, error: e.message, grantees: decision.grantees },
          deps.now().toISOString(),
        );
        throw e;
      }
      await deps.flow.resolveByUser(incident, user);
      await reply(`Resolved #${incident.id}; the summary is in its thread.`);
      return;
    }
    case 'host': {
      const incident = await incidentArg(deps, args[0], channel);
      const name = args[1];
      if (!incident || !name || args.length > 2)
        return void (await usage('`host` needs an incident id and a configured host, e.g. `/incident host 12 lb-1`.'));
      await reply(await pickIncidentHost(deps, incident, name, user));
      return;
    }
    case 'run': {
      const [stepArg, hostArg] = args;
      if (!stepArg || !hostArg || args.length > 2)
        return void (await usage('`run` needs a step and a host, e.g. `/incident run backend-state lb-1`.'));
      const host = deps.config.hosts.find((h) => h.name === hostArg);
      // The step first, whatever the host: an unknown step gets the same answer for a configured host and for any
      // other name, so a guesser learns nothing about the hosts from it (#19 §11). Never the list of hosts either.
      const found = await findStep(deps, stepArg, host, channel);
      if (!found)
        return void (await usage(`No runbook has a step or action \`${escapeMrkdwn(truncate(stepArg, 64))}\`.`));
      if (!host) return void (await usage(`No host named \`${escapeMrkdwn(truncate(hostArg, 64))}\` is configured.`));
      const actionId = found.actionId;
      if (found.step.kind === 'checklist' || !actionId)
        return void (await reply(`\`${found.step.id}\` is a checklist step: mark it done on the incident message.`));
      const action = deps.runbooks.action(found.runbook, actionId);
      if (!action) throw new PilotError('ACTION_UNKNOWN', `action ${actionId} is not in the catalog`);
      // A mitigation is refused before anything happens, not even an incident opened by hand; the confirmation and
      // its submission check again.
      // The plan's own access check (recorded when it refuses), before an incident is opened.
      if (action.risk === 'change') {
        if (!deps.mitigation || !deps.requestMitigation)
          throw new PilotError('NOT_ALLOWED', `${action.title} is not enabled on this bot`);
        const cleared = await deps.mitigation.plan({ user, action, host });
        if (cleared.kind === 'refused') throw cleared.error;
      }
      const incident =
        (await openIncidentFor(deps, host, found.runbook, channel)) ??
        (await deps.flow.openManual(found.runbook.doc.alertname, host, user, channel));
      if (incident.channel !== channel) {
        return void (await reply(
          `An incident for \`${host.name}\` is already open in another channel: run the step from its thread there.`,
        ));
      }
      if (action.risk === 'change' && deps.requestMitigation) {
        await deps.requestMitigation({
          incident,
          step: found.step,
          host: host.name,
          action,
          user,
          triggerId,
          client,
        });
        return;
      }
      await reply(`Running ${action.title} on \`${host.name}\` for #${incident.id}; the result goes to its thread.`);
      void deps
        .runAndReport({ incident, step: found.step, action, user })
        .catch((err: unknown) => deps.logger.error({ err }, 'run from /incident failed'));
      return;
    }
    default:
      await usage(`Unknown subcommand \`${escapeMrkdwn(truncate(sub, 40))}\`.`);
  }
}

/** The incident an argument names, when it lives in `channel`; one of another channel reads as unknown here. */
async function incidentArg(
  deps: Pick<CommandDeps, 'store'>,
  arg: string | undefined,
  channel: string,
): Promise<Incident | undefined> {
  const m = /^#?(\d{1,9})$/.exec(arg ?? '');
  const incident = m ? await deps.store.get(Number(m[1])) : undefined;
  return incident?.channel === channel ? incident : undefined;
}

/**
 * A step by id (`diagnosis-2`), or by action id (`backend-state`); prefers the runbook of an incident open on the host
 * in this channel.
 */
async function findStep(
  deps: CommandDeps,
  arg: string,
  host: HostConfig | undefined,
  channel: string,
): Promise<{ runbook: Runbook; step: Step; actionId?: string } | undefined> {
  // The host only orders the runbooks (those of its open incidents first); whether the step exists does not depend on it.
  const open = host
    ? (await deps.store.listOpen()).filter((i) => i.hostName === host.name && i.channel === channel)
    : [];
  const runbooks = [...deps.runbooks.list()].sort(
    (a, b) =>
      Number(open.some((i) => i.alertname === b.doc.alertname)) -
      Number(open.some((i) => i.alertname === a.doc.alertname)),
  );
  for (const runbook of runbooks) {
    const byId = runbook.steps.find((s) => s.id === arg);
    if (byId) return { runbook, step: byId, actionId: byId.actions[0] };
    const byAction = runbook.steps.find((s) => s.actions.includes(arg));
    if (byAction) return { runbook, step: byAction, actionId: arg };
  }
  return undefined;
}

async function openIncidentFor(
  deps: CommandDeps,
  host: HostConfig,
  runbook: Runbook,
  channel: string,
): Promise<Incident | undefined> {
  return (await deps.store.listOpen())
    .filter((i) => i.hostName === host.name && i.alertname === runbook.doc.alertname && i.channel === channel)
    .pop();
}
