/**
 * Property (#18): whatever the Slack template, the bot never shows a wrong value. Templates are generated the way
 * teams write them: a title that is Alertmanager's default, a custom one with or without `[FIRING:N]`, or plain words
 * (emoji shortcodes included); the default fallback kept or replaced; a text ranging over the alerts with random parts
 * (`*Alert:*` lines, `*Details:*` bullets of a random label subset, the rule's `LABELS = map[…]`, bold `*name*: value`
 * lines, free text) or listing the common labels, sometimes folded onto one line by YAML `>-`; fields naming some
 * common labels, their values sometimes title-cased. Several alerts of one group under a random group_by, firing or
 * resolved. Every label the bot shows must be the alert's (or, for an incident standing for several, shared by all).
 */
import fc from 'fast-check';
import { parseSlackAlertMessage, type SlackAlertOptions } from '../../../src/ingest/parse-slack-alert';
import { commonLabels, type RenderAlert, renderDefaultTitle, sortedPairNames } from '../../support/alertmanager-title';
import { judgeAlerts } from '../../support/judge-alerts';
import { slackEventFromPayload } from '../../support/slack-envelope';

const ALERTNAME = 'HaproxyServerDown';
const NAMES = ['backend', 'instance', 'job', 'server', 'severity'];
const VALUES: Record<string, string[]> = {
  backend: ['web', 'api', 'db'],
  instance: ['127.0.0.1:9101', 'lb-1:9101', 'lb-2:9101'],
  job: ['haproxy', 'node'],
  server: ['web1', 'web2', 'web3', 'api1'],
  severity: ['critical', 'warning'],
};

interface Template {
  title: 'default' | 'custom-count' | 'custom-plain' | 'emoji';
  fallback: 'default' | 'custom';
  parts: Array<'alert-summary' | 'alert-name' | 'details' | 'map' | 'bold-pairs' | 'free'>;
  /** Which labels the Details / bold lists show (a random subset, as templates filter some out). */
  shown: string[];
  commonList: boolean;
  folded: boolean;
  fields: Array<{ name: string; titleCase: boolean }>;
}

const template: fc.Arbitrary<Template> = fc.record({
  title: fc.constantFrom('default', 'custom-count', 'custom-plain', 'emoji'),
  fallback: fc.constantFrom('default', 'default', 'custom'),
  parts: fc.subarray(['alert-summary', 'alert-name', 'details', 'map', 'bold-pairs', 'free'] as const),
  shown: fc.subarray(['alertname', ...NAMES]),
  commonList: fc.boolean(),
  folded: fc.boolean(),
  fields: fc.array(fc.record({ name: fc.constantFrom(...NAMES), titleCase: fc.boolean() }), { maxLength: 3 }),
});

interface World {
  groupBy: string[];
  alerts: RenderAlert[];
}

const world: fc.Arbitrary<World> = fc
  .record({
    groupBy: fc.oneof(fc.constant<string[]>(['...']), fc.subarray<string>(['alertname', ...NAMES])),
    count: fc.integer({ min: 1, max: 4 }),
    resolved: fc.boolean(),
    base: fc.record(Object.fromEntries(NAMES.map((n) => [n, fc.constantFrom(...VALUES[n])]))),
  })
  .chain(({ groupBy, count, resolved, base }) =>
    fc
      .array(
        fc.record(
          Object.fromEntries(NAMES.map((n) => [n, fc.option(fc.constantFrom(...VALUES[n]), { nil: undefined })])),
        ),
        {
          minLength: count,
          maxLength: count,
        },
      )
      .map((variants) => {
        const group = groupBy.includes('...') ? [] : groupBy;
        const alerts = variants.map((v, i) => {
          // The alerts of one notification share the group labels; the others vary (or keep the base value).
          const labels: Record<string, string> = { alertname: ALERTNAME };
          for (const n of NAMES) labels[n] = i === 0 || group.includes(n) ? base[n] : (v[n] ?? base[n]);
          return labels;
        });
        const unique = [...new Map(alerts.map((l) => [JSON.stringify(l), l])).values()];
        // `...` groups by every label: a notification then holds one alert.
        const list = groupBy.includes('...') ? unique.slice(0, 1) : unique;
        return {
          groupBy,
          alerts: list.map((labels) => ({ labels, status: resolved ? ('resolved' as const) : ('firing' as const) })),
        };
      }),
  );

