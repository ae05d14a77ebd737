/**
 * Guarded mitigation: a click opens a confirmation modal that shows exactly what will run where and asks why; the
 * submission is checked again from our own state (the modal carries no authority), then the pre-checks run, the
 * action runs under a per-host lock, and the host is read back and the result said in the thread. Every attempt,
 * allowed or not, lands in the audit log and on the timeline.
 *
 * Who hears a refusal, one rule: a click refused before the modal opens is told to the clicker alone (ephemeral:
 * nothing was confirmed); a confirmed submission is answered in the thread, refused or not, because the team must see
 * every attempt to change a host and why it did not run.
 */
import { assertLabelsPresent } from '../incident/complete-labels';
import type { App, SlackViewAction } from '@slack/bolt';
import type { KnownBlock, View } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { ActionSpec, BuiltCommand } from '../actions/types';
import type { HostConfig } from '../config/schema';
import { asPilotError, PilotError, userText } from '../errors';
import { hostOf, runActionQuietly } from '../incident/run-step';
import type { Incident } from '../incident/types';
import type { AccessPolicy } from '../mitigation/access';
import { formatGrantees } from '../mitigation/access';
import { checkRestartBudget } from '../mitigation/guards';
import { verifyMitigation, type HostSnapshot } from '../mitigation/verify';
import type { Runbook, Step } from '../runbook/types';
import { CallbackId, encodeStepValue } from './action-ids';
import { codeBlock, escapeErrorText, escapeMrkdwn, formatUtc, truncate } from './blocks/format';
import { resolveClick, runAndReport, type StepFeatureDeps } from './steps';
import { tellUser } from './tell-user';

export interface MitigationDeps extends StepFeatureDeps {
  access: AccessPolicy;
  /** Reads the host's process, frontends and servers (HAProxy runtime API). */
  readBack(host: HostConfig, labels: Record<string, string>): Promise<HostSnapshot>;
  /** The action that validates the config before a restart or reload (`config-check`). */
  precheckAction?: ActionSpec;
  /** Optional: asks Alertmanager whether the alert is still active (undefined: unknown). */
  alertActive?(incident: Incident): Promise<boolean | undefined>;
  sleep(ms: number): Promise<void>;
}

interface Request {
  incident: Incident;
  runbook: Runbook;
  step: Step;
  action: ActionSpec;
  user: string;
}

/** Step 1: the click. Checks access, builds the exact commands and opens the confirmation modal. */
export async function requestMitigation(deps: MitigationDeps, req: Request & { triggerId: string; client: WebClient }): Promise<void> {
  const { incident, action, user, client } = req;
  try {
    assertLabelsPresent(incident, action, deps.config.hosts);
    const host = hostOf(incident, deps.config.hosts);
    await ensureAllowed(deps, req, host, undefined);
    const built = deps.runStepDeps.buildCommand(action, { labels: incident.alert.labels, host });
    const pre = needsPrecheck(deps, action) ? deps.runStepDeps.buildCommand(deps.precheckAction as ActionSpec, { labels: incident.alert.labels, host }) : undefined;
    const active = deps.alertActive ? await deps.alertActive(incident).catch(() => undefined) : undefined;
    await client.views.open({ trigger_id: req.triggerId, view: confirmationView(deps, req, host, built, pre, active) });
  } catch (err) {
    await tellUser(deps, client, { user, channel: incident.channel, threadTs: incident.threadTs }, err);
  }
}

/** Registers the modal's submission handler. */
export function registerMitigation(app: App, deps: MitigationDeps): void {
  app.view<SlackViewAction>(CallbackId.ConfirmMitigation, async ({ ack, body, view, client }) => {
    const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { reason: 'Say in a few words why (it is recorded on the timeline).' } });
      return;
    }
    const shownResolved = (() => {
      try {
        return (JSON.parse(view.private_metadata || '{}') as { r?: unknown }).r === 1;
      } catch {
        return false;
      }
    })();
    const resolvedAck = (view.state.values[RESOLVED_ACK]?.[RESOLVED_ACK]?.selected_options ?? []).some((o) => o.value === RESOLVED_ACK);
    if (shownResolved && !resolvedAck) {
      await ack({ response_action: 'errors', errors: { [RESOLVED_ACK]: 'The alert is resolved: tick this to run anyway, or cancel.' } });
      return;
    }
    await ack();
    const user = body.user.id;
    const options = view.state.values.options?.options?.selected_options ?? [];
    const dryRun = deps.config.mitigation.dryRun || options.some((o) => o.value === 'dry-run');
    let req: Request;
    try {
      const meta = JSON.parse(view.private_metadata || '{}') as { v?: string; c?: string };
      const click = resolveClick(deps, meta.v, meta.c, true);
      req = { ...click, action: click.action as ActionSpec, user };
      if (req.action.risk !== 'change') throw new PilotError('STEP_UNKNOWN', `${req.action.id} is not a mitigation`);
    } catch (err) {
      // A form whose metadata names nothing we know has no thread to answer in: the user hears it by DM.
      await tellUser(deps, client, { user }, err);
      return;
    }
    await confirmAndRun(deps, req, reason, dryRun, client, { resolvedAck });
  });
}

