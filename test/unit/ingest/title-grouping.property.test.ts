/**
 * The default Slack title carries label values without names, in an order that depends on the route's group_by,
 * which the bot does not know. Property: for random label sets, random notifications (one alert or several of one
 * group, some resolved) and EVERY group_by subset plus `...`, the parser recovers each label or reports it missing,
 * and never gives a name a value that is not that label's value in every alert of the notification.
 *
 * The world the evidence describes is honoured by the generator: `instance` is `host:port` (Prometheus's target
 * address), `severity` is one of the usual severities and no other label's value looks like either. Values carry no
 * spaces here (a value with spaces is tested by example below: the parser then reports rather than splits).
 */
import fc from 'fast-check';
import { parseAlertmanagerTitle, type TitleOptions } from '../../../src/ingest/parse-alertmanager-title';
import { type RenderAlert, renderDefaultTitle } from '../../support/alertmanager-title';
import { loadFixture, webhookAlerts } from './fixtures';

const NAME_POOL = ['backend', 'cluster', 'instance', 'job', 'server', 'service', 'severity', 'zone', 'Env', '_x'];
const WORDS = ['web', 'web2', 'api', 'haproxy', 'a', 'b', 'db-1', 'x.y', '(x', 'y)', 'w(1)', '(z)', '...', '-'];
const SEVERITIES = ['critical', 'warning', 'info'];
const INSTANCES = ['lb-1:9101', 'lb-2:9101', '127.0.0.1:9101', '[::1]:9100', 'node.example.org:9100'];
const ALERTNAMES = ['HaproxyServerDown', 'NodeDown', 'X'];

function valueOf(name: string): fc.Arbitrary<string> {
  if (name === 'instance') return fc.constantFrom(...INSTANCES);
  if (name === 'severity') return fc.constantFrom(...SEVERITIES);
  return fc.oneof(
    fc.constantFrom(...WORDS),
    fc.stringMatching(/^[a-z0-9_.()-]{1,5}$/).filter((v) => !SEVERITIES.includes(v)),
  );
}

/** Every subset of the names, as group_by lists, plus `...` and one name the alert does not have. */
function everyGroupBy(names: readonly string[]): string[][] {
  const out: string[][] = [['...']];
  for (let mask = 0; mask < 1 << names.length; mask++) out.push(names.filter((_, i) => mask & (1 << i)));
  out.push(['alertname', 'nosuchlabel']);
  return out;
}

interface World {
  alertname: string;
  names: string[];
  /** Label sets of up to four alerts; the first is the one group labels are taken from. */
  alerts: Array<Record<string, string>>;
  resolved: boolean[];
  /** Which instance values the config maps to a host. */
  configured: string[];
}

const world: fc.Arbitrary<World> = fc
  .record({
    alertname: fc.constantFrom(...ALERTNAMES),
    names: fc.subarray(NAME_POOL, { minLength: 0, maxLength: 6 }),
    count: fc.integer({ min: 1, max: 4 }),
    configured: fc.subarray(INSTANCES),
  })
  .chain(({ alertname, names, count, configured }) =>
    fc.record({
      alertname: fc.constant(alertname),
      names: fc.constant(['alertname', ...names]),
      alerts: fc
        .array(fc.record(Object.fromEntries(names.map((n) => [n, valueOf(n)]))), { minLength: count, maxLength: count })
        .map((list) => list.map((l) => ({ alertname, ...(l as Record<string, string>) }))),
      resolved: fc.array(fc.boolean(), { minLength: count, maxLength: count }),
      configured: fc.constant(configured),
    }),
  );

/** The alerts Alertmanager would put in one notification under this group_by: those sharing the first's group key. */
function notification(w: World, groupBy: string[]): RenderAlert[] {
  const all = groupBy.includes('...');
  const key = (l: Record<string, string>) =>
    JSON.stringify(w.names.filter((n) => all || groupBy.includes(n)).map((n) => l[n]));
  const seen = new Set<string>();
  return w.alerts
    .map((labels, i) => ({ labels, status: w.resolved[i] && i > 0 ? ('resolved' as const) : ('firing' as const) }))
    .filter((a) => key(a.labels) === key(w.alerts[0]))
    .filter((a) => {
      const id = JSON.stringify(a.labels);
      if (seen.has(id)) return false; // one alert per label set, as Alertmanager holds them
      seen.add(id);
      return true;
    });
}

function check(w: World, groupBy: string[], opts: TitleOptions): void {
  const alerts = notification(w, groupBy);
  const title = renderDefaultTitle(alerts, groupBy);
  const parsed = parseAlertmanagerTitle(title, opts);
  const where = `title ${JSON.stringify(title)} group_by ${JSON.stringify(groupBy)}`;
  if (!parsed) throw new Error(`not parsed: ${where}`);
  if (parsed.alertname !== w.alertname) throw new Error(`alertname ${parsed.alertname}: ${where}`);
  for (const [name, value] of Object.entries(parsed.labels)) {
    for (const a of alerts) {
      if (a.labels[name] !== value)
        throw new Error(
          `${name}=${JSON.stringify(value)} but the alert has ${JSON.stringify(a.labels[name])}: ${where}`,
        );
    }
  }
  for (const name of w.names) {
    if (parsed.labels[name] === undefined && !parsed.missingLabels.includes(name))
      throw new Error(`${name} neither recovered nor reported missing: ${where}`);
  }
}

