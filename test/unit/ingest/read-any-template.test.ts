/**
 * The rules that keep a custom template from showing a wrong value (#18), one by one, on small hand-written messages
 * shaped like the captured ones (test/fixtures/templates). The captured messages themselves are checked in
 * published-templates.test.ts, generated ones in any-template.property.test.ts.
 */
import type { Alert } from '../../../src/ingest/alert';
import { completeAlert, type HeldAlert } from '../../../src/ingest/complete-alerts';
import { parseSlackAlertMessage, type SlackAlertOptions } from '../../../src/ingest/parse-slack-alert';
import { parseGoLabelMaps, parseTemplateText } from '../../../src/ingest/parse-template-text';
import { createLogger } from '../../../src/logger';
import { HAPROXY_LABEL_NAMES } from './fixtures';

const opts: SlackAlertOptions = {
  labelNames: (a) => (a === 'HaproxyServerDown' ? HAPROXY_LABEL_NAMES : undefined),
  knownAlert: (a) => a === 'HaproxyServerDown',
};
const COMMON = 'web 127.0.0.1:9101 haproxy critical';
const labelsOf = (server: string) => ({
  alertname: 'HaproxyServerDown',
  backend: 'web',
  instance: '127.0.0.1:9101',
  job: 'haproxy',
  server,
  severity: 'critical',
});
const map = (server: string) =>
  `LABELS = map[__name__:haproxy_server_up backend:web instance:127.0.0.1:9101 job:haproxy server:${server}]`;

function message(att: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message',
    subtype: 'bot_message',
    bot_id: 'B0ALERTMGR',
    channel: 'C1',
    ts: '1.000100',
    attachments: [att],
  };
}
const read = (att: Record<string, unknown>, o: SlackAlertOptions = opts): Alert[] =>
  parseSlackAlertMessage(message(att), o)?.alerts ?? [];
const shown = (a: Alert) => Object.fromEntries(Object.entries(a.labels).filter(([k]) => !a.missingLabels.includes(k)));

describe('parseTemplateText: blocks and labels of folded and bold-name texts', () => {
  it('splits a text folded onto one line at each *Alert:*', () => {
    const blocks = parseTemplateText('*Alert:* a - `critical` *Details:* • *server:* `web1` *Alert:* b - `warning`');
    expect(blocks.map((b) => b.opened)).toEqual([true, true]);
    expect(blocks[0].labels).toEqual({ severity: 'critical', server: 'web1' });
    expect(blocks[1].labels).toEqual({ severity: 'warning' });
  });

  it('reads every bullet of a Details list folded onto one line', () => {
    const [b] = parseTemplateText('*Alert:* x\n*Details:*\n • *backend:* `web` • *server:* `web2` • *job:* `haproxy`');
    expect(b.labels).toEqual({ backend: 'web', server: 'web2', job: 'haproxy' });
  });

  it('reads `*name*: value` lists (a heading `*Labels*:`, bullets or none), also folded', () => {
    const [b] = parseTemplateText('*Labels*:\n  • *backend*: web\n*instance*: 127.0.0.1:9101 *job*: haproxy');
    expect(b.labels).toEqual({ backend: 'web', instance: '127.0.0.1:9101', job: 'haproxy' });
  });

  it('a label listed with different values in one block is left out, and counts the alerts', () => {
    const [b] = parseTemplateText(`*Description:* down ${map('web1')} down ${map('web2')} down ${map('web3')}`);
    expect(b.labels).toEqual({ backend: 'web', instance: '127.0.0.1:9101', job: 'haproxy' });
    expect(b.repeats).toBe(3);
  });

  it('finds every LABELS map, several on one folded line', () => {
    expect(parseGoLabelMaps(`${map('web1')} x ${map('web2')}\n${map('web3')}`).map((m) => m.server)).toEqual([
      'web1',
      'web2',
      'web3',
    ]);
  });
});

