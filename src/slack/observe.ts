/**
 * The observe features in the thread: silence the alert in Alertmanager (and expire it, by a button or when the
 * incident resolves), and a graph of the alert's expression from Prometheus. Alertmanager or Prometheus missing,
 * down or slow gives one clear line in the thread (or an ephemeral answer to the click); nothing else waits on them.
 */
import type { App, BlockAction, ButtonAction, SlackViewAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema';
import { PilotError, userText } from '../errors';
import { type AlertStateTracker, alertLabels } from '../incident/alert-state';
import type { StepScheduler } from '../incident/run-step';
import type { IncidentStore } from '../incident/store';
import type { Incident, IncidentSilence } from '../incident/types';
import type { Logger } from '../logger';
import type { AccessPolicy } from '../mitigation/access';
import { type AlertGraphDeps, type AlertGraphInput, buildAlertGraph } from '../observe/alert-graph';
import type { AlertmanagerClient } from '../observe/alertmanager-client';
import type { GraphWorker } from '../observe/graph-worker';
import type { PrometheusClient } from '../observe/prometheus-client';
import { assertSilenceScope, silenceCoverageRefusal } from '../observe/silence-scope';
import { silenceComment } from '../observe/silence-window';
import type { RunbookRegistry } from '../runbook/load-runbooks';
import { withDeadline } from '../with-deadline';
import { ActionId, actionIdPattern, CallbackId, decodeSilenceValue } from './action-ids';
import { escapeMrkdwn, formatUtc, inlineCode, truncate } from './blocks/format';
import {
  activeSilence,
  parseSilenceMeta,
  readSilenceForm,
  renderGraphUpload,
  renderSilenceCreated,
  renderSilenceExpired,
  SilenceInput,
  silenceModal,
} from './blocks/observe';
import type { IncidentPresenter } from './incident-presenter';
import { onClick, onSubmit } from './on-click';
import { resolveIncident } from './steps';
import { tellUser } from './tell-user';

/** What the silence and graph features need. */
export interface ObserveDeps {
  config: Pick<Config, 'alertmanager' | 'prometheus' | 'hosts'>;
  store: Pick<IncidentStore, 'get' | 'addSilence' | 'markSilenceExpired' | 'appendTimeline'>;
  runbooks: Pick<RunbookRegistry, 'get'>;
  scheduler: Pick<StepScheduler, 'countClick'>;
  logger: Logger;
  now: () => Date;
  presenter: Pick<IncidentPresenter, 'reply' | 'refresh' | 'upload' | 'permalink'>;
  access: Pick<AccessPolicy, 'check'>;
  alertmanager: Pick<AlertmanagerClient, 'configured' | 'createSilence' | 'expireSilence' | 'getAlertState'>;
  prometheus: Pick<PrometheusClient, 'configured' | 'queryRange'>;
  alertState: Pick<AlertStateTracker, 'check' | 'invalidate'>;
  /** The PNG renderer (tests may pass a cheaper one); default: the real chart. */
  renderChart?: AlertGraphDeps['renderChart'];
  /** Makes graphs on a worker thread (the app's); without it they are made here, with `prometheus` and `renderChart`. */
  graphs?: Pick<GraphWorker, 'build'>;
}

/** What the alert flow calls when an incident opens or resolves. */
export interface ObserveFeature {
  /** After the incident message is posted: the graph, in the background (never delays or fails the incident). */
  incidentOpened(incident: Incident): void;
  /** When the incident resolves: expires the bot's silences the user did not ask to keep, and says so. */
  incidentResolved(incident: Incident): Promise<void>;
  /** Queries Prometheus and uploads the chart with its words into the thread; failures become a line there. */
  postGraph(incident: Incident): Promise<void>;
}

/**
 * What the alert flow calls when an incident opens or resolves. Needs no App: the flow is built before the listeners
 * are registered.
 */
export function observeFeature(deps: ObserveDeps): ObserveFeature {
  return {
    incidentOpened(incident) {
      // An incident opened by hand has no alert expression or labels to graph; the Graph button still tries.
      if (incident.alert.source === 'manual') return;
      // Without Prometheus nothing is posted on open (one line per incident would be noise); the Graph button says it.
      if (!deps.prometheus.configured) {
        deps.logger.debug({ incidentId: incident.id }, 'prometheus.url not set: no graph for the new incident');
        return;
      }
      void postGraph(deps, incident).catch((err: unknown) =>
        deps.logger.warn({ err, incidentId: incident.id }, 'could not post the graph'),
      );
    },
    incidentResolved: (incident) => expireOnResolve(deps, incident),
    postGraph: (incident) => postGraph(deps, incident),
  };
}

/** Registers the Silence, Expire silence and Graph buttons and the silence modal. */
export function registerObserve(app: App, deps: ObserveDeps): void {
  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.Silence),
    onClick(deps, async ({ body, action, client, user, place }) => {
      const incident = await resolveIncident(deps, action.value, place.channel);
      if (!deps.alertmanager.configured) throw notConfigured('Silences', 'alertmanager');
      await ensureMaySilence(deps, user, incident);
      const labels = alertLabels(incident.alert);
      assertSilenceScope(labels, hostLabelOf(deps, incident));
      // How many alerts the matchers cover, asked fresh but bounded: the modal must open within Slack's 3 s.
      const state = await withDeadline(
        deps.alertState
          .check(incident, { fresh: true })
          .then((r) => r.state)
          .catch(() => undefined),
        1500,
      );
      const covers = state?.matched;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: silenceModal({
          incident,
          labels,
          channel: incident.channel,
          now: deps.now(),
          ...(covers !== undefined ? { covers } : {}),
        }),
      });
    }),
  );

  app.view<SlackViewAction>(
    CallbackId.CreateSilence,
    onSubmit(
      deps,
      (view) => {
        const form = readSilenceForm(view.state.values, deps.now());
        if ('errors' in form) return form;
        const covers = parseSilenceMeta(view.private_metadata)?.covers;
        const allTicked = (view.state.values[SilenceInput.all]?.[SilenceInput.all]?.selected_options ?? []).some(
          (o) => o.value === SilenceInput.all,
        );
        if (covers !== undefined && !allTicked)
          return {
            errors: {
              [SilenceInput.all]: `These matchers cover ${covers} alerts: tick this to silence all of them, or cancel.`,
            },
          };
        return { form: { form, covers } };
      },
      async ({ view, client, user, form: { form, covers } }) => {
        const meta = parseSilenceMeta(view.private_metadata);
        const incident = meta && (await deps.store.get(meta.incidentId));
        if (!meta || !incident || incident.channel !== meta.channel)
          throw new PilotError(
            'INCIDENT_UNKNOWN',
            'this silence form does not belong to a known incident; nothing was silenced',
          );
        try {
          await ensureMaySilence(deps, user, incident);
        } catch (err) {
          await tellUser(deps, client, { user, channel: incident.channel, threadTs: incident.threadTs }, err);
          return;
        }
        await createSilence(deps, client, incident, user, form, covers);
      },
    ),
  );

  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.ExpireSilence),
    onClick(deps, async ({ action, user, place }) => {
      const v = decodeSilenceValue(action.value);
      if (!v) throw new PilotError('STEP_UNKNOWN', 'this button does not belong to a known silence');
      const incident = await resolveIncident(deps, JSON.stringify({ i: v.incidentId, s: '' }), place.channel);
      const silence = incident.silences?.find((s) => s.id === v.silenceId);
      if (!silence)
        throw new PilotError('STEP_UNKNOWN', `silence ${v.silenceId} was not made for incident #${incident.id}`);
      if (silence.expiredAt)
        throw new PilotError(
          'STEP_UNKNOWN',
          `silence ${silence.id} was already expired (${formatUtc(silence.expiredAt)})`,
        );
      if (!deps.alertmanager.configured) throw notConfigured('Expiring a silence', 'alertmanager');
      await ensureMaySilence(deps, user, incident);
      await expireSilence(deps, incident, silence, user);
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    actionIdPattern(ActionId.Graph),
    onClick(deps, async ({ action, place }) => {
      const incident = await resolveIncident(deps, action.value, place.channel);
      if (!deps.prometheus.configured) throw notConfigured('Graphs', 'prometheus');
      await postGraph(deps, incident);
    }),
  );
}