const optionsFor = (w: World, extra: Partial<TitleOptions> = {}): TitleOptions => ({
  labelNames: (a) => (a === w.alertname ? w.names : undefined),
  knownAlert: (a) => a === w.alertname,
  hostMatch: { instance: w.configured },
  ...extra,
});

describe('default title → labels, as a property over every grouping', () => {
  it('never assigns a value to the wrong name (binding labels, hosts configured)', () => {
    fc.assert(
      fc.property(world, (w) => {
        for (const groupBy of everyGroupBy(w.names)) check(w, groupBy, optionsFor(w));
      }),
      { numRuns: 60 },
    );
  });

  it('never assigns a value to the wrong name (label names learned, no binding, no hosts)', () => {
    fc.assert(
      fc.property(world, (w) => {
        const opts: TitleOptions = {
          learnedLabelNames: (a) => (a === w.alertname ? [w.names] : []),
          knownAlert: (a) => a === w.alertname,
        };
        for (const groupBy of everyGroupBy(w.names)) check(w, groupBy, opts);
      }),
      { numRuns: 40 },
    );
  });

  it('never assigns a value to the wrong name when the binding hints the true group_by', () => {
    fc.assert(
      fc.property(world, (w) => {
        for (const groupBy of everyGroupBy(w.names)) check(w, groupBy, optionsFor(w, { groupBy: () => groupBy }));
      }),
      { numRuns: 40 },
    );
  });
});

describe('default title → labels: what is recovered for the HAProxy alert', () => {
  const names = ['alertname', 'backend', 'instance', 'job', 'server', 'severity'];
  const web2 = {
    alertname: 'HaproxyServerDown',
    backend: 'web',
    instance: '127.0.0.1:9101',
    job: 'haproxy',
    server: 'web2',
    severity: 'critical',
  };
  const opts: TitleOptions = {
    labelNames: () => names,
    knownAlert: (a) => a === 'HaproxyServerDown',
    hostMatch: { instance: ['127.0.0.1:9101', 'lb-1:9101'] },
  };
  const title = (groupBy: string[], alerts: RenderAlert[] = [{ labels: web2, status: 'firing' }]) =>
    renderDefaultTitle(alerts, groupBy);

  it.each<[string[], string[]]>([
    [['alertname'], []],
    [['alertname', 'instance'], []],
    [['...'], []],
    [['instance'], []],
    [['alertname', 'backend', 'instance'], []],
    [['alertname', 'cluster', 'service'], []], // names the alert lacks are not group labels
    [[], []],
    // Title alone cannot tell whether `web2` or `haproxy` is the job: both read as well; reported, not guessed.
    [
      ['backend', 'server'],
      ['job', 'server'],
    ],
  ])('group_by %j: every label but %j', (groupBy, missing) => {
    const parsed = parseAlertmanagerTitle(title(groupBy), opts);
    expect(parsed?.missingLabels.sort()).toEqual(missing);
    for (const [k, v] of Object.entries(parsed?.labels ?? {})) expect(v).toBe(web2[k as keyof typeof web2]);
  });

  it('a grouped notification of three servers: the differing server is missing, the rest read', () => {
    const alerts = ['web1', 'web2', 'web3'].map((server) => ({
      labels: { ...web2, server },
      status: 'firing' as const,
    }));
    const parsed = parseAlertmanagerTitle(title(['alertname'], alerts), opts);
    expect(parsed).toMatchObject({
      groupSize: 3,
      labels: { alertname: 'HaproxyServerDown', backend: 'web', instance: '127.0.0.1:9101', severity: 'critical' },
    });
    expect(parsed?.labels.server).toBeUndefined();
    expect(parsed?.missingLabels.sort()).toEqual(['job', 'server']); // haproxy could be either
    const learned = parseAlertmanagerTitle(title(['alertname'], alerts), {
      ...opts,
      knownValues: (_a, l) => (l === 'job' ? new Set(['haproxy']) : undefined),
    });
    expect(learned?.missingLabels).toEqual(['server']);
    expect(learned?.labels.job).toBe('haproxy');
  });

  it('a value with spaces is read when only one reading fits, reported when several do', () => {
    const spaced = { ...web2, server: 'web 2' };
    expect(
      parseAlertmanagerTitle(title(['alertname'], [{ labels: spaced, status: 'firing' }]), opts)?.labels,
    ).toMatchObject({ instance: '127.0.0.1:9101', backend: 'web', severity: 'critical' });
    const parsed = parseAlertmanagerTitle(title(['alertname'], [{ labels: spaced, status: 'firing' }]), opts);
    expect(parsed?.missingLabels.sort()).toEqual(['job', 'server']);
  });

  it('renders exactly what the real Alertmanager sent (captured fixtures)', () => {
    const scenarios = [
      ['single', ['alertname']],
      ['grouped', ['alertname']],
      ['by-instance', ['alertname', 'instance']],
      ['metachar', ['alertname']],
      ['all-labels', ['...']],
      ['grouped-three', ['alertname']],
      ['by-server', ['backend', 'server']],
    ] as const;
    for (const [scenario, groupBy] of scenarios) {
      for (const status of ['firing', 'resolved'] as const) {
        const alerts = webhookAlerts(scenario, status).map((a) => ({
          labels: a.labels,
          status: a.status as 'firing' | 'resolved',
        }));
        const sent = loadFixture<{ attachments: Array<{ title: string }> }>(
          'alertmanager',
          `${scenario}.slack-default.${status}.json`,
        ).attachments[0].title;
        expect(renderDefaultTitle(alerts, [...groupBy])).toBe(sent);
      }
    }
  });
});
