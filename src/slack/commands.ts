/**
 * `/incident`: list, show, timeline, run, note, resolve, help. Acked at once; answers only the caller unless the
 * result belongs in the incident's thread.
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { HostConfig } from '../config/schema';
import { PilotError, userText } from '../errors';
import type { Incident } from '../incident/types';
import type { Runbook, Step } from '../runbook/types';
import type { AlertFlow } from './alert-flow';
import { stateText } from './blocks/incident-message';
import { escapeErrorText, escapeMrkdwn, formatUtc, truncate } from './blocks/format';
import { runAndReport, type StepFeatureDeps } from './steps';
import { postTimeline } from './timeline';

export const USAGE = [
  '*Usage:* `/incident <subcommand>`',
  '• `list`: open incidents, with links to their threads',
  '• `show <id>`: an incident and the state of its steps',
  '• `timeline <id>`: post the timeline in the incident thread',
  '• `run <step> <host>`: run a runbook step (e.g. `backend-state`, `diagnosis-2`) on a configured host; opens an incident when there is none',
  '• `note <id> <text>`: add a note to the timeline',
  '• `resolve <id>`: close the incident with a summary',
  '• `help`: this text',
].join('\n');

export interface CommandDeps extends StepFeatureDeps {
  flow: AlertFlow;
}

/** Registers `/incident`. */
export function registerCommands(app: App, deps: CommandDeps): void {
  app.command('/incident', async ({ ack, command, respond, client }) => {
    await ack();
    const reply = (text: string) => respond({ response_type: 'ephemeral', text });
    try {
      await dispatch(deps, client, command.user_id, command.trigger_id, command.text ?? '', reply);
    } catch (err) {
      const { text } = userText(err, deps.logger);
      await reply(escapeErrorText(text, deps.config.access)).catch(() => undefined);
    }
  });
}