/** Silencing follows the mitigation access rule, unless `alertmanager.silenceOpenToAll` opens it to everyone. */
async function ensureMaySilence(deps: ObserveDeps, user: string, incident: Incident): Promise<void> {
  if (deps.config.alertmanager.silenceOpenToAll) return;
  const host = deps.config.hosts.find((h) => h.name === incident.hostName) ?? {
    name: incident.hostName ?? '(no host)',
  };
  const decision = await deps.access.check(user, host);
  if (!decision.allowed) {
    throw new PilotError('NOT_ALLOWED', `you may not silence or expire silences for incident #${incident.id}`, {
      hint: 'the same people as for mitigation may: ask one of them, or set alertmanager.silenceOpenToAll: true in the config to let everyone',
      details: { grantees: decision.grantees },
    });
  }
}

async function createSilence(
  deps: ObserveDeps,
  client: WebClient,
  incident: Incident,
  user: string,
  form: { startsAt: Date; endsAt: Date; note: string; keep: boolean },
  confirmedCovers?: number,
): Promise<void> {
  const log = deps.logger.child({ incidentId: incident.id, user });
  const current = (await deps.store.get(incident.id)) ?? incident;
  if (current.status === 'resolved') {
    await tellUser(
      deps,
      client,
      { user, channel: incident.channel, threadTs: incident.threadTs },
      new PilotError('INCIDENT_CLOSED', `incident #${incident.id} is resolved: nothing to silence`),
    );
    return;
  }
  const existing = activeSilence(current, deps.now());
  if (existing) {
    const e = new PilotError(
      'PARAM_INVALID',
      `incident #${incident.id} is already silenced until ${formatUtc(existing.endsAt)} (silence ${existing.id})`,
      { hint: 'expire that silence first to set another' },
    );
    await tellUser(deps, client, { user, channel: incident.channel, threadTs: incident.threadTs }, e);
    return;
  }
  try {
    const [createdByName, link, state] = await Promise.all([
      userName(client, user, log),
      deps.presenter
        .permalink(current, 'message')
        .then((link) => link ?? `Slack channel ${current.channel}, thread ${current.threadTs}`),
      deps.alertState.check(current, { fresh: true }).then((r) => r.state),
    ]);
    // Alertmanager's own label set when it holds exactly this alert: a message may not have carried every label.
    const labels = state?.matched === 1 && state.labels ? state.labels : alertLabels(current.alert);
    // Never wider than the alert's name and host, nor than the number of alerts the user confirmed.
    assertSilenceScope(labels, hostLabelOf(deps, current));
    const wider = silenceCoverageRefusal(state?.matched, confirmedCovers);
    if (wider) throw wider;
    const comment = silenceComment({ incidentId: current.id, incidentLink: link, note: form.note });
    const { silenceId } = await deps.alertmanager.createSilence({
      labels,
      startsAt: form.startsAt,
      endsAt: form.endsAt,
      createdBy: createdByName,
      comment,
    });
    const at = deps.now().toISOString();
    const silence: IncidentSilence = {
      id: silenceId,
      createdBy: user,
      createdByName,
      matchers: labels,
      startsAt: form.startsAt.toISOString(),
      endsAt: form.endsAt.toISOString(),
      comment,
      keep: form.keep,
      createdAt: at,
    };
    await deps.store.addSilence(current.id, silence);
    await deps.store.appendTimeline(
      current.id,
      'silence.created',
      user,
      { silenceId, endsAt: silence.endsAt, matchers: labels, keep: form.keep, createdBy: createdByName },
      at,
    );
    log.info({ silenceId, endsAt: silence.endsAt }, 'silence created');
    deps.alertState.invalidate(current.id);
    await deps.presenter.reply(current, renderSilenceCreated(current, silence));
  } catch (err) {
    await sayInThread(deps, current, '⚠️ Could not silence the alert', err);
  }
  await deps.presenter.refresh(current.id);
}

