import { type Alert, labelsFingerprint, parseSlackAlertMessage, type SlackAlertOptions } from '../../../src/ingest';
import { fixtureFiles, HAPROXY_LABEL_NAMES, loadFixture, webhookAlerts } from './fixtures';

type Ev = Record<string, unknown>;

const bindingOpts: SlackAlertOptions = {
  labelNames: (a) => (a === 'HaproxyServerDown' ? HAPROXY_LABEL_NAMES : undefined),
  knownAlert: (a) => a === 'HaproxyServerDown',
};
const byInstance: SlackAlertOptions = { ...bindingOpts, groupBy: () => ['alertname', 'instance'] };
const grafanaOpts: SlackAlertOptions = {
  ...bindingOpts,
  groupBy: () => ['alertname', 'grafana_folder'],
  alertSenders: ['B0GRAFANA1'],
};
/** Alertmanager's bot listed in `slack.alertSenders`: its Graph link (generatorURL) is kept (#19 §2). */
const listed = (opts: SlackAlertOptions): SlackAlertOptions => ({ ...opts, alertSenders: ['B0ALERTMGR'] });

interface Expected {
  source: Alert['source'];
  /** The alerts expected, field by field (toMatchObject). */
  alerts: Array<Partial<Alert>>;
  opts: SlackAlertOptions;
}

/** The labels every alert shares. */
function commonOf(alerts: Array<{ labels: Record<string, string> }>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(alerts[0].labels).filter(([k, v]) => alerts.every((a) => a.labels[k] === v)),
  );
}

const SCENARIOS = ['single', 'grouped', 'by-instance', 'metachar', 'all-labels', 'grouped-three', 'by-server'] as const;
const STATUSES = ['firing', 'resolved'] as const;

/**
 * The table: every Slack fixture with what must come out of it. For the Alertmanager ones, the truth is what the
 * same Alertmanager sent to the webhook at the same moment (captured alongside).
 */
function table(): Array<[string, Expected]> {
  const rows: Array<[string, Expected]> = [];
  for (const scenario of SCENARIOS) {
    const opts = listed(scenario === 'by-instance' ? byInstance : bindingOpts);
    for (const status of STATUSES) {
      const truth = webhookAlerts(scenario, status);
      const full = truth.map((w) => ({
        status,
        labels: w.labels,
        annotations: w.annotations,
        generatorURL: w.generatorURL,
        fingerprint: w.fingerprint,
        missingLabels: [],
        groupSize: truth.length,
      }));
      // Community templates list every alert with all its labels and annotations.
      for (const integration of ['slack-community', 'slack-kps']) {
        rows.push([
          `${scenario}.${integration}.${status}.event.json`,
          { source: 'alertmanager-template', alerts: full, opts },
        ]);
      }
      // The default template carries only the title: the common labels, without names.
      const groupSize = status === 'firing' ? { groupSize: truth.length } : {}; // `[RESOLVED]` has no count
      // Grouped by [backend, server]: `haproxy` could be the job or the server. Three servers of one backend: with no
      // host configured, the address could be the job as well (the server differs, so it is not in the title).
      const readable = {
        alertname: 'HaproxyServerDown',
        backend: 'web',
        instance: '127.0.0.1:9101',
        severity: 'critical',
      };
      const three = { alertname: 'HaproxyServerDown', backend: 'web', severity: 'critical' };
      const defaultAlerts =
        scenario === 'by-server'
          ? [
              {
                status,
                labels: readable,
                annotations: {},
                missingLabels: ['job', 'server'],
                ...groupSize,
                fingerprint: labelsFingerprint(readable),
              },
            ]
          : scenario === 'grouped-three'
            ? [
                {
                  status,
                  labels: three,
                  annotations: {},
                  missingLabels: ['instance', 'job', 'server'],
                  ...groupSize,
                  fingerprint: labelsFingerprint(three),
                },
              ]
            : scenario === 'grouped'
              ? // Two instances: `instance` differs, so it is not in the title; no other value can be an instance (host:port).
                [
                  {
                    status,
                    labels: commonOf(truth),
                    annotations: {},
                    missingLabels: ['instance'],
                    ...groupSize,
                    fingerprint: labelsFingerprint(commonOf(truth)),
                  },
                ]
              : [
                  {
                    status,
                    labels: truth[0].labels,
                    annotations: {},
                    missingLabels: [],
                    ...groupSize,
                    fingerprint: truth[0].fingerprint,
                  },
                ];
      rows.push([
        `${scenario}.slack-default.${status}.event.json`,
        { source: 'alertmanager-slack', alerts: defaultAlerts, opts },
      ]);
    }
  }
  const single = webhookAlerts('single', 'firing')[0];
  rows.push([
    'single.slack-default.firing.bot-token.event.json',
    {
      source: 'alertmanager-slack',
      alerts: [{ status: 'firing', labels: single.labels, fingerprint: single.fingerprint }],
      opts: bindingOpts,
    },
  ]);
  rows.push([
    'single.slack-default.resolved.changed.event.json',
    {
      source: 'alertmanager-slack',
      alerts: [{ status: 'resolved', labels: single.labels, fingerprint: single.fingerprint }],
      opts: bindingOpts,
    },
  ]);

  const grafanaLabels = (instance: string) => ({
    alertname: 'HaproxyServerDown',
    backend: 'web',
    grafana_folder: 'HAProxy',
    instance,
    job: 'haproxy',
    server: 'web2',
    severity: 'critical',
  });
  const grafanaAlert = (status: 'firing' | 'resolved', instance: string, groupSize: number) => ({
    status,
    labels: grafanaLabels(instance),
    annotations: {
      ...webhookAlerts('single', 'firing')[0].annotations,
      summary: `HAProxy server down (instance ${instance})`,
      description: `HAProxy server is down\n  VALUE = 0\n  LABELS = map[__name__:haproxy_server_up backend:web instance:${instance} job:haproxy server:web2]`,
    },
    generatorURL: 'http://grafana.example.org:3000/alerting/grafana/fe2kx0haproxy/view?orgId=1',
    fingerprint: labelsFingerprint(grafanaLabels(instance)),
    missingLabels: [],
    groupSize,
  });
  rows.push([
    'grafana.haproxy-firing.event.json',
    { source: 'grafana', alerts: [grafanaAlert('firing', 'lb-1:9101', 1)], opts: grafanaOpts },
  ]);
  rows.push([
    'grafana.haproxy-resolved.event.json',
    { source: 'grafana', alerts: [grafanaAlert('resolved', 'lb-1:9101', 1)], opts: grafanaOpts },
  ]);
  rows.push([
    'grafana.haproxy-mixed.event.json',
    {
      source: 'grafana',
      alerts: [grafanaAlert('firing', 'lb-1:9101', 2), grafanaAlert('resolved', '127.0.0.1:9101', 2)],
      opts: grafanaOpts,
    },
  ]);
  return rows;
}