const titleCase = (v: string) => v.charAt(0).toUpperCase() + v.slice(1);

/** What Alertmanager would POST for this notification with this template (the parts the parser reads). */
function render(t: Template, w: World): Record<string, unknown> {
  const firing = w.alerts.filter((a) => a.status === 'firing').length;
  const status = firing > 0 ? `FIRING:${firing}` : 'RESOLVED';
  const subject = renderDefaultTitle(w.alerts, w.groupBy);
  const title =
    t.title === 'default'
      ? subject.trimEnd()
      : t.title === 'custom-count'
        ? `[${status}] prod Cluster Alerting`
        : t.title === 'emoji'
          ? `[${status}] :fire: ${ALERTNAME}`
          : 'Monitoring Event Notification';
  const common = commonLabels(w.alerts);
  const lines: string[] = [];
  for (const a of w.alerts) {
    const l = a.labels;
    for (const part of t.parts) {
      if (part === 'alert-summary') lines.push(`*Alert:* HAProxy server down - \`${l.severity}\``);
      if (part === 'alert-name') lines.push(`*Alert:* ${l.alertname}`);
      if (part === 'details') {
        lines.push('*Details:*');
        for (const n of sortedPairNames(t.shown)) lines.push(` • *${n}:* \`${l[n]}\``);
      }
      if (part === 'map') {
        const series = sortedPairNames(Object.keys(l).filter((n) => n !== 'alertname' && n !== 'severity'))
          .map((n) => `${n}:${l[n]}`)
          .join(' ');
        lines.push(
          `*Description:* HAProxy server is down`,
          `  VALUE = 0`,
          `  LABELS = map[__name__:haproxy_server_up ${series}]`,
        );
      }
      if (part === 'bold-pairs') for (const n of t.shown) lines.push(`*${n}*: ${l[n]}`);
      if (part === 'free') lines.push(`*${l.job}* — ${l.server} is down on ${l.instance}`);
    }
  }
  if (t.commonList) {
    lines.push('*Labels*:');
    for (const n of sortedPairNames(Object.keys(common))) lines.push(`  • *${n}*: ${common[n]}`);
  }
  const text = t.folded ? lines.join(' ') : lines.join('\n');
  return {
    attachments: [
      {
        title,
        text,
        fallback: t.fallback === 'default' ? `${subject} | http://alertmanager.example.org` : title,
        color: firing > 0 ? 'danger' : 'good',
        fields: t.fields.map((f) => ({
          title: titleCase(f.name),
          value: common[f.name] === undefined ? '' : f.titleCase ? titleCase(common[f.name]) : common[f.name],
        })),
      },
    ],
  };
}

const withRunbook: SlackAlertOptions = {
  labelNames: (a) => (a === ALERTNAME ? ['alertname', ...NAMES] : undefined),
  knownAlert: (a) => a === ALERTNAME,
};

function read(t: Template, w: World, opts: SlackAlertOptions) {
  const event = slackEventFromPayload(render(t, w), {
    kind: 'incoming-webhook',
    channel: 'C0123ALERTS',
    ts: '1732540800.000100',
    botId: 'B0ALERTMGR',
  });
  return parseSlackAlertMessage(event, opts)?.alerts ?? [];
}

const withoutName = (l: Record<string, string>) =>
  Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'alertname'));

describe('any template: never a wrong value', () => {
  it('without any runbook, no label but possibly the alert name is wrong (a title alone may not tell it)', () => {
    fc.assert(
      fc.property(template, world, (t, w) => {
        const alerts = read(t, w, {}).map((a) => ({ ...a, labels: withoutName(a.labels) }));
        expect(
          judgeAlerts(
            alerts,
            w.alerts.map((a) => withoutName(a.labels)),
          ),
        ).not.toMatchObject({ kind: 'wrong' });
      }),
      { numRuns: 1000 },
    );
  });

  it('holds for generated templates, groupings and notifications (runbook loaded)', () => {
    fc.assert(
      fc.property(template, world, (t, w) => {
        const alerts = read(t, w, withRunbook);
        const verdict = judgeAlerts(
          alerts,
          w.alerts.map((a) => a.labels),
        );
        expect(verdict).not.toMatchObject({ kind: 'wrong' });
      }),
      { numRuns: 1000 },
    );
  });
});
