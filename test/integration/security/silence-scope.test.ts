/**
 * Issue #12 §7 through the real bot and the real Alertmanager (test/support/prom-stack.sh: backend api has three
 * servers down, web has web2 down, all on one exporter): a silence always names the alert and its host, and when its
 * matchers cover more than the one alert, the form says how many and the submission needs "silence all N".
 */
import { AlertmanagerClient } from '../../../src/observe/alertmanager-client';
import { type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import {
  type PromStack,
  promStackAvailability,
  startPromStack,
  stopPromStack,
  waitFor,
} from '../../support/prom-stack';
import { plain } from '../../support/step-helpers';

const availability = promStackAvailability();
const describeStack = availability.available || availability.required ? describe : describe.skip;
const EXPORTER = '127.0.0.1:19101';
jest.setTimeout(90_000);

/** A webhook payload with only these labels (as a route that dropped some would leave an incident). */
const payload = (labels: Record<string, string>) => ({
  version: '4',
  status: 'firing',
  receiver: 'runbook-pilot',
  groupKey: '{}:{}',
  groupLabels: {},
  commonLabels: labels,
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  truncatedAlerts: 0,
  alerts: [
    {
      status: 'firing',
      labels,
      annotations: {},
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
    },
  ],
});

describeStack('security: silence scope against the real Alertmanager (#12 §7)', () => {
  let stack: PromStack;
  let h: Harness;
  beforeAll(async () => {
    if (!availability.available) throw new Error(`RBP_REQUIRE_HOSTS=1 but ${availability.reason}`);
    stack = await startPromStack();
    const am = new AlertmanagerClient({ url: stack.alertmanagerUrl, timeoutMs: 2000 });
    await waitFor(
      'four HaproxyServerDown alerts on the exporter',
      async () =>
        (await am.listAlerts({ alertname: 'HaproxyServerDown', instance: EXPORTER })).length >= 4 ? true : undefined,
      60_000,
      500,
    );
    h = await startHarness({ config: { alertmanager: { url: stack.alertmanagerUrl, timeoutMs: 1500 } } });
  });
  afterAll(async () => {
    await h?.stop();
    if (availability.available) await stopPromStack();
  });

  async function incidentFor(labels: Record<string, string>): Promise<string> {
    expect((await h.webhook(payload(labels))).status).toBe(202);
    const incident = await waitFor(
      'the incident',
      async () =>
        (await h.pilot.deps.store.listOpen()).find((i) => i.alert.labels.severity === labels.severity && i.messageTs),
      5000,
      50,
    );
    await h.incidentMessage(incident.threadTs);
    return incident.threadTs;
  }

  it('refuses a silence that would not name the host', async () => {
    const ts = await incidentFor({ alertname: 'HaproxyServerDown', job: 'haproxy', severity: 'no-host' });
    await h.click(ts, 'incident.silence', ONCALL);
    const told = await h.slack.waitFor(
      'chat.postEphemeral',
      (c) => c.args.user === ONCALL && /instance/.test(String(c.args.text)),
      5000,
    );
    expect(String(told.args.text)).toMatch(/`instance` label is not known.*nothing was silenced/);
    expect(h.slack.calls('views.open')).toHaveLength(0);
  });

  it('says how many alerts the matchers cover and needs "silence all N"', async () => {
    const ts = await incidentFor({
      alertname: 'HaproxyServerDown',
      instance: EXPORTER,
      job: 'haproxy',
      severity: 'critical',
    });
    await h.click(ts, 'incident.silence', ONCALL);
    const opened = await h.slack.waitFor('views.open', () => true, 5000);
    const view = (opened.response as { view: { id: string; blocks: unknown[] } }).view;
    const shown = plain(JSON.stringify(view.blocks));
    const n = Number(/cover \*(\d+) alerts\* now/.exec(shown)?.[1]);
    expect(n).toBeGreaterThanOrEqual(4);
    expect(shown).toContain(`Silence all ${n}`);
    const values = {
      duration: {
        duration: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: '30 minutes' }, value: '30m' },
        },
      },
      comment: { comment: { type: 'plain_text_input', value: 'the exporter host is being rebuilt' } },
    };
    const untaken = await h.slack.submitView({ user: ONCALL, viewId: view.id, values });
    expect(JSON.stringify(untaken)).toContain('tick this to silence all of them');
    expect((await h.pilot.deps.store.listOpen()).flatMap((i) => i.silences ?? [])).toEqual([]);
    await h.slack.submitView({
      user: ONCALL,
      viewId: view.id,
      values: {
        ...values,
        'silence-all': {
          'silence-all': {
            type: 'checkboxes',
            selected_options: [{ text: { type: 'plain_text', text: `Silence all ${n}` }, value: 'silence-all' }],
          },
        },
      },
    });
    await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.thread_ts === ts && /silenced/.test(String(c.args.text)),
      10_000,
    );
  });
});