describe('parseSlackAlertMessage on the captured fixtures', () => {
  const rows = table();

  it('covers every fixture in test/fixtures/slack', () => {
    expect(rows.map(([f]) => f).sort()).toEqual(fixtureFiles('slack'));
  });

  it.each(rows)('%s', (file, expected) => {
    // given the message event Slack delivers for what Alertmanager/Grafana posted
    const event = loadFixture<Ev>('slack', file);
    // when
    const parsed = parseSlackAlertMessage(event, expected.opts);
    // then
    expect(parsed).not.toBeNull();
    const msg = (event.subtype === 'message_changed' ? event.message : event) as Ev;
    expect(parsed?.ref).toEqual({ channel: event.channel, ts: msg.ts });
    expect(parsed?.alerts).toHaveLength(expected.alerts.length);
    parsed?.alerts.forEach((alert, i) => {
      expect(alert).toMatchObject({ alertname: 'HaproxyServerDown', source: expected.source, ...expected.alerts[i] });
      expect(alert.fingerprint).toBe(labelsFingerprint(alert.labels));
    });
  });

  it('finds the same fingerprint in Slack as the webhook, for every fully-labelled alert', () => {
    const fromWebhook = new Set(SCENARIOS.flatMap((s) => webhookAlerts(s, 'firing').map((a) => a.fingerprint)));
    const fromSlack = new Set(
      fixtureFiles('slack')
        .filter((f) => !f.startsWith('grafana') && !/^(grouped|grouped-three|by-server)\.slack-default/.test(f))
        .flatMap(
          (f) =>
            parseSlackAlertMessage(loadFixture('slack', f), f.startsWith('by-instance') ? byInstance : bindingOpts)
              ?.alerts ?? [],
        )
        .map((a) => a.fingerprint),
    );
    expect(fromSlack).toEqual(fromWebhook);
  });
});