async function expireSilence(
  deps: ObserveDeps,
  incident: Incident,
  silence: IncidentSilence,
  user: string,
): Promise<void> {
  try {
    const outcome = await deps.alertmanager.expireSilence(silence.id);
    const at = deps.now().toISOString();
    await deps.store.markSilenceExpired(incident.id, silence.id, user, at);
    await deps.store.appendTimeline(
      incident.id,
      'silence.expired',
      user,
      { silenceId: silence.id, why: outcome === 'not-found' ? 'not found in Alertmanager' : 'expired by hand' },
      at,
    );
    deps.logger.info({ incidentId: incident.id, user, silenceId: silence.id, outcome }, 'silence expired');
    deps.alertState.invalidate(incident.id);
    await deps.presenter.reply(
      incident,
      renderSilenceExpired(silence, user, outcome === 'not-found' ? 'gone' : 'button'),
    );
  } catch (err) {
    await sayInThread(deps, incident, `⚠️ Could not expire the silence ${inlineCode(silence.id)}`, err);
  }
  await deps.presenter.refresh(incident.id);
}

async function expireOnResolve(deps: ObserveDeps, incident: Incident): Promise<void> {
  // A resolved incident's message no longer shows the alert state: drop its cached answer.
  deps.alertState.invalidate(incident.id);
  const now = deps.now();
  const live = ((await deps.store.get(incident.id))?.silences ?? []).filter(
    (s) => !s.expiredAt && Date.parse(s.endsAt) > now.getTime(),
  );
  for (const silence of live) {
    if (silence.keep) {
      await deps.presenter.reply(incident, {
        text: `🔕 The silence ${escapeMrkdwn(silence.id)} stays until ${formatUtc(silence.endsAt)}, as <@${silence.createdBy}> asked.`,
      });
      continue;
    }
    try {
      if (!deps.alertmanager.configured) throw notConfigured('Expiring a silence', 'alertmanager');
      const outcome = await deps.alertmanager.expireSilence(silence.id);
      const at = deps.now().toISOString();
      await deps.store.markSilenceExpired(incident.id, silence.id, 'bot', at);
      await deps.store.appendTimeline(
        incident.id,
        'silence.expired',
        'bot',
        { silenceId: silence.id, why: outcome === 'not-found' ? 'not found in Alertmanager' : 'the incident resolved' },
        at,
      );
      await deps.presenter.reply(incident, renderSilenceExpired(silence, 'bot', 'resolved'));
    } catch (err) {
      await sayInThread(
        deps,
        incident,
        `⚠️ The incident resolved but the silence ${inlineCode(silence.id)} could not be expired; expire it in Alertmanager by hand`,
        err,
      );
    }
  }
}

