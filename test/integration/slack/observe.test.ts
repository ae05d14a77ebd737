/**
 * Issue #8 end to end: the bot against the Slack stand-in and the real monitoring stack (test/support/prom-stack.sh:
 * haproxy with web2 down, haproxy_exporter, Prometheus firing HaproxyServerDown, Alertmanager). The graph in the
 * thread is drawn from Prometheus' data, the silence really appears in Alertmanager with exact matchers and really
 * expires (by the button, and when the incident resolves), a mitigation on a resolved alert needs a second
 * confirmation, and a stopped Alertmanager or an unreachable Prometheus is one clear line in the thread.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { HostSchema } from '../../../src/config/schema';
import { AlertmanagerClient } from '../../../src/observe/alertmanager-client';
import { RESOLVED_ACK } from '../../../src/slack/mitigation';
import { unusedKeyFile } from '../../support/fakes';
import { CHANNEL, type Harness, INTERN, ONCALL, slackFixture, startHarness } from '../../support/pilot-harness';
import {
  freeze,
  type PromStack,
  promStackAvailability,
  startPromStack,
  stopPromStack,
  waitFor,
} from '../../support/prom-stack';
import type { SlackMessage } from '../../support/slack-standin';

const availability = promStackAvailability();
if (!availability.available)
  console.log(`observe-in-Slack tests: ${availability.required ? 'FAIL' : 'skipped'}: ${availability.reason}`);
const describeStack = availability.available || availability.required ? describe : describe.skip;
const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
const EXPORTER = '127.0.0.1:19101';
const QUERY = `haproxy_server_up{instance="${EXPORTER}",backend="web"}`;

jest.setTimeout(60_000);

/** The load balancer behind the stack's exporter. Only dry runs use it: nothing connects to it. */
const lb = HostSchema.parse({
  name: 'lb-stack',
  match: { instance: [EXPORTER] },
  ssh: {
    host: '127.0.0.1',
    port: 1,
    user: 'pilot',
    privateKeyPath: unusedKeyFile(),
    insecureAcceptAnyHostKey: true,
    connectTimeoutMs: 500,
  },
});

/** A real Alertmanager Slack message (default template) for HaproxyServerDown of `server`, from the stack's exporter. */
async function postAlert(h: Harness, status: 'firing' | 'resolved', server = 'web2'): Promise<string> {
  const text = JSON.stringify(slackFixture(`single.slack-default.${status}.event.json`))
    .replaceAll('127.0.0.1:9101', EXPORTER)
    .replaceAll(' web2 ', ` ${server} `);
  const { ts: _ts, channel: _c, event_ts: _e, ...fields } = JSON.parse(text) as SlackMessage & { event_ts?: string };
  const res = await h.slack.postAlertMessage(CHANNEL, fields);
  if (res.status !== 200) throw new Error(`the bot answered ${res.status} to the alert event`);
  return res.ts;
}

/**
 * Posts the firing alert for `server` and returns the thread of its open incident: a new one, or the incident an
 * earlier test opened (a repeated alert stays in the first thread).
 */
async function incidentThread(h: Harness, server = 'web2'): Promise<{ ts: string; incidentId: number }> {
  await postAlert(h, 'firing', server);
  const incident = await waitFor(
    `an open incident for ${server}`,
    async () => (await h.pilot.deps.store.listOpen()).find((i) => i.alert.labels.server === server && i.messageTs),
    5000,
    25,
  );
  return { ts: incident.threadTs, incidentId: incident.id };
}

/** Waits until the incident message (as the stand-in holds it now) contains `text`. */
async function messageShows(h: Harness, ts: string, text: string): Promise<string> {
  const msg = await h.incidentMessage(ts);
  return waitFor(
    `the incident message to show ${text}`,
    async () => {
      const blocks = JSON.stringify(h.slack.message(CHANNEL, msg.ts)?.blocks ?? []);
      return blocks.includes(text) ? blocks : undefined;
    },
    10_000,
    50,
  );
}