describe('parseSlackAlertMessage: label recovery from the default title', () => {
  const event = (title: string): Ev => {
    const base = loadFixture<Ev>('slack', 'single.slack-default.firing.event.json');
    const [att] = base.attachments as Ev[];
    return { ...base, attachments: [{ ...att, title: title.trimEnd(), fallback: `${title} | http://am` }] };
  };

  it.each<[string, string, SlackAlertOptions, Record<string, string>, string[]]>([
    [
      'no binding: only the alertname is certain',
      '[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical)',
      {},
      { alertname: 'HaproxyServerDown' },
      [],
    ],
    [
      'no binding, but a configured host value is recognised',
      '[FIRING:1] HaproxyServerDown (web lb-1:9101 haproxy web2 critical)',
      { hostValues: ['lb-1:9101'] },
      { alertname: 'HaproxyServerDown', instance: 'lb-1:9101' },
      [],
    ],
    [
      'a grouped title lacks the differing label: only it is missing when no other value can be an instance',
      '[FIRING:2] HaproxyServerDown (web haproxy web2 critical)',
      bindingOpts,
      { alertname: 'HaproxyServerDown', backend: 'web', job: 'haproxy', server: 'web2', severity: 'critical' },
      ['instance'],
    ],
    [
      'a host value anchors the alignment when a label is missing',
      '[FIRING:2] HaproxyServerDown (web lb-1:9101 haproxy critical)',
      { ...bindingOpts, hostValues: ['lb-1:9101', '127.0.0.1:9101'] },
      { alertname: 'HaproxyServerDown', backend: 'web', instance: 'lb-1:9101', severity: 'critical' },
      ['job', 'server'], // `haproxy` could be either
    ],
    [
      'a value with spaces left alone beside the host value is joined',
      '[FIRING:1] HaproxyServerDown (web lb-1:9101 web 2)',
      { labelNames: () => ['alertname', 'backend', 'instance', 'server'], hostValues: ['lb-1:9101'] },
      { alertname: 'HaproxyServerDown', backend: 'web', instance: 'lb-1:9101', server: 'web 2' },
      [],
    ],
    [
      'a value with spaces among several names is not guessed',
      '[FIRING:1] HaproxyServerDown (web lb-1:9101 haproxy web 2 critical)',
      { ...bindingOpts, hostValues: ['lb-1:9101'] },
      { alertname: 'HaproxyServerDown', backend: 'web', instance: 'lb-1:9101', severity: 'critical' },
      ['job', 'server'],
    ],
    [
      'group_by alertname, instance puts the instance before the parentheses',
      '[FIRING:1] HaproxyServerDown lb-1:9101 (web haproxy web2 critical)',
      byInstance,
      {
        alertname: 'HaproxyServerDown',
        backend: 'web',
        instance: 'lb-1:9101',
        job: 'haproxy',
        server: 'web2',
        severity: 'critical',
      },
      [],
    ],
    [
      'group_by without alertname: the alertname is found by the runbook that knows it',
      '[FIRING:1] lb-1:9101 (HaproxyServerDown web haproxy web2 critical)',
      { ...bindingOpts, groupBy: () => ['instance'] },
      {
        alertname: 'HaproxyServerDown',
        backend: 'web',
        instance: 'lb-1:9101',
        job: 'haproxy',
        server: 'web2',
        severity: 'critical',
      },
      [],
    ],
    [
      'a binding label that the alert does not have: the labels it could stand beside are missing',
      '[FIRING:1] HaproxyServerDown (web lb-1:9101 haproxy web2 critical)',
      { labelNames: () => [...HAPROXY_LABEL_NAMES, 'cluster'] },
      { alertname: 'HaproxyServerDown', job: 'haproxy', server: 'web2', severity: 'critical' },
      ['backend', 'instance', 'cluster'], // in the binding's order
    ],
    [
      'equal counts with the host value out of place are not zipped',
      '[FIRING:1] HaproxyServerDown (lb-1:9101 haproxy web 2 critical)',
      { ...bindingOpts, hostValues: ['lb-1:9101'] },
      { alertname: 'HaproxyServerDown', instance: 'lb-1:9101', severity: 'critical' },
      ['backend', 'job', 'server'],
    ],
    [
      'a `...` grouping whose title Slack trimmed: the fallback keeps the trailing space',
      '[FIRING:1] HaproxyServerDown web lb-1:9101 haproxy web2 critical ',
      { ...bindingOpts, hostValues: ['lb-1:9101'] },
      {
        alertname: 'HaproxyServerDown',
        backend: 'web',
        instance: 'lb-1:9101',
        job: 'haproxy',
        server: 'web2',
        severity: 'critical',
      },
      [],
    ],
  ])('%s', (_name, title, opts, labels, missing) => {
    const parsed = parseSlackAlertMessage(event(title), opts);
    const alert = parsed?.alerts[0];
    for (const [k, v] of Object.entries(labels)) expect(alert?.labels[k]).toBe(v);
    expect(alert?.missingLabels).toEqual(missing);
    expect(alert?.fingerprint).toBe(labelsFingerprint(alert?.labels ?? {}));
  });

  it('reads the status from the colour when the title has no [STATUS] prefix but the fallback does', () => {
    const ev = event('HaproxyServerDown is down');
    const [att] = ev.attachments as Ev[];
    const parsed = parseSlackAlertMessage(
      {
        ...ev,
        attachments: [{ ...att, fallback: '[RESOLVED] HaproxyServerDown (web lb-1:9101 haproxy web2 critical) | x' }],
      },
      bindingOpts,
    );
    expect(parsed?.alerts[0]).toMatchObject({ status: 'resolved', labels: { instance: 'lb-1:9101' } });
  });
});