/** Block and action id of the "I know the alert is resolved; run anyway" checkbox (and its option's value). */
export const RESOLVED_ACK = 'resolved-ack';

/**
 * Step 2: confirmed. Re-check everything (Alertmanager too: a resolved alert needs `resolvedAck`, the explicit
 * second confirmation), then pre-checks, lock, run, verify, record.
 */
export async function confirmAndRun(deps: MitigationDeps, req: Request, reason: string, dryRun: boolean, client: WebClient, opts: { resolvedAck?: boolean } = {}): Promise<void> {
  const { action, user } = req;
  const incident = deps.store.get(req.incident.id) ?? req.incident;
  const now = () => deps.now();
  const audit = (host: string, outcome: 'allowed' | 'refused' | 'failed' | 'dry-run' | 'ok', extra: Partial<Parameters<typeof deps.store.appendAudit>[0]> = {}) =>
    deps.store.appendAudit({ at: now().toISOString(), incidentId: incident.id, user, host, actionId: action.id, outcome, reason, ...extra });

  let host: HostConfig;
  let built: BuiltCommand;
  try {
    if (incident.status === 'resolved') throw new PilotError('INCIDENT_CLOSED', `incident #${incident.id} is resolved: ${action.title} is disabled`);
    assertLabelsPresent(incident, action, deps.config.hosts);
    host = hostOf(incident, deps.config.hosts);
    await ensureAllowed(deps, { ...req, incident }, host, reason);
    built = deps.runStepDeps.buildCommand(action, { labels: incident.alert.labels, host });
    // Asked again now, not trusted from when the modal opened: the alert may have resolved in between. A dry run
    // changes nothing, so it needs no second confirmation.
    if (!dryRun && !opts.resolvedAck && deps.alertActive && (await deps.alertActive(incident).catch(() => undefined)) === false) {
      throw new PilotError('ALERT_RESOLVED', `Alertmanager says the alert of incident #${incident.id} is no longer active: ${action.title} was not run`);
    }
  } catch (err) {
    const e = asPilotError(err);
    // ensureAllowed recorded its own refusal, with the host it checked. A confirmed submission is answered in the
    // thread, refused or not (only a click is answered privately): see the module comment.
    if (e.code !== 'NOT_ALLOWED') recordRefusal(deps, { ...req, incident }, incident.hostName ?? '?', e, { reason });
    await tellThread(deps, incident, req, incident.hostName ?? '?', e);
    return;
  }

  if (dryRun) {
    const pre = needsPrecheck(deps, action) ? deps.runStepDeps.buildCommand(deps.precheckAction as ActionSpec, { labels: incident.alert.labels, host }) : undefined;
    audit(host.name, 'dry-run', { command: built.command });
    deps.store.appendTimeline(incident.id, 'mitigation.dry-run', user, { actionId: action.id, host: host.name, command: built.command, reason });
    const text = `🧪 *Dry run* of *${escapeMrkdwn(action.title)}* on \`${host.name}\` by <@${user}> (“${escapeMrkdwn(truncate(reason, 200))}”): nothing ran. It would run:\n${codeBlock([pre && `# pre-check\n${pre.command}`, `# ${action.id}\n${built.command}`].filter(Boolean).join('\n'), 2500)}`;
    await deps.presenter.reply(incident, { text: `Dry run of ${action.title} on ${host.name}: nothing ran`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
    return;
  }

  // Cheap refusals first, without the lock: a submission refused for the cooldown must not make another one read
  // "another mitigation is running". Checked again under the lock, where the answer is authoritative.
  const early = await checkRestartBudget(deps.store, deps.config.mitigation, host.name, action.id, now());
  if (early) return await refuseInThread(deps, incident, req, host, early, built, reason);

  const lockName = `mitigation:${host.name}`;
  const owner = `${user}:${action.id}:${now().getTime()}`;
  const lock = deps.store.acquireLock(lockName, owner, deps.config.mitigation.lockTtlSec * 1000, now());
  if (!lock.acquired) {
    const e = new PilotError('HOST_BUSY', `another mitigation is running on ${host.name} (${lock.owner.split(':')[1]} by user ${lock.owner.split(':')[0]} since ${formatUtc(lock.since)}); nothing was run`);
    return await refuseInThread(deps, incident, req, host, e, built, reason);
  }
  try {
    const blocked = await checkRestartBudget(deps.store, deps.config.mitigation, host.name, action.id, now());
    if (blocked) return await refuseInThread(deps, incident, req, host, blocked, built, reason);

    if (needsPrecheck(deps, action)) {
      const pre = await runActionQuietly(deps.runStepDeps, host, deps.precheckAction as ActionSpec, incident.alert.labels, user).catch((err: unknown) => asPilotError(err));
      if (pre instanceof PilotError) return await refuseInThread(deps, incident, req, host, pre, built, reason);
      if (pre.result.exitCode !== 0) {
        const out = `${pre.result.stdout.text}\n${pre.result.stderr.text}`.trim();
        const e = new PilotError('PRECHECK_FAILED', `the config check failed (\`${pre.built.command}\` exit ${pre.result.exitCode}): ${action.title} was not run`);
        return await refuseInThread(deps, incident, req, host, e, built, reason, out);
      }
    }

    const before = await deps.readBack(host, incident.alert.labels).catch((err: unknown) => ({ answered: false, error: asPilotError(err).message, frontends: [], servers: [] }) as HostSnapshot);
    deps.store.appendTimeline(incident.id, 'mitigation.confirmed', user, { actionId: action.id, stepId: req.step.id, host: host.name, reason, command: built.command });
    const started = now().getTime();
    const outcome = await runAndReport(deps, { incident, step: req.step, action, user, details: { reason } });
    if (outcome.kind !== 'ran') {
      audit(host.name, outcome.kind === 'refused' ? 'refused' : 'failed', { command: built.command, details: { code: outcome.error.code, error: outcome.error.message } });
      return;
    }
    if (outcome.result.exitCode !== 0) {
      audit(host.name, 'failed', { command: built.command, exitCode: outcome.result.exitCode, verification: 'not verified: the command failed' });
      deps.store.appendTimeline(incident.id, 'mitigation.not-verified', user, { actionId: action.id, host: host.name, why: `the command exited ${outcome.result.exitCode}` });
      const how = outcome.result.timedOut ? 'timed out' : `exited ${outcome.result.exitCode ?? outcome.result.signal ?? '?'}`;
      await deps.presenter.reply(incident, { text: `❌ ${action.title} on ${host.name} failed: the command ${how} (its output is above); nothing was verified.` });
      return;
    }
    await deps.sleep(deps.config.mitigation.verifyDelayMs);
    const after = await deps.readBack(host, incident.alert.labels).catch((err: unknown) => ({ answered: false, error: asPilotError(err).message, frontends: [], servers: [] }) as HostSnapshot);
    const restartLike = deps.config.mitigation.restartActions.includes(action.id);
    const v = verifyMitigation(action.id, restartLike, before, after, { backend: incident.alert.labels.backend, server: incident.alert.labels.server }, (now().getTime() - started) / 1000);
    audit(host.name, 'ok', { command: built.command, exitCode: 0, verification: `${v.verified ? 'verified' : 'not verified'}: ${v.why}` });
    deps.store.appendTimeline(incident.id, v.verified ? 'mitigation.verified' : 'mitigation.not-verified', 'bot', { actionId: action.id, host: host.name, why: v.why });
    const text = v.verified
      ? `✅ *${escapeMrkdwn(action.title)}* on \`${host.name}\`: verified — ${escapeMrkdwn(v.why)}.`
      : `⚠️ *${escapeMrkdwn(action.title)}* on \`${host.name}\`: not verified, because ${escapeMrkdwn(v.why)}. Check the host with the diagnosis steps.`;
    const plainText = escapeMrkdwn(`${action.title} on ${host.name}: ${v.verified ? 'verified' : 'not verified'}, ${v.why}`);
    await deps.presenter.reply(incident, { text: truncate(plainText, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] });
  } finally {
    deps.store.releaseLock(lockName, owner);
    await deps.presenter.refresh(incident.id);
  }
}

/** Throws NOT_ALLOWED (recorded, with the reason the user typed when there is one) unless the user may. */
async function ensureAllowed(deps: MitigationDeps, req: Request, host: HostConfig, reason: string | undefined): Promise<void> {
  const decision = await deps.access.check(req.user, host).catch((err: unknown) => {
    const e = asPilotError(err);
    recordRefusal(deps, req, host.name, e, { reason });
    throw e;
  });
  if (decision.allowed) return;
  const e = new PilotError('NOT_ALLOWED', `you may not run ${req.action.title} on ${host.name}: only ${formatGrantees(decision.grantees)} may`, { details: { grantees: decision.grantees } });
  recordRefusal(deps, req, host.name, e, { reason });
  throw e;
}

/** Records a refused attempt, whatever refused it: in the audit log and on the incident's timeline. */
function recordRefusal(deps: MitigationDeps, req: Request, host: string, e: PilotError, extra: { reason?: string; command?: string } = {}): void {
  const at = deps.now().toISOString();
  deps.store.appendAudit({ at, incidentId: req.incident.id, user: req.user, host, actionId: req.action.id, outcome: 'refused', ...extra, details: { ...e.details, code: e.code, error: e.message } });
  deps.store.appendTimeline(req.incident.id, 'mitigation.refused', req.user, { actionId: req.action.id, host, code: e.code, error: e.message, ...(extra.reason ? { reason: extra.reason } : {}) }, at);
}

function needsPrecheck(deps: MitigationDeps, action: ActionSpec): boolean {
  return Boolean(deps.precheckAction) && deps.config.mitigation.restartActions.includes(action.id);
}

async function refuseInThread(deps: MitigationDeps, incident: Incident, req: Request, host: HostConfig, e: PilotError, built: BuiltCommand, reason: string, output?: string): Promise<void> {
  recordRefusal(deps, { ...req, incident }, host.name, e, { reason, command: built.command });
  await tellThread(deps, incident, req, host.name, e, output);
}

/** Says a refused submission in the thread: who, what, on which host, why, and what to do. */
async function tellThread(deps: MitigationDeps, incident: Incident, req: Request, host: string, e: PilotError, output?: string): Promise<void> {
  const { text, logId } = userText(e, deps.logger);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: truncate(`🛑 *${escapeMrkdwn(req.action.title)}* on \`${escapeMrkdwn(host)}\` blocked (<@${req.user}>): ${escapeErrorText(text, deps.config.access)}`, 3000) } }];
  if (output) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: codeBlock(output, 3000) } });
  await deps.presenter.reply(incident, { text: truncate(escapeMrkdwn(`${req.action.title} on ${host} blocked: ${logId ? text : e.message}`), 3000), blocks });
}