describe('parseSlackAlertMessage: a custom template never gives a wrong value', () => {
  it('several descriptions in one block and [FIRING:3]: one alert per map, each with its own server', () => {
    const alerts = read({
      title: 'HAProxy server down\nHAProxy server down\nHAProxy server down\n',
      text: ['web1', 'web2', 'web3'].map((s) => `HAProxy server is down ${map(s)}`).join(' '),
      fallback: `[FIRING:3] HaproxyServerDown (${COMMON}) | http://am`,
      color: 'danger',
    });
    // Three maps, three alerts: each map is one alert's series labels, with the title's common labels.
    expect(alerts.map((a) => shown(a))).toEqual(['web1', 'web2', 'web3'].map(labelsOf));
  });

  it('as many label maps as alerts, and the title common labels: one exact alert per map', () => {
    const alerts = read({
      title: 'custom',
      text: ['web1', 'web2', 'web3'].map((s) => `down ${map(s)}`).join('\n'),
      fallback: `[FIRING:3] HaproxyServerDown (${COMMON}) | http://am`,
      color: 'danger',
    });
    expect(alerts.map(shown)).toEqual(['web1', 'web2', 'web3'].map(labelsOf));
  });

  it('fewer maps than alerts: no map is given to the incident, which says how many it stands for', () => {
    const [a, ...rest] = read({
      title: 'custom',
      text: `down ${map('web1')}`,
      fallback: `[FIRING:3] HaproxyServerDown (${COMMON}) | http://am`,
      color: 'danger',
    });
    expect(rest).toEqual([]);
    expect(a.labels.server).toBeUndefined();
    expect(a.missingLabels).toContain('server');
    expect(a.groupSize).toBe(3);
  });

  it('a resolved message whose text shows one of several alerts: the value the title lacks is not taken', () => {
    const [a] = read({
      title: 'resolved',
      text: `*Alert:* down - \`critical\`\n*Description:* ${map('web1')}`,
      fallback: `[RESOLVED] HaproxyServerDown (${COMMON}) | http://am`,
      color: 'good',
    });
    expect(a.status).toBe('resolved');
    expect(a.labels.server).toBeUndefined();
  });

  it('a custom title is no subject: `[FIRING:3] prod Cluster Alerting` names no alert, the text does', () => {
    const alerts = read({
      title: '[FIRING:3] prod Cluster Alerting',
      text: ['web1', 'web2', 'web3']
        .map(() => '*Cluster:* \n*Alert:* HaproxyServerDown\n*Description:* down')
        .join('\n'),
      fallback: `[FIRING:3] HaproxyServerDown (${COMMON}) | http://am`,
      color: 'danger',
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0].alertname).toBe('HaproxyServerDown');
    expect(alerts[0].groupSize).toBe(3);
  });

  it('emoji shortcodes and bracketed words are never alert names; a loaded runbook named in the title is', () => {
    const [a] = read({
      title: '[FIRING:1] :fire: HaproxyServerDown',
      fallback: '[FIRING:1] :fire: HaproxyServerDown',
      color: 'danger',
    });
    expect(a.alertname).toBe('HaproxyServerDown');
    expect(
      read(
        { title: '[FIRING:1] :fire: [prod]', fallback: '[FIRING:1] :fire: [prod]  | http://am', color: 'danger' },
        {},
      ),
    ).toEqual([]);
  });

  it('a custom fallback (no trailing space or `)`) is not read as the default title', () => {
    expect(
      read({
        title: '[FIRING:1] prod Cluster Alerting',
        fallback: '[FIRING:1] prod Cluster Alerting',
        color: 'danger',
      }),
    ).toEqual([]);
  });

  it('a field that contradicts a label leaves it missing; a title-cased one confirms it', () => {
    const base = {
      title: ':octagonal_sign: ERROR: HaproxyServerDown',
      fallback: `[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical) | http://am`,
      color: 'danger',
    };
    const [ok] = read({ ...base, fields: [{ title: 'Severity', value: ':octagonal_sign: Critical' }] });
    expect(ok.labels.severity).toBe('critical');
    const [bad] = read({ ...base, fields: [{ title: 'Severity', value: 'warning' }] });
    expect(bad.labels.severity).toBeUndefined();
    expect(bad.missingLabels).toContain('severity');
  });

  it('a Details list that disagrees with the default title leaves the label missing', () => {
    const [a] = read({
      title: 'custom',
      text: '*Alert:* x\n*Details:*\n • *alertname:* `HaproxyServerDown`\n • *server:* `web9`',
      fallback: `[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical) | http://am`,
      color: 'danger',
    });
    expect(a.labels.server).toBeUndefined();
    expect(a.missingLabels).toContain('server');
  });

  it('a Details list that disagrees with its own LABELS map leaves the label missing, though the title agrees with one', () => {
    // Two parts against one is no majority: the block's own disagreement is the message's (community template shape).
    const [a] = read({
      title: '[FIRING:1] Prometheus Event Notification',
      text: `*Alert:* HAProxy server down - \`critical\`\n*Description:* down\n  ${map('web2')}\n*Details:*\n • *alertname:* \`HaproxyServerDown\`\n • *server:* \`web9\``,
      fallback: `[FIRING:1] HaproxyServerDown (${COMMON.replace('haproxy', 'haproxy web2')}) | http://am`,
      color: 'danger',
    });
    expect(a.labels.server).toBeUndefined();
    expect(a.missingLabels).toContain('server');
    expect(shown(a)).toEqual({
      alertname: 'HaproxyServerDown',
      backend: 'web',
      instance: '127.0.0.1:9101',
      job: 'haproxy',
      severity: 'critical',
    });
  });

  it('without a runbook, a word the message shows as another label’s value is not the alert name', () => {
    const [a] = read(
      {
        title: 'x',
        text: `down ${map('web2')}`,
        fallback: `[FIRING:1] web web2 (HaproxyServerDown 127.0.0.1:9101 haproxy critical) | http://am`,
        color: 'danger',
      },
      {},
    );
    expect(a.alertname).toBe('HaproxyServerDown');
  });
});