/** Waits until the thread contains `pattern` and returns the thread's text. */
function threadShows(h: Harness, ts: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    `the thread to show ${pattern}`,
    async () => (pattern.test(h.threadText(ts)) ? h.threadText(ts) : undefined),
    timeoutMs,
    50,
  );
}

/** Clicks a button of the incident message and returns the modal the bot opened. */
async function openModal(
  h: Harness,
  ts: string,
  actionId: string,
  user = ONCALL,
): Promise<{ id: string; blocks: unknown[]; private_metadata: string }> {
  const before = h.slack.calls('views.open').length;
  await h.click(ts, actionId, user);
  await waitFor('views.open', async () => (h.slack.calls('views.open').length > before ? true : undefined), 5000, 25);
  const call = h.slack.calls('views.open')[before];
  const view = (
    call.response as { ok: boolean; view?: { id: string; blocks: unknown[]; private_metadata: string }; error?: string }
  ).view;
  if (!view) throw new Error(`views.open failed: ${JSON.stringify(call.response)}`);
  return view;
}

const silenceValues = (duration: string, comment: string, keep = false) => ({
  duration: {
    duration: {
      type: 'static_select',
      selected_option: { text: { type: 'plain_text', text: duration }, value: duration },
    },
  },
  until: { until: { type: 'datetimepicker', selected_date_time: null } },
  comment: { comment: { type: 'plain_text_input', value: comment } },
  options: {
    options: {
      type: 'checkboxes',
      selected_options: keep ? [{ text: { type: 'plain_text', text: 'keep' }, value: 'keep' }] : [],
    },
  },
});

