/**
 * Against the real services: Debian's Prometheus, Alertmanager and haproxy_exporter scraping a real haproxy
 * (test/support/prom-stack.sh). The HaproxyServerDown rule really fires, the silence really appears in
 * Alertmanager and really expires, the graph is drawn from what Prometheus returned.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { PilotError } from '../../../src/errors';
import { buildAlertGraph } from '../../../src/observe/alert-graph';
import { AlertmanagerClient } from '../../../src/observe/alertmanager-client';
import { PrometheusClient } from '../../../src/observe/prometheus-client';
import { summariseServerUp } from '../../../src/observe/server-up-summary';
import { silenceComment, silenceWindow } from '../../../src/observe/silence-window';
import {
  freeze,
  haproxyCommand,
  type PromStack,
  promStackAvailability,
  startPromStack,
  stopPromStack,
  waitFor,
} from '../../support/prom-stack';

const availability = promStackAvailability();
if (!availability.available) {
  console.log(`observe integration tests: ${availability.required ? 'FAIL' : 'skipped'}: ${availability.reason}`);
}
const describeStack = availability.available || availability.required ? describe : describe.skip;
const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
jest.setTimeout(45_000);

describeStack('observe against real Prometheus and Alertmanager', () => {
  let stack: PromStack;
  let am: AlertmanagerClient;
  let prom: PrometheusClient;
  const stackStart = new Date();
  const web2 = { alertname: 'HaproxyServerDown', backend: 'web', server: 'web2' };

  beforeAll(async () => {
    if (!availability.available) throw new Error(`RBP_REQUIRE_HOSTS=1 but ${availability.reason}`);
    stack = await startPromStack();
    am = new AlertmanagerClient({ url: stack.alertmanagerUrl, timeoutMs: 2000 });
    prom = new PrometheusClient({ url: stack.prometheusUrl, timeoutMs: 2000 });
  });

  afterAll(async () => {
    if (availability.available) await stopPromStack();
  });

  it('the HaproxyServerDown rule fires for web2 and Alertmanager holds it', async () => {
    const state = await waitFor('HaproxyServerDown for web2 in Alertmanager', async () => {
      const s = await am.getAlertState(web2);
      return s.firing ? s : undefined;
    });
    expect(state.state).toBe('active');
    expect(state.labels).toEqual({ ...web2, instance: '127.0.0.1:19101', job: 'haproxy', severity: 'critical' });
    expect(state.generatorURL).toContain('g0.expr=haproxy_server_up');
    await expect(am.isAlertActive({ ...web2, server: 'web1' })).resolves.toBe(false);
    // Quoting holds against the real parser: a value with a quote, a backslash and a newline is just a value.
    await expect(am.isAlertActive({ ...web2, server: 'we"b\\2\n' })).resolves.toBe(false);
  });

  it('a silence with exact matchers appears, mutes the alert, and expires', async () => {
    const { labels } = await am.getAlertState(web2);
    if (!labels) throw new Error('the alert is not in Alertmanager');
    const { startsAt, endsAt } = silenceWindow('30m');
    const comment = silenceComment({
      incidentId: 7,
      incidentLink: 'https://slack.example/archives/C0123ALERTS/p1700000000000100',
    });
    const { silenceId } = await am.createSilence({ labels, startsAt, endsAt, createdBy: 'Alice Example', comment });

    // Read it back through the raw API too: what Alertmanager stored, not what our client says it stored.
    const raw = await axios.get(`${stack.alertmanagerUrl}/api/v2/silence/${silenceId}`);
    expect(raw.data).toMatchObject({ id: silenceId, status: { state: 'active' }, createdBy: 'Alice Example', comment });
    expect(raw.data.matchers).toEqual(
      Object.keys(labels)
        .sort()
        .map((name) => expect.objectContaining({ name, value: labels[name], isRegex: false, isEqual: true })),
    );
    expect(Date.parse(raw.data.endsAt) - Date.parse(raw.data.startsAt)).toBeCloseTo(30 * 60_000, -3);

    const muted = await am.getAlertState(labels);
    expect(muted).toMatchObject({ firing: true, state: 'suppressed', silencedBy: [silenceId] });

    await expect(am.expireSilence(silenceId)).resolves.toBe('expired');
    await expect(am.getSilence(silenceId)).resolves.toMatchObject({ id: silenceId, state: 'expired' });
    await expect(am.expireSilence(silenceId)).resolves.toBe('expired'); // a second click is harmless
    const unmuted = await waitFor(
      'the alert to be active again',
      async () => {
        const s = await am.getAlertState(labels);
        return s.state === 'active' ? s : undefined;
      },
      5000,
    );
    expect(unmuted.silencedBy).toEqual([]);
  });

  it('the graph is drawn from Prometheus’ data: web2 down, web1 flapping, 1 of 2 up', async () => {
    const web1Up = async (): Promise<string | undefined> => {
      const res = await axios.get(`${stack.prometheusUrl}/api/v1/query`, {
        params: { query: 'haproxy_server_up{backend="web",server="web1"}' },
      });
      return (res.data.data.result as Array<{ value: [number, string] }>)[0]?.value[1];
    };
    // The time of Prometheus's newest sample of web1 when it has value `v` (undefined when the newest is the other).
    const web1SampleAt = async (v: 0 | 1): Promise<number | undefined> => {
      const res = await axios.get(`${stack.prometheusUrl}/api/v1/query`, {
        params: { query: `timestamp(haproxy_server_up{backend="web",server="web1"} == ${v})` },
      });
      const value = (res.data.data.result as Array<{ value: [number, string] }>)[0]?.value[1];
      return value === undefined ? undefined : Number(value);
    };
    // Until Prometheus has scraped web1 at `v` twice: the state held a whole scrape interval, so the graph's 1 s steps
    // cannot miss it.
    const scrapedTwice = async (v: 0 | 1, what: string): Promise<void> => {
      const first = await waitFor(`Prometheus to scrape web1 ${what}`, () => web1SampleAt(v), 10_000);
      await waitFor(
        `Prometheus to scrape web1 ${what} again`,
        async () => ((await web1SampleAt(v)) ?? 0) > first || undefined,
        10_000,
      );
    };
    // Prometheus scrapes web1 up twice before it flaps: once was not enough on a loaded machine, where two scrapes can
    // fall within one graph step, so the first point of web1 in the graph was already down and its first trip to
    // maintenance no transition (2 counted, not 3).
    await waitFor('Prometheus to scrape web1', async () => ((await web1Up()) === '1' ? true : undefined), 20_000);
    await scrapedTwice(1, 'up');
    // Make web1 flap: three short trips to maintenance, each seen by two scrapes down, then two up.
    for (let i = 0; i < 3; i++) {
      expect(await haproxyCommand(stack.haproxySocket, 'set server web/web1 state maint')).toBe('\n');
      await scrapedTwice(0, 'down');
      await haproxyCommand(stack.haproxySocket, 'set server web/web1 state ready');
      await scrapedTwice(1, 'up');
    }
    // Prometheus's newest sample must show web1 back up before the graph is drawn (a late scrape would say 0 of 2).
    await waitFor('Prometheus to see web1 up again', async () => ((await web1Up()) === '1' ? true : undefined), 10_000);
    const alert = await am.getAlertState(web2);
    const now = new Date();
    // A whole number of steps (1 s), so the range's last point is evaluated at `now` itself, after the sample seen
    // above: with a fraction over, it fell up to a second earlier, before that sample, and read web1 down (0 of 2).
    const windowMs = Math.ceil((now.getTime() - stackStart.getTime() + 5000) / 1000) * 1000;
    const graph = await buildAlertGraph(
      { prometheus: prom, now: () => now },
      {
        alert: {
          alertname: 'HaproxyServerDown',
          labels: alert.labels ?? web2,
          startsAt: alert.startsAt,
          generatorURL: alert.generatorURL,
        },
        queryTemplates: ['haproxy_server_up{backend="{backend}"}'],
        windowMs,
        stepSec: 1,
      },
    );

    // The series are exactly what Prometheus answers to the same query.
    const direct = await axios.get(`${stack.prometheusUrl}/api/v1/query_range`, {
      params: {
        query: 'haproxy_server_up{backend="web"}',
        start: graph.start.getTime() / 1000,
        end: graph.end.getTime() / 1000,
        step: 1,
      },
    });
    const directSeries = (
      direct.data.data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>
    ).map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]),
    }));
    expect(graph.exprs).toEqual(['haproxy_server_up{backend="web"}']);
    expect(graph.series).toEqual(directSeries);
    expect(graph.series.map((s) => s.labels.server).sort()).toEqual(['web1', 'web2']);

    expect(graph.summary).toMatchObject({
      isDown: true,
      serversUp: 1,
      serversTotal: 2,
      target: expect.objectContaining({ server: 'web2' }),
    });
    expect(graph.summary?.downSince).toBeInstanceOf(Date);
    expect(graph.text).toMatch(/^web2 is down since \d\d:\d\d UTC .* 1 of 2 servers of backend web is up\.$/);
    const web1 = summariseServerUp(graph.series, { labels: { ...web2, server: 'web1' } });
    expect(web1).toMatchObject({ isDown: false, downTransitions: 3, flapping: true });

    expect([...graph.png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'observe-haproxy-server-up.png'), graph.png);
    writeFileSync(join(ARTIFACTS, 'observe-haproxy-server-up.txt'), `${graph.text}\n`);
  });

  it('a slow Alertmanager gives a clear EXTERNAL_UNAVAILABLE, and Prometheus keeps answering', async () => {
    const pid = Number(readFileSync(join(stack.dir, 'alertmanager.pid'), 'utf8'));
    const impatient = new AlertmanagerClient({ url: stack.alertmanagerUrl, timeoutMs: 300 });
    await freeze(pid);
    try {
      const err = await impatient.isAlertActive(web2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PilotError);
      expect(err).toMatchObject({
        code: 'EXTERNAL_UNAVAILABLE',
        message: `Alertmanager at ${stack.alertmanagerUrl} did not answer (no answer within 300 ms)`,
        hint: expect.stringContaining('alertmanager.url'),
      });
      const series = await prom.queryRange(
        'haproxy_server_up{backend="web"}',
        new Date(Date.now() - 10_000),
        new Date(),
        1,
      );
      expect(series.length).toBe(2);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await expect(am.isAlertActive(web2)).resolves.toBe(true);
  });

  it('a stopped Prometheus gives a clear EXTERNAL_UNAVAILABLE', async () => {
    // A port of the stack's range where nothing listens stands for Prometheus being down.
    const down = new PrometheusClient({ url: 'http://127.0.0.1:29089', timeoutMs: 1000 });
    await expect(down.queryRange('up', new Date(Date.now() - 60_000), new Date(), 15)).rejects.toMatchObject({
      code: 'EXTERNAL_UNAVAILABLE',
      message: 'Prometheus at http://127.0.0.1:29089 did not answer (connection refused)',
    });
  });
});