async function postGraph(deps: ObserveDeps, incident: Incident): Promise<void> {
  const log = deps.logger.child({ incidentId: incident.id });
  try {
    const binding = deps.runbooks.get(incident.alertname)?.binding;
    // Messages rarely carry the alert's start; Alertmanager does (its answer is usually cached by now).
    const startsAt =
      incident.alert.startsAt ?? (await deps.alertState.check(incident)).state?.startsAt ?? incident.openedAt;
    const input: AlertGraphInput = {
      alert: {
        alertname: incident.alertname,
        labels: alertLabels(incident.alert),
        startsAt,
        generatorURL: incident.alert.generatorURL,
      },
      queryTemplates: binding?.query ? [binding.query] : undefined,
      maxSeries: deps.config.prometheus.maxSeries,
    };
    // On the worker thread when the app has one: the query's answer can be thousands of series.
    const graph =
      deps.graphs && !deps.renderChart
        ? await deps.graphs.build(input, deps.now())
        : await buildAlertGraph({ prometheus: deps.prometheus, now: deps.now, renderChart: deps.renderChart }, input);
    await deps.presenter.upload(incident, { ...renderGraphUpload(incident, graph), bytes: graph.png });
    log.info(
      { exprs: graph.exprs, series: graph.seriesCount, drawn: graph.drawn, source: graph.source },
      'graph posted',
    );
  } catch (err) {
    await sayInThread(deps, incident, '⚠️ No graph', err);
  }
}

/** One clear line in the thread for a failure of Alertmanager or Prometheus (internal errors: a log id). */
async function sayInThread(deps: ObserveDeps, incident: Incident, what: string, err: unknown): Promise<void> {
  const { text, logId } = userText(err);
  deps.logger.warn({ err, incidentId: incident.id, logId }, what.replace(/`|\u26a0\ufe0f?/g, '').trim());
  await deps.presenter
    .reply(incident, {
      text: truncate(`${what.replace(/`/g, '')}: ${escapeMrkdwn(text)}`, 3000),
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(`${what}: ${escapeMrkdwn(text)}`, 3000) } }],
    })
    .catch((e: unknown) => deps.logger.warn({ err: e, incidentId: incident.id }, 'could not post in the thread'));
}

function notConfigured(feature: string, key: 'alertmanager' | 'prometheus'): PilotError {
  const service = key === 'alertmanager' ? 'Alertmanager' : 'Prometheus';
  return new PilotError(
    'EXTERNAL_UNAVAILABLE',
    `${feature} need${feature.endsWith('s') ? '' : 's'} ${service}, and \`${key}.url\` is not set in the config`,
    {
      hint: `set ${key}.url (e.g. http://${key}:${key === 'alertmanager' ? 9093 : 9090}) and restart the bot`,
    },
  );
}

/** The Slack user's name as Alertmanager should show it; the user id when users.info cannot say. */
async function userName(client: WebClient, user: string, log: ObserveDeps['logger']): Promise<string> {
  try {
    const res = await client.users.info({ user });
    const u = res.user;
    return u?.real_name || u?.profile?.real_name || u?.name || user;
  } catch (err) {
    log.warn({ err }, 'users.info failed: the silence names the user by id');
    return user;
  }
}

/** The label that names the incident's host (the binding's `hostLabel`, else `instance`): a silence always matches it. */
function hostLabelOf(deps: Pick<ObserveDeps, 'runbooks'>, incident: Incident): string {
  return deps.runbooks.get(incident.alertname)?.binding?.hostLabel ?? 'instance';
}