describeStack('observe in the incident thread, against real Prometheus and Alertmanager', () => {
  let stack: PromStack;
  let h: Harness;
  let am: AlertmanagerClient;
  const web2 = {
    alertname: 'HaproxyServerDown',
    backend: 'web',
    server: 'web2',
    instance: EXPORTER,
    job: 'haproxy',
    severity: 'critical',
  };

  beforeAll(async () => {
    if (!availability.available) throw new Error(`RBP_REQUIRE_HOSTS=1 but ${availability.reason}`);
    stack = await startPromStack();
    am = new AlertmanagerClient({ url: stack.alertmanagerUrl, timeoutMs: 2000 });
    // The rule really fires: Alertmanager holds HaproxyServerDown for web2 with the exporter's labels.
    const state = await waitFor('HaproxyServerDown for web2 in Alertmanager', async () => {
      const s = await am.getAlertState(web2);
      return s.firing ? s : undefined;
    });
    expect(state.labels).toEqual(web2);
    h = await startHarness({
      hosts: [lb],
      config: {
        alertmanager: { url: stack.alertmanagerUrl, timeoutMs: 1500 },
        prometheus: { url: stack.prometheusUrl, timeoutMs: 5000 },
        mitigation: { dryRun: false, verifyDelayMs: 300, cooldownSec: 300, maxRestartsPerHour: 3 },
      },
    });
    h.slack.setUser({ id: ONCALL, name: 'olga', real_name: 'Olga Oncall' });
  });

  afterAll(async () => {
    await h?.stop();
    if (availability.available) await stopPromStack();
  });

  it('opens with a graph from Prometheus (a PNG: web2 down, 1 of 2 servers up) and Alertmanager’s state', async () => {
    const ts = await postAlert(h, 'firing');
    await h.incidentMessage(ts);
    const file = await waitFor(
      'the graph in the thread',
      async () => h.slack.files().find((f) => f.thread_ts === ts),
      20_000,
      100,
    );

    expect([...file.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(file.filename).toMatch(/^incident-\d+-graph\.png$/);
    expect(file.title).toContain(QUERY);
    expect(file.initial_comment).toMatch(
      /^📈 web2 is down since (before )?\d\d:\d\d UTC .*It (did not go down|went down once|went down \d+ times) in the last hour.* 1 of 2 servers of backend web is up\.$/,
    );

    // The words agree with what Prometheus itself answers to the same query now.
    const direct = await axios.get(`${stack.prometheusUrl}/api/v1/query`, { params: { query: QUERY } });
    const latest = Object.fromEntries(
      (direct.data.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => [
        r.metric.server,
        r.value[1],
      ]),
    );
    expect(latest).toEqual({ web1: '1', web2: '0' });

    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'slack-incident-graph.png'), file.bytes);
    writeFileSync(join(ARTIFACTS, 'slack-incident-graph.txt'), `${file.title}\n${file.initial_comment}\n`);

    await messageShows(h, ts, 'Alertmanager: 🔥 active');
    // the Graph button posts another one on demand
    await h.click(ts, 'incident.graph');
    await waitFor(
      'a second graph',
      async () => (h.slack.files().filter((f) => f.thread_ts === ts).length === 2 ? true : undefined),
      20_000,
      100,
    );
  });

  it('silences with exact matchers, shows who/until, and expires the silence by the button', async () => {
    const { ts, incidentId } = await incidentThread(h);
    const view = await openModal(h, ts, 'incident.silence');
    expect(JSON.stringify(view.blocks)).toContain('server=\\"web2\\"');
    const res = await h.slack.submitView({
      user: ONCALL,
      viewId: view.id,
      values: silenceValues('30m', 'web2 is being rebuilt'),
    });
    expect(res.status).toBe(200);

    const thread = await threadShows(h, ts, /<@U0ONCALL01> silenced \*HaproxyServerDown\*/);
    expect(thread).toMatch(/until \*\d{4}-\d\d-\d\d \d\d:\d\d UTC\*/);
    const silence = (await h.pilot.deps.store.get(incidentId))?.silences?.[0];
    if (!silence) throw new Error('no silence recorded');

    // What Alertmanager stored, read through its raw API.
    const raw = (await axios.get(`${stack.alertmanagerUrl}/api/v2/silence/${silence.id}`)).data as {
      status: { state: string };
      matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual: boolean }>;
      createdBy: string;
      comment: string;
      startsAt: string;
      endsAt: string;
    };
    expect(raw.status.state).toBe('active');
    expect(raw.matchers).toEqual(
      Object.keys(web2)
        .sort()
        .map((name) => ({ name, value: web2[name as keyof typeof web2], isRegex: false, isEqual: true })),
    );
    expect(raw.createdBy).toBe('Olga Oncall');
    expect(raw.comment).toMatch(
      new RegExp(
        `^Silenced from runbook-pilot incident #${incidentId}: https://[a-z0-9-]+\\.slack\\.com/archives/${CHANNEL}/p\\d+`,
      ),
    );
    expect(raw.comment).toContain('Note: web2 is being rebuilt');
    expect(Date.parse(raw.endsAt) - Date.parse(raw.startsAt)).toBeCloseTo(30 * 60_000, -4);
    expect(await am.getAlertState(web2)).toMatchObject({ state: 'suppressed', silencedBy: [silence.id] });

    await messageShows(h, ts, 'Silenced by <@U0ONCALL01>');
    await h.click(ts, 'incident.refresh');
    await messageShows(h, ts, 'Alertmanager: 🔕 silenced');

    await h.click(ts, 'incident.expireSilence');
    await threadShows(h, ts, /<@U0ONCALL01> expired the silence/);
    expect((await axios.get(`${stack.alertmanagerUrl}/api/v2/silence/${silence.id}`)).data.status.state).toBe(
      'expired',
    );
    expect((await h.pilot.deps.store.get(incidentId))?.silences?.[0]).toMatchObject({ expiredBy: ONCALL });
    const types = (await h.pilot.deps.store.timeline(incidentId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['silence.created', 'silence.expired']));
    await messageShows(h, ts, '"action_id":"incident.silence"');
  });

  it('refuses to silence for a user outside the mitigation access', async () => {
    const { ts } = await incidentThread(h);
    await h.click(ts, 'incident.silence', INTERN);
    const e = await waitFor(
      'the refusal',
      async () => h.slack.ephemerals({ user: INTERN }).find((m) => /may not silence/.test(m.text ?? '')),
      5000,
      25,
    );
    expect(e.text).toContain('<!subteam^S0123SRE>');
  });

  it('expires the bot’s silence when the incident resolves, unless asked to keep it', async () => {
    const silenceOf = async (keep: boolean) => {
      const { ts, incidentId } = await incidentThread(h);
      const before = (await h.pilot.deps.store.get(incidentId))?.silences?.length ?? 0;
      const view = await openModal(h, ts, 'incident.silence');
      await h.slack.submitView({
        user: ONCALL,
        viewId: view.id,
        values: silenceValues('1h', 'maintenance of web2', keep),
      });
      const silences = await waitFor(
        'the silence',
        async () => {
          const all = (await h.pilot.deps.store.get(incidentId))?.silences ?? [];
          return all.length > before ? all : undefined;
        },
        5000,
        25,
      );
      return { ts, incidentId, silenceId: silences[silences.length - 1].id };
    };
    const state = async (id: string) =>
      ((await axios.get(`${stack.alertmanagerUrl}/api/v2/silence/${id}`)).data as { status: { state: string } }).status
        .state;

    const dropped = await silenceOf(false);
    await postAlert(h, 'resolved');
    await threadShows(h, dropped.ts, /The incident resolved: expired the silence/);
    expect(await state(dropped.silenceId)).toBe('expired');
    const expired = (await h.pilot.deps.store.timeline(dropped.incidentId)).filter(
      (e) => e.type === 'silence.expired' && e.details.silenceId === dropped.silenceId,
    );
    expect(expired).toEqual([
      expect.objectContaining({ actor: 'bot', details: expect.objectContaining({ why: 'the incident resolved' }) }),
    ]);

    // a new incident for the same alert, silenced with "keep": the silence outlives the incident
    const kept = await silenceOf(true);
    expect(kept.incidentId).not.toBe(dropped.incidentId);
    await postAlert(h, 'resolved');
    await threadShows(h, kept.ts, new RegExp(`The silence ${kept.silenceId} stays until .* as <@${ONCALL}> asked`));
    expect(await state(kept.silenceId)).toBe('active');
    await am.expireSilence(kept.silenceId); // leave Alertmanager as the next test expects it
  });

  it('asks for an explicit second confirmation before a mitigation on an alert Alertmanager no longer holds', async () => {
    // HaproxyServerDown for web1 is not firing: Alertmanager says resolved.
    const { ts, incidentId } = await incidentThread(h, 'web1');
    await h.click(ts, 'incident.refresh');
    await messageShows(h, ts, 'Alertmanager: ✅ resolved');

    const view = await openModal(h, ts, 'step.run:mitigation-1:restart');
    expect(JSON.stringify(view.blocks)).toContain('I know the alert is resolved; run anyway');
    const reason = { reason: { reason: { type: 'plain_text_input', value: 'web1 looked stuck' } } };

    // without the box: the modal shows an error under it, nothing runs
    const refused = await h.slack.submitView({ user: ONCALL, viewId: view.id, values: reason });
    expect(refused.body).toEqual({
      response_action: 'errors',
      errors: { [RESOLVED_ACK]: expect.stringContaining('tick this') },
    });

    // a forged submission without the box in the view: the handler asks Alertmanager again and refuses
    const meta = JSON.parse(view.private_metadata) as Record<string, unknown>;
    delete meta.r;
    await h.slack.submitView({
      user: ONCALL,
      viewId: view.id,
      values: reason,
      view: { private_metadata: JSON.stringify(meta) },
    });
    // a refused confirmed submission is told in the thread, where the modal's reason would have been (one rule)
    const thread = await threadShows(h, ts, /no longer active/);
    expect(thread.split('\n').find((line) => /no longer active/.test(line))).toContain('Restart');
    expect(
      (await h.pilot.deps.store.timeline(incidentId)).find((ev) => ev.type === 'mitigation.refused')?.details,
    ).toMatchObject({ code: 'ALERT_RESOLVED' });

    // ticked (and as a dry run, so nothing connects to the host): it goes ahead
    const ticked = {
      ...reason,
      [RESOLVED_ACK]: {
        [RESOLVED_ACK]: {
          type: 'checkboxes',
          selected_options: [{ text: { type: 'plain_text', text: 'x' }, value: RESOLVED_ACK }],
        },
      },
      options: {
        options: {
          type: 'checkboxes',
          selected_options: [{ text: { type: 'plain_text', text: 'x' }, value: 'dry-run' }],
        },
      },
    };
    const again = await openModal(h, ts, 'step.run:mitigation-1:restart');
    await h.slack.submitView({ user: ONCALL, viewId: again.id, values: ticked });
    await threadShows(h, ts, /Dry run of Restart/);
  });

  it('a stopped Alertmanager is one clear line in the thread; the graph and the rest keep working', async () => {
    const { ts } = await incidentThread(h);
    const pid = Number(readFileSync(join(stack.dir, 'alertmanager.pid'), 'utf8'));
    await freeze(pid);
    try {
      const view = await openModal(h, ts, 'incident.silence');
      await h.slack.submitView({
        user: ONCALL,
        viewId: view.id,
        values: silenceValues('30m', 'while Alertmanager hangs'),
      });
      const thread = await threadShows(h, ts, /Could not silence the alert/);
      expect(thread).toContain(
        `Could not silence the alert: Alertmanager at ${stack.alertmanagerUrl} did not answer (no answer within 1500 ms)`,
      );

      await h.click(ts, 'incident.refresh');
      await messageShows(h, ts, 'Alertmanager: ❔ unknown (Alertmanager did not answer)');

      const graphs = h.slack.files().filter((f) => f.thread_ts === ts).length;
      await h.click(ts, 'incident.graph');
      await waitFor(
        'the graph while Alertmanager hangs',
        async () => (h.slack.files().filter((f) => f.thread_ts === ts).length > graphs ? true : undefined),
        20_000,
        100,
      );
      await h.click(ts, 'incident.timeline');
      await threadShows(h, ts, /Timeline of incident/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});

describe('observe in the incident thread, without the services', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('says plainly that Alertmanager and Prometheus are not configured, and posts no graph on open', async () => {
    h = await startHarness();
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    await h.click(ts, 'incident.silence');
    await h.click(ts, 'incident.graph');
    await h.click(ts, 'incident.refresh');
    await messageShows(h, ts, 'Alertmanager: ❔ unknown (not configured)');
    const texts = await waitFor(
      'two answers',
      async () => {
        const e = h.slack.ephemerals({ user: ONCALL }).map((m) => m.text ?? '');
        return e.length >= 2 ? e : undefined;
      },
      5000,
      25,
    );
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Silences need Alertmanager, and `alertmanager.url` is not set in the config\. Set alertmanager\.url/,
        ),
        expect.stringMatching(
          /^Graphs need Prometheus, and `prometheus.url` is not set in the config\. Set prometheus\.url/,
        ),
      ]),
    );
    expect(h.slack.files()).toHaveLength(0);
    expect(h.slack.calls('views.open')).toHaveLength(0);
  });

  it('an unreachable Prometheus is one line in the thread; the incident opens as usual', async () => {
    h = await startHarness({ config: { prometheus: { url: 'http://127.0.0.1:1', timeoutMs: 1000 } } });
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    const thread = await threadShows(h, ts, /No graph/);
    expect(thread).toContain('No graph: Prometheus at http://127.0.0.1:1 did not answer (connection refused)');
    expect(await h.pilot.deps.store.listOpen()).toHaveLength(1);
  });
});