describe('parseSlackAlertMessage: Slack text escaping', () => {
  it('reads &amp; &lt; &gt; as Slack stores them', () => {
    const ev = loadFixture<Ev>('slack', 'single.slack-kps.firing.event.json');
    const [att] = ev.attachments as Ev[];
    const escaped = {
      ...att,
      text: String(att.text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    };
    const parsed = parseSlackAlertMessage({ ...ev, attachments: [escaped] }, listed(bindingOpts));
    const truth = webhookAlerts('single', 'firing')[0];
    expect(parsed?.alerts[0].generatorURL).toBe(truth.generatorURL);
    expect(parsed?.alerts[0].annotations).toEqual(truth.annotations);
  });
});

describe('parseSlackAlertMessage: whose Graph link is queried (#19 §2)', () => {
  const ev = loadFixture<Ev>('slack', 'all-labels.slack-community.firing.event.json');
  const truth = webhookAlerts('all-labels', 'firing')[0];

  it('keeps the generatorURL of a sender listed in slack.alertSenders', () => {
    expect(parseSlackAlertMessage(ev, listed(bindingOpts))?.alerts[0].generatorURL).toBe(truth.generatorURL);
  });

  it('drops it when alertSenders is unset: any bot may have written the expression', () => {
    const parsed = parseSlackAlertMessage({ ...ev, bot_id: 'B0OTHERBOT' }, bindingOpts);
    expect(parsed?.alerts.length).toBeGreaterThan(0);
    for (const a of parsed?.alerts ?? []) expect(a.generatorURL).toBeUndefined();
  });
});

describe('parseSlackAlertMessage: typed messages', () => {
  const typed = (text: string, extra: Ev = {}): Ev => ({
    type: 'message',
    channel: 'C0123ALERTS',
    user: 'U0PERSON1',
    text,
    ts: '1732540800.000100',
    channel_type: 'channel',
    ...extra,
  });

  it.each<[string, string, Partial<Alert> | null]>([
    [
      'key=value pairs',
      'HaproxyServerDown instance=lb-1:9101 backend=web server=web2',
      {
        status: 'firing',
        labels: { alertname: 'HaproxyServerDown', instance: 'lb-1:9101', backend: 'web', server: 'web2' },
      },
    ],
    [
      'quoted values',
      'HaproxyServerDown instance="lb 1:9101" server=\'web 2\' backend=“web”',
      { labels: { alertname: 'HaproxyServerDown', instance: 'lb 1:9101', server: 'web 2', backend: 'web' } },
    ],
    // A person's "resolved" is refused (#12 §4): test/unit/ingest/alert-senders.test.ts.
    [
      'Slack auto-links',
      'HaproxyServerDown instance=<http://lb-1.example.org:9101|lb-1.example.org:9101>',
      { labels: { alertname: 'HaproxyServerDown', instance: 'lb-1.example.org:9101' } },
    ],
    [
      'bold alertname',
      '*HaproxyServerDown* instance=lb-1:9101',
      { labels: { alertname: 'HaproxyServerDown', instance: 'lb-1:9101' } },
    ],
    [
      'shell metacharacters pass through',
      'HaproxyServerDown instance=lb-1:9101;reboot server=$(id)`x`',
      { labels: { alertname: 'HaproxyServerDown', instance: 'lb-1:9101;reboot', server: '$(id)`x`' } },
    ],
    ['an unknown alertname is chatter', 'Lunch instance=canteen', null],
    ['ordinary chatter', 'is HaproxyServerDown firing again?', null],
    ['an empty message', '', null],
  ])('%s', (_name, text, expected) => {
    const parsed = parseSlackAlertMessage(typed(text), bindingOpts);
    if (expected === null) {
      expect(parsed).toBeNull();
      return;
    }
    expect(parsed?.alerts).toHaveLength(1);
    expect(parsed?.alerts[0]).toMatchObject({ source: 'plain', alertname: 'HaproxyServerDown', ...expected });
    expect(parsed?.alerts[0].missingLabels).toEqual(HAPROXY_LABEL_NAMES.filter((n) => !(n in (expected.labels ?? {}))));
  });

  it('ignores typed alerts unless knownAlert says a runbook exists', () => {
    expect(parseSlackAlertMessage(typed('HaproxyServerDown instance=lb-1:9101'))).toBeNull();
  });

  it('keeps the thread of a reply', () => {
    const parsed = parseSlackAlertMessage(
      typed('HaproxyServerDown instance=lb-1:9101', { thread_ts: '1732540000.000100' }),
      bindingOpts,
    );
    expect(parsed?.ref).toEqual({ channel: 'C0123ALERTS', ts: '1732540800.000100', threadTs: '1732540000.000100' });
  });
});

describe('parseSlackAlertMessage: not alerts', () => {
  const alertEvent = loadFixture<Ev>('slack', 'single.slack-default.firing.event.json');
  const { attachments: _a, ...botNoAttachments } = alertEvent;

  it.each<[string, unknown]>([
    ['a bot message without attachments', { ...botNoAttachments, text: 'HaproxyServerDown instance=lb-1:9101' }],
    [
      'a bot message with an unrelated attachment',
      { ...alertEvent, attachments: [{ id: 1, title: 'Deploy finished', text: 'v1.2.3 is live', color: '2eb886' }] },
    ],
    [
      'message_deleted',
      {
        type: 'message',
        subtype: 'message_deleted',
        hidden: true,
        channel: 'C0123ALERTS',
        ts: '1.2',
        deleted_ts: '1.1',
        previous_message: alertEvent,
      },
    ],
    [
      'channel_join',
      {
        type: 'message',
        subtype: 'channel_join',
        channel: 'C0123ALERTS',
        user: 'U1',
        text: '<@U1> has joined the channel',
        ts: '1.2',
      },
    ],
    ['a message without channel', { ...alertEvent, channel: undefined }],
    ['a message without ts', { ...alertEvent, ts: 5 }],
    ['another event type', { ...alertEvent, type: 'app_mention' }],
    [
      'message_changed without message',
      { type: 'message', subtype: 'message_changed', channel: 'C0123ALERTS', ts: '1.2' },
    ],
  ])('%s → null', (_name, event) => {
    expect(parseSlackAlertMessage(event, bindingOpts)).toBeNull();
  });
});

describe('parseSlackAlertMessage: garbage never crashes', () => {
  const alertEvent = loadFixture<Ev>('slack', 'single.slack-community.firing.event.json');
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'message'],
    ['an array', [alertEvent]],
    ['attachments as a string', { ...alertEvent, attachments: 'x' }],
    ['attachments of junk', { ...alertEvent, attachments: [null, 1, 'x', [], { title: 5, text: {}, color: [] }] }],
    ['a title of only the prefix', { ...alertEvent, attachments: [{ title: '[FIRING:1]', text: '' }] }],
    ['a title with an empty group', { ...alertEvent, attachments: [{ title: '[FIRING:1]  ()', text: '' }] }],
    [
      'text with only field markers',
      { ...alertEvent, attachments: [{ title: 'x', text: '*Alert:*\n*Details:*\n • *:* ``\n*Description:*' }] },
    ],
    [
      'a label list without values',
      { ...alertEvent, attachments: [{ title: 'x', text: 'Labels:\n - a = \nAnnotations:\n' }] },
    ],
    [
      'message_changed with a junk message',
      { type: 'message', subtype: 'message_changed', channel: 'C1', message: [1, 2] },
    ],
    ['deep junk', { type: 'message', channel: { a: { b: [] } }, ts: ['1'], bot_id: {}, attachments: [[[[{}]]]] }],
  ])('%s', (_name, event) => {
    expect(() => parseSlackAlertMessage(event, bindingOpts)).not.toThrow();
  });

  it('survives every fixture cut short at any point', () => {
    // Truncated attachment text (Slack cuts long attachments) must parse to something or nothing, never throw.
    for (const file of fixtureFiles('slack')) {
      const ev = loadFixture<Ev>('slack', file);
      const msg = (ev.subtype === 'message_changed' ? ev.message : ev) as Ev;
      const [att] = msg.attachments as Ev[];
      const text = String(att.text ?? '');
      for (let cut = 0; cut < text.length; cut += 7) {
        const cutEvent = {
          ...msg,
          channel: ev.channel,
          attachments: [{ ...att, text: text.slice(0, cut), title: String(att.title).slice(0, cut) }],
        };
        expect(() => parseSlackAlertMessage(cutEvent, bindingOpts)).not.toThrow();
      }
    }
  });
});