/** The confirmation modal: exactly what runs where, a required reason and a dry-run option. */
export function confirmationView(deps: Pick<MitigationDeps, 'config'>, req: Request, host: HostConfig, built: BuiltCommand, pre: BuiltCommand | undefined, alertActive: boolean | undefined): View {
  const commands = [pre && `# pre-check: must pass\n${pre.command}`, `# ${req.action.id}\n${built.command}`].filter(Boolean).join('\n');
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*${escapeMrkdwn(req.action.title)}* on \`${host.name}\` (${escapeMrkdwn(host.ssh.user)}@${escapeMrkdwn(host.ssh.host)}:${host.ssh.port}) for incident #${req.incident.id}. These exact commands will run:`, 3000),
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: codeBlock(commands, 3000) } },
  ];
  const warnings: string[] = [];
  if (alertActive === false) warnings.push('⚠️ Alertmanager says this alert is *no longer active* (resolved). Run it only if you are sure, and tick the box below.');
  if (deps.config.mitigation.dryRun) warnings.push('🧪 The bot is in dry-run mode: nothing will run, the commands are only shown.');
  if (warnings.length) blocks.push({ type: 'context', elements: warnings.map((w) => ({ type: 'mrkdwn' as const, text: w })) });
  if (alertActive === false) {
    // Required: Slack will not submit without it, and the submission handler refuses without it too.
    blocks.push({
      type: 'input',
      block_id: RESOLVED_ACK,
      label: { type: 'plain_text', text: 'Second confirmation' },
      element: { type: 'checkboxes', action_id: RESOLVED_ACK, options: [{ text: { type: 'plain_text', text: 'I know the alert is resolved; run anyway' }, value: RESOLVED_ACK }] },
    });
  }
  blocks.push(
    { type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Why? (recorded on the timeline)' }, element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 3, max_length: 500 } },
    {
      type: 'input',
      block_id: 'options',
      optional: true,
      label: { type: 'plain_text', text: 'Options' },
      element: { type: 'checkboxes', action_id: 'options', options: [{ text: { type: 'plain_text', text: 'Dry run: show the commands, run nothing' }, value: 'dry-run' }] },
    },
  );
  return {
    type: 'modal',
    callback_id: CallbackId.ConfirmMitigation,
    private_metadata: JSON.stringify({ v: encodeStepValue({ incidentId: req.incident.id, stepId: req.step.id, actionId: req.action.id }), c: req.incident.channel, ...(alertActive === false ? { r: 1 } : {}) }),
    title: { type: 'plain_text', text: truncate(`Confirm ${req.action.title}`, 24) },
    submit: { type: 'plain_text', text: alertActive === false ? 'Run anyway' : 'Run' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