describe('completeAlert without a default title: only alerts that explain the message exactly', () => {
  const heldAlert = (server: string): HeldAlert => ({
    labels: labelsOf(server),
    annotations: {},
    startsAt: '2026-12-06T10:00:00Z',
    fingerprint: server,
  });
  const partial: Alert = {
    alertname: 'HaproxyServerDown',
    status: 'firing',
    labels: { alertname: 'HaproxyServerDown', backend: 'web', instance: '127.0.0.1:9101' },
    annotations: {},
    fingerprint: 'x',
    source: 'alertmanager-template',
    missingLabels: ['job', 'server', 'severity'],
    groupSize: 3,
    standsFor: 3,
  };
  const complete = (held: HeldAlert[], alert = partial) =>
    completeAlert(alert, {
      listAlerts: async (m) => held.filter((h) => Object.entries(m).every(([k, v]) => h.labels[k] === v)),
      openAlerts: async () => [],
      logger: createLogger('silent'),
    });

  it('as many held alerts as the message counts, each with every value read: one alert each', async () => {
    const got = await complete(['web1', 'web2', 'web3'].map(heldAlert));
    expect(got.via).toBe('alertmanager');
    expect(got.alerts.map((a) => a.labels.server)).toEqual(['web1', 'web2', 'web3']);
  });

  it('a different count is no answer: the message stands as read', async () => {
    const got = await complete(['web1', 'web2', 'web3', 'web4'].map(heldAlert));
    expect(got).toEqual({ via: 'message', alerts: [partial] });
  });

  it('values read are matchers: alerts that do not carry them are not taken', async () => {
    const got = await complete(
      ['web1', 'web2', 'web3'].map((s) => ({ ...heldAlert(s), labels: { ...labelsOf(s), backend: 'api' } })),
    );
    expect(got.via).toBe('message');
  });

  it('a title read with nothing known but a word as its name: Alertmanager’s alerts of the one other name that render it', async () => {
    // given no runbook: `web` is read as the name ([FIRING:1] web web2 (HaproxyServerDown …) under [backend, server])
    const [read1] = read(
      {
        title: 'x',
        fallback: '[FIRING:1] web web2 (HaproxyServerDown 127.0.0.1:9101 haproxy critical) | http://am',
        color: 'danger',
      },
      {},
    );
    expect(read1.alertname).toBe('web');
    const held: HeldAlert[] = [{ ...heldAlert('web2'), labels: { ...labelsOf('web2') } }];
    const asked: Array<Record<string, string>> = [];
    const got = await completeAlert(read1, {
      listAlerts: async (m) => {
        asked.push(m);
        return held.filter((h) => Object.entries(m).every(([k, v]) => h.labels[k] === v));
      },
      openAlerts: async () => [],
      logger: createLogger('silent'),
    });
    expect(asked).toEqual([{ alertname: 'web' }, { alertname: 'HaproxyServerDown' }]);
    expect(got.alerts.map((a) => [a.alertname, a.labels])).toEqual([['HaproxyServerDown', labelsOf('web2')]]);
  });
});
