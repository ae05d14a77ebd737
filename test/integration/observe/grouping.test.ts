/**
 * Issue #11 against the real pipeline: Prometheus fires HaproxyServerDown for web2 and for api1..api3 (all of
 * backend api down) from the stack's haproxy (test/support/prom-stack.sh); the stack's Alertmanager is given routes
 * with different group_by (`[alertname]`, `[alertname, backend]`, `['...']`, `[backend, server]`), each posting the
 * DEFAULT Slack template to a relay here, and a webhook. What Alertmanager posts is delivered to the bot verbatim, as
 * Slack would deliver it. The incident must name the right host, backend and server every time, or say what is
 * missing; with `alertmanager.url` a grouped notification becomes one incident per alert; the webhook and the message
 * meet in one incident.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import axios from 'axios';
import { HostSchema } from '../../../src/config/schema';
import type { Incident } from '../../../src/incident/types';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { unusedKeyFile } from '../../support/fakes';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';
import {
  type PromStack,
  promStackAvailability,
  startPromStack,
  stopPromStack,
  waitFor,
} from '../../support/prom-stack';
import { type SlackPayload, slackEventFromPayload } from '../../support/slack-envelope';
import type { SlackMessage } from '../../support/slack-standin';

const availability = promStackAvailability();
if (!availability.available)
  console.log(`grouping tests: ${availability.required ? 'FAIL' : 'skipped'}: ${availability.reason}`);
const describeStack = availability.available || availability.required ? describe : describe.skip;
const EXPORTER = '127.0.0.1:19101';

jest.setTimeout(120_000);

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

const ROUTES: Record<string, string[]> = {
  'by-name': ['alertname'],
  'by-backend': ['alertname', 'backend'],
  'by-all': ['...'],
  'by-server': ['backend', 'server'],
};
const DOWN = ['web2', 'api1', 'api2', 'api3'];
const backendOf = (server: string) => server.replace(/\d+$/, '');

interface Posted {
  route: string;
  body: SlackPayload & { alerts?: unknown[]; status?: string };
}

function alertmanagerConfig(relay: string): string {
  const yamlList = (g: string[]) => `[${g.map((n) => (n === '...' ? "'...'" : n)).join(', ')}]`;
  const routes = Object.entries(ROUTES)
    .map(([name, groupBy]) => `    - receiver: ${name}\n      group_by: ${yamlList(groupBy)}\n      continue: true`)
    .join('\n');
  const receivers = Object.keys(ROUTES)
    .map(
      (name) =>
        `  - name: ${name}\n    slack_configs:\n      - api_url: '${relay}/${name}'\n        channel: '#alerts'\n        send_resolved: true`,
    )
    .join('\n');
  return `route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
${routes}
    - receiver: webhook
      group_by: ['...']
receivers:
  - name: blackhole
${receivers}
  - name: webhook
    webhook_configs:
      - url: '${relay}/webhook'
        send_resolved: true
`;
}

describeStack('default Slack template under real route groupings', () => {
  let stack: PromStack;
  let relay: Server;
  let original: string;
  const posted: Posted[] = [];
  const titles = (route: string) =>
    posted.filter((p) => p.route === route).map((p) => String(p.body.attachments?.[0]?.title ?? ''));

  beforeAll(async () => {
    if (!availability.available) throw new Error(`RBP_REQUIRE_HOSTS=1 but ${availability.reason}`);
    // A stack left running from before backend api existed would lack its alerts: start it afresh.
    await stopPromStack();
    stack = await startPromStack();
    relay = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posted.push({
          route: (req.url ?? '').slice(1),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Posted['body'],
        });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); // what Slack's incoming webhooks answer
      });
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const file = join(stack.dir, 'alertmanager.yml');
    original = readFileSync(file, 'utf8');
    writeFileSync(file, alertmanagerConfig(relayUrl));
    await axios.post(`${stack.alertmanagerUrl}/-/reload`);
    // Every route has notified: four alerts firing, by each grouping.
    await waitFor(
      'notifications of every route',
      async () => {
        const ok =
          titles('by-name').some((t) => t.startsWith('[FIRING:4]')) &&
          titles('by-backend').length >= 2 &&
          titles('by-all').length >= 4 &&
          titles('by-server').length >= 4;
        const webhook = posted.filter((p) => p.route === 'webhook').length >= 4;
        return ok && webhook ? true : undefined;
      },
      60_000,
    );
  });

  afterAll(async () => {
    if (!availability.available) return;
    if (original) {
      writeFileSync(join(stack.dir, 'alertmanager.yml'), original);
      await axios.post(`${stack.alertmanagerUrl}/-/reload`).catch(() => undefined);
    }
    // Alertmanager keeps its connections to the relay alive: close them, or close() waits for its idle timeout.
    relay?.closeAllConnections();
    await new Promise((r) => relay?.close(r));
    await stopPromStack();
  });

  /** Delivers what Alertmanager posted to Slack as the message event Slack sends the bot; returns the message ts. */
  async function deliver(h: Harness, body: SlackPayload): Promise<string> {
    const event = slackEventFromPayload(body, {
      kind: 'incoming-webhook',
      channel: CHANNEL,
      ts: '1.000100',
      botId: 'B0ALERTMGR',
    });
    const { ts: _ts, channel: _c, event_ts: _e, ...fields } = event as SlackMessage & { event_ts?: string };
    const res = await h.slack.postAlertMessage(CHANNEL, fields);
    if (res.status !== 200) throw new Error(`the bot answered ${res.status}`);
    return res.ts;
  }

  function firing(route: string, predicate: (title: string) => boolean = () => true): SlackPayload[] {
    const seen = new Set<string>();
    return posted
      .filter((p) => p.route === route)
      .map((p) => p.body)
      .filter((b) => {
        const t = String(b.attachments?.[0]?.title ?? '');
        if (!t.startsWith('[FIRING') || !predicate(t) || seen.has(t)) return false;
        seen.add(t);
        return true;
      });
  }

  async function incidentsOf(h: Harness, count: number): Promise<Incident[]> {
    return waitFor(`${count} incident(s)`, async () => {
      const list = await h.pilot.deps.store.listOpen();
      return list.length >= count && list.every((i) => i.messageTs) ? list : undefined;
    });
  }

  function expectRight(incident: Incident): void {
    // A label is either right or reported missing, never wrong; host and backend are always right here.
    expect(incident.hostName).toBe('lb-stack');
    const { labels, missingLabels } = incident.alert;
    expect(labels.instance).toBe(EXPORTER);
    if (labels.server !== undefined) expect(DOWN).toContain(labels.server);
    else expect(missingLabels).toContain('server');
    if (labels.server !== undefined && labels.backend !== undefined)
      expect(labels.backend).toBe(backendOf(labels.server));
  }

  it('Alertmanager rendered the default title under each grouping as expected', () => {
    expect(titles('by-name')).toContain(`[FIRING:4] HaproxyServerDown (${EXPORTER} haproxy critical)`);
    expect(titles('by-backend')).toEqual(
      expect.arrayContaining([
        `[FIRING:3] HaproxyServerDown api (${EXPORTER} haproxy critical)`,
        `[FIRING:1] HaproxyServerDown web (${EXPORTER} haproxy web2 critical)`,
      ]),
    );
    expect(titles('by-all')).toContain(`[FIRING:1] HaproxyServerDown web ${EXPORTER} haproxy web2 critical `);
    expect(titles('by-server')).toContain(`[FIRING:1] web web2 (HaproxyServerDown ${EXPORTER} haproxy critical)`);
  });

  it.each([
    ['by-all', ["'...'"]],
    ['by-backend', ['alertname, backend']],
  ])(
    'without alertmanager.url, single notifications under %s: every label right, same fingerprint as Alertmanager',
    async (route) => {
      const h = await startHarness({ hosts: [lb] });
      try {
        const single = firing(route, (t) => t.startsWith('[FIRING:1]'));
        expect(single.length).toBeGreaterThanOrEqual(1);
        for (const body of single) await deliver(h, body);
        const incidents = await incidentsOf(h, single.length);
        const held = (await axios.get(`${stack.alertmanagerUrl}/api/v2/alerts`)).data as Array<{
          labels: Record<string, string>;
          fingerprint: string;
        }>;
        for (const i of incidents) {
          expectRight(i);
          expect(i.alert.missingLabels).toEqual([]);
          expect(held.map((a) => a.fingerprint)).toContain(i.fingerprint);
          expect(i.fingerprint).toBe(labelsFingerprint(i.alert.labels));
        }
      } finally {
        await h.stop();
      }
    },
  );

  it('without alertmanager.url, a grouped notification of three alerts is one incident that says what is missing', async () => {
    const h = await startHarness({ hosts: [lb] });
    try {
      const [grouped] = firing('by-backend', (t) => t.startsWith('[FIRING:3]'));
      const ts = await deliver(h, grouped);
      const [incident] = await incidentsOf(h, 1);
      expectRight(incident);
      // `api` could be the backend, the job or the server as far as the title tells: reported, not guessed.
      expect(incident.alert.labels).toMatchObject({
        alertname: 'HaproxyServerDown',
        instance: EXPORTER,
        severity: 'critical',
      });
      expect(incident.alert.missingLabels).toContain('server');
      if (incident.alert.labels.backend !== undefined) expect(incident.alert.labels.backend).toBe('api');
      const msg = h.slack.message(CHANNEL, incident.messageTs as string);
      expect(JSON.stringify(msg?.blocks)).toContain('3 alerts in this notification, labels missing:');
      expect(incident.threadTs).toBe(ts);
    } finally {
      await h.stop();
    }
  });

  it.each(['by-backend', 'by-name', 'by-server'])(
    'with alertmanager.url, %s: one incident per alert, each in the thread, with Alertmanager’s fingerprint',
    async (route) => {
      const h = await startHarness({
        hosts: [lb],
        config: { alertmanager: { url: stack.alertmanagerUrl, timeoutMs: 2000 } },
      });
      try {
        const bodies = route === 'by-backend' ? firing(route, (t) => t.startsWith('[FIRING:3]')) : firing(route);
        const expected = route === 'by-backend' ? 3 : 4;
        const threads: string[] = [];
        for (const body of bodies) threads.push(await deliver(h, body));
        const incidents = await incidentsOf(h, expected);
        expect(incidents).toHaveLength(expected);
        const held = (await axios.get(`${stack.alertmanagerUrl}/api/v2/alerts`)).data as Array<{
          labels: Record<string, string>;
          fingerprint: string;
          startsAt: string;
          generatorURL: string;
        }>;
        for (const i of incidents) {
          expectRight(i);
          expect(i.alert.missingLabels).toEqual([]);
          const truth = held.find((a) => a.fingerprint === i.fingerprint);
          expect(truth).toBeDefined();
          expect(i.alert.labels).toEqual(truth?.labels);
          expect(i.alert.startsAt).toBe(truth?.startsAt);
          expect(i.alert.generatorURL).toBe(truth?.generatorURL);
          expect(threads).toContain(i.threadTs);
        }
        expect(new Set(incidents.map((i) => i.alert.labels.server))).toEqual(
          new Set(route === 'by-backend' ? ['api1', 'api2', 'api3'] : DOWN),
        );
      } finally {
        await h.stop();
      }
    },
  );

  it.each([
    ['with', true],
    ['without', false],
  ])('%s alertmanager.url, the webhook and the Slack message meet in one incident', async (_name, withUrl) => {
    const h = await startHarness({
      hosts: [lb],
      config: { alertmanager: withUrl ? { url: stack.alertmanagerUrl, timeoutMs: 2000 } : {} },
    });
    try {
      // given the webhook's notification of web2 (as Alertmanager posted it), then the Slack message of its grouping
      const hook = posted.find(
        (p) =>
          p.route === 'webhook' && JSON.stringify(p.body).includes('"server":"web2"') && p.body.status === 'firing',
      );
      expect(hook).toBeDefined();
      expect((await h.webhook(hook?.body)).status).toBe(202);
      const [first] = await incidentsOf(h, 1);
      const body = withUrl ? firing('by-name')[0] : firing('by-all', (t) => t.includes(' web2 '))[0];
      await deliver(h, body);
      // then the web2 incident is the same one (a repeat), not a second incident
      const expected = withUrl ? 4 : 1;
      const incidents = await incidentsOf(h, expected);
      // nothing more arrives: a marker alert sent after the message, through the same listener, has its incident
      await h.alertBarrier();
      expect((await h.pilot.deps.store.listOpen()).filter((i) => !h.isMarker(i))).toHaveLength(expected);
      const web2 = incidents.filter((i) => i.alert.labels.server === 'web2');
      expect(web2).toHaveLength(1);
      expect(web2[0].id).toBe(first.id);
      expect((await h.pilot.deps.store.timeline(first.id)).map((e) => e.type)).toContain('alert.repeated');
    } finally {
      await h.stop();
    }
  });

  // Last: it brings backend api back up, so Alertmanager resolves its three alerts.
  it('a resolved notification naming the last of its group closes the incidents Alertmanager no longer holds', async () => {
    const h = await startHarness({
      hosts: [lb],
      config: { alertmanager: { url: stack.alertmanagerUrl, timeoutMs: 2000 } },
    });
    const listeners: Server[] = [];
    try {
      // given incidents for api1..api3 (one grouped message) and web2
      for (const body of [
        ...firing('by-backend', (t) => t.startsWith('[FIRING:3]')),
        ...firing('by-backend', (t) => t.includes(' web ')),
      ])
        await deliver(h, body);
      const open = await incidentsOf(h, 4);
      expect(open).toHaveLength(4);
      // when backend api's servers answer again one by one, so Alertmanager notifies api1's and api2's resolution
      // inside `[FIRING:N]` messages and drops them from the group: its `[RESOLVED]` message names api3 alone
      const apiTitles = () => titles('by-backend').filter((t) => / HaproxyServerDown api /.test(t));
      for (const [i, port] of [29084, 29085, 29086].entries()) {
        const srv = createServer((_req, res) => res.end('ok'));
        await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
        listeners.push(srv);
        const next = i < 2 ? `[FIRING:${2 - i}] HaproxyServerDown api` : '[RESOLVED] HaproxyServerDown api';
        await waitFor(`"${next}" from Alertmanager`, async () => apiTitles().find((t) => t.startsWith(next)), 60_000);
      }
      const resolved = posted.find(
        (p) =>
          p.route === 'by-backend' &&
          String(p.body.attachments?.[0]?.title ?? '').startsWith('[RESOLVED] HaproxyServerDown api'),
      )?.body as SlackPayload;
      expect(resolved.attachments?.[0]?.title).toContain(' api3 ');
      await deliver(h, resolved);
      // then the three api incidents are resolved, web2's is still open
      const still = await waitFor('three incidents resolved', async () => {
        const list = await h.pilot.deps.store.listOpen();
        return list.length === 1 ? list : undefined;
      });
      expect(still.map((i) => i.alert.labels.server)).toEqual(['web2']);
      for (const i of open.filter((x) => x.alert.labels.backend === 'api'))
        expect((await h.pilot.deps.store.get(i.id))?.status).toBe('resolved');
    } finally {
      for (const srv of listeners) {
        srv.closeAllConnections();
        await new Promise((r) => srv.close(r));
      }
      await h.stop();
    }
  });
});