/** Parses and runs one `/incident` text. */
export async function dispatch(deps: CommandDeps, client: WebClient, user: string, triggerId: string, text: string, reply: (t: string) => Promise<unknown>): Promise<void> {
  const [sub = 'help', ...args] = text.trim().split(/\s+/).filter(Boolean);
  const usage = (why: string) => reply(`${why}\n\n${USAGE}`);
  switch (sub.toLowerCase()) {
    case 'help':
      await reply(USAGE);
      return;
    case 'list': {
      const open = deps.store.listOpen();
      if (!open.length) return void (await reply('No open incidents.'));
      const lines = await Promise.all(
        open.map(async (i) => {
          const link = await deps.presenter.permalink(i);
          return `• *#${i.id}* ${escapeMrkdwn(i.alertname)} — ${escapeMrkdwn(i.alert.labels.backend ?? '?')}/${escapeMrkdwn(i.alert.labels.server ?? '?')} on \`${escapeMrkdwn(i.hostName ?? i.alert.labels.instance ?? '?')}\`, since ${formatUtc(i.openedAt)}${link ? ` — <${link}|thread>` : ''}`;
        }),
      );
      await reply(truncate(`*Open incidents (${open.length})*\n${lines.join('\n')}`, 3000));
      return;
    }
    case 'show': {
      const incident = incidentArg(deps, args[0]);
      if (!incident) return void (await usage(`\`show\` needs an incident id such as \`12\`${args[0] ? `; #${escapeMrkdwn(args[0])} does not exist` : ''}.`));
      const runbook = deps.runbooks.get(incident.alertname);
      const steps = (runbook?.steps ?? []).map((s) => `• ${escapeMrkdwn(s.id)}: ${escapeMrkdwn(s.title)} — ${stateText(incident.steps[s.id], s, { hostConfigured: incident.hostName !== undefined })}`);
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
      const incident = incidentArg(deps, args[0]);
      if (!incident) return void (await usage(`\`timeline\` needs an incident id such as \`12\`${args[0] ? `; #${escapeMrkdwn(args[0])} does not exist` : ''}.`));
      await postTimeline(deps, incident);
      await reply(`Posted the timeline of #${incident.id} in its thread.`);
      return;
    }
    case 'note': {
      const incident = incidentArg(deps, args[0]);
      const note = args.slice(1).join(' ').trim();
      if (!incident || !note) return void (await usage('`note` needs an incident id and the text, e.g. `/incident note 12 web2 disk full`.'));
      const clean = truncate(note, 1000);
      deps.store.appendTimeline(incident.id, 'note.added', user, { text: clean }, deps.now().toISOString());
      await deps.presenter.reply(incident, { text: `📝 Note by <@${user}>: ${escapeMrkdwn(clean)}` });
      await reply(`Noted on #${incident.id}.`);
      return;
    }
    case 'resolve': {
      const incident = incidentArg(deps, args[0]);
      if (!incident) return void (await usage(`\`resolve\` needs an incident id such as \`12\`${args[0] ? `; #${escapeMrkdwn(args[0])} does not exist` : ''}.`));
      if (incident.status === 'resolved') return void (await reply(`#${incident.id} is already resolved.`));
      await deps.flow.resolveByUser(incident, user);
      await reply(`Resolved #${incident.id}; the summary is in its thread.`);
      return;
    }
    case 'run': {
      const [stepArg, hostArg] = args;
      if (!stepArg || !hostArg || args.length > 2) return void (await usage('`run` needs a step and a host, e.g. `/incident run backend-state lb-1`.'));
      const host = deps.config.hosts.find((h) => h.name === hostArg);
      if (!host) {
        const names = deps.config.hosts.map((h) => `\`${h.name}\``).join(', ') || 'none';
        return void (await usage(`No host named \`${escapeMrkdwn(truncate(hostArg, 64))}\` is configured (configured: ${names}).`));
      }
      const found = findStep(deps, stepArg, host);
      if (!found) return void (await usage(`No runbook has a step or action \`${escapeMrkdwn(truncate(stepArg, 64))}\`.`));
      const incident = openIncidentFor(deps, host, found.runbook) ?? (await deps.flow.openManual(found.runbook.doc.alertname, host, user));
      const actionId = found.actionId;
      if (found.step.kind === 'checklist' || !actionId) return void (await reply(`\`${found.step.id}\` is a checklist step: mark it done on the incident message.`));
      const action = deps.runbooks.action(found.runbook, actionId);
      if (!action) throw new PilotError('ACTION_UNKNOWN', `action ${actionId} is not in the catalog`);
      if (action.risk === 'change') {
        if (!deps.requestMitigation) throw new PilotError('NOT_ALLOWED', `${action.title} is not enabled on this bot`);
        await deps.requestMitigation({ incident, runbook: found.runbook, step: found.step, action, user, triggerId, client });
        return;
      }
      await reply(`Running ${action.title} on \`${host.name}\` for #${incident.id}; the result goes to its thread.`);
      void runAndReport(deps, { incident, step: found.step, action, user }).catch((err: unknown) => deps.logger.error({ err }, 'run from /incident failed'));
      return;
    }
    default:
      await usage(`Unknown subcommand \`${escapeMrkdwn(truncate(sub, 40))}\`.`);
  }
}

function incidentArg(deps: Pick<CommandDeps, 'store'>, arg: string | undefined): Incident | undefined {
  const m = /^#?(\d{1,9})$/.exec(arg ?? '');
  return m ? deps.store.get(Number(m[1])) : undefined;
}

/** A step by id (`diagnosis-2`), or by action id (`backend-state`); prefers the runbook of an open incident on the host. */
function findStep(deps: CommandDeps, arg: string, host: HostConfig): { runbook: Runbook; step: Step; actionId?: string } | undefined {
  const open = deps.store.listOpen().filter((i) => i.hostName === host.name);
  const runbooks = [...deps.runbooks.list()].sort((a, b) => Number(open.some((i) => i.alertname === b.doc.alertname)) - Number(open.some((i) => i.alertname === a.doc.alertname)));
  for (const runbook of runbooks) {
    const byId = runbook.steps.find((s) => s.id === arg);
    if (byId) return { runbook, step: byId, actionId: byId.actions[0] };
    const byAction = runbook.steps.find((s) => s.actions.includes(arg));
    if (byAction) return { runbook, step: byAction, actionId: arg };
  }
  return undefined;
}

function openIncidentFor(deps: CommandDeps, host: HostConfig, runbook: Runbook): Incident | undefined {
  return deps.store
    .listOpen()
    .filter((i) => i.hostName === host.name && i.alertname === runbook.doc.alertname)
    .pop();
}
