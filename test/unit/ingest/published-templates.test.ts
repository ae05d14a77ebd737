/**
 * The Slack templates real teams publish (test/fixtures/templates: each rendered by a real Alertmanager 0.25 under
 * several groupings, three alerts in one notification, plain annotations, firing and resolved). Per message: the bot
 * never shows a wrong value, with or without a runbook binding; with an Alertmanager holding the alerts (or, for a
 * resolved message, the incidents the firing one opened) every message is exact.
 */
import type { Alert } from '../../../src/ingest/alert';
import { completeAlert, type HeldAlert } from '../../../src/ingest/complete-alerts';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { parseSlackAlertMessage, type SlackAlertOptions } from '../../../src/ingest/parse-slack-alert';
import { createLogger } from '../../../src/logger';
import { judgeAlerts } from '../../support/judge-alerts';
import { slackEventFromPayload } from '../../support/slack-envelope';
import { type TemplateMessage, templateFixtures } from '../../support/template-fixtures';
import { HAPROXY_LABEL_NAMES } from './fixtures';

const withRunbook: SlackAlertOptions = {
  labelNames: (a) => (a === 'HaproxyServerDown' ? HAPROXY_LABEL_NAMES : undefined),
  knownAlert: (a) => a === 'HaproxyServerDown',
};
const bare: SlackAlertOptions = {};

function read(m: TemplateMessage, opts: SlackAlertOptions): Alert[] {
  const event = slackEventFromPayload(m.body, {
    kind: 'incoming-webhook',
    channel: 'C0123ALERTS',
    ts: '1732540800.000100',
    botId: 'B0ALERTMGR',
  });
  return parseSlackAlertMessage(event, opts)?.alerts ?? [];
}

/** Alertmanager's API over the message's alerts (while firing), and the incidents the firing message opened. */
async function completed(m: TemplateMessage, opts: SlackAlertOptions): Promise<Alert[]> {
  const held: HeldAlert[] = m.status === 'firing' ? m.alerts : [];
  const open: Alert[] = m.alerts.map((a) => ({
    alertname: a.labels.alertname,
    status: 'firing',
    labels: a.labels,
    annotations: a.annotations,
    fingerprint: labelsFingerprint(a.labels),
    source: 'alertmanager-slack',
    missingLabels: [],
  }));
  const out: Alert[] = [];
  for (const alert of read(m, opts)) {
    const c = await completeAlert(alert, {
      listAlerts: async (matchers) => held.filter((h) => Object.entries(matchers).every(([k, v]) => h.labels[k] === v)),
      openAlerts: async (name) => open.filter((a) => a.alertname === name),
      logger: createLogger('silent'),
    });
    out.push(...c.alerts);
  }
  return out;
}

/**
 * Messages that say nothing of the alert but a default title under `group_by: [backend, server]`
 * (`[FIRING:1] web web2 (HaproxyServerDown …)`): without a runbook or learned label names, the title reads the same
 * with `web` as the alert name under a group_by holding alertname, so nothing tells them apart. The first word is
 * taken, as before; a runbook for the alert (or label names learned from the webhook or Alertmanager) reads it right.
 */
const NAME_FROM_TITLE_ONLY = [
  'default by-server firing',
  'default by-server resolved',
  'kalisio-kargo by-server firing',
  'kalisio-kargo by-server resolved',
  'gitlab by-server resolved',
];

const cases = templateFixtures().flatMap((t) =>
  t.messages.map((m) => ({ name: `${t.template} ${m.scenario} ${m.status}`, template: t.template, m })),
);

describe('published Slack templates rendered by a real Alertmanager', () => {
  it('has at least ten templates besides the default, each under every scenario', () => {
    const templates = new Set(cases.map((c) => c.template));
    expect(templates.size).toBeGreaterThanOrEqual(11);
    expect(cases.length).toBe(templates.size * 14);
  });

  describe.each(cases)('$name', ({ name, m }) => {
    const truth = m.alerts.map((a) => a.labels);
    it('shows no wrong value with the runbook loaded', () => {
      expect(judgeAlerts(read(m, withRunbook), truth)).not.toMatchObject({ kind: 'wrong' });
    });
    it('shows no wrong label without any runbook (the alert name: see NAME_FROM_TITLE_ONLY)', () => {
      const alerts = read(m, bare);
      if (NAME_FROM_TITLE_ONLY.includes(name)) {
        // Nothing but a default title under a group_by without alertname: its first word is taken as the name.
        expect(alerts.map((a) => a.labels)).toEqual([{ alertname: 'web' }]);
        return;
      }
      expect(judgeAlerts(alerts, truth)).not.toMatchObject({ kind: 'wrong' });
    });
    it('is exact with Alertmanager holding the alerts (with the runbook loaded, and without any)', async () => {
      expect(judgeAlerts(await completed(m, withRunbook), truth)).toEqual({ kind: 'exact' });
      expect(judgeAlerts(await completed(m, bare), truth)).toEqual({ kind: 'exact' });
    });
  });
});
