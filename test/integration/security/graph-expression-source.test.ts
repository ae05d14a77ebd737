/**
 * Issue #19 §2 through the real bot: a bot message in the channel whose Graph link carries `g0.expr=<any PromQL>`
 * made the bot query Prometheus with its credentials and post the picture. An expression is now taken only from the
 * webhook, Alertmanager's API, or a sender listed in `slack.alertSenders`; otherwise only the binding's `query:`.
 * The runbook here has no `query:`, so the Graph link is the only expression on offer.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL, type Harness, slackFixture, startHarness } from '../../support/pilot-harness';
import type { SlackMessage } from '../../support/slack-standin';

const REPO = join(__dirname, '..', '..', '..');
const STOLEN = 'secret_metric{team="payments"}';

/** A Prometheus that records every expression asked and answers with one empty matrix. */
function startPrometheus(): Promise<{ server: Server; url: string; queries: string[] }> {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const params = new URLSearchParams(req.method === 'POST' ? body : (req.url ?? '').split('?')[1]);
      queries.push(params.get('query') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries }),
    ),
  );
}

/** The captured community-template message from `botId`, its Graph link's expression replaced by STOLEN. */
function alertFrom(botId: string): Partial<SlackMessage> {
  const text = JSON.stringify(slackFixture('all-labels.slack-community.firing.event.json')).replaceAll(
    'g0.expr=haproxy_server_up+%3D%3D+0',
    `g0.expr=${encodeURIComponent(STOLEN)}`,
  );
  const { ts: _ts, channel: _c, event_ts: _e, ...fields } = JSON.parse(text) as SlackMessage & { event_ts?: string };
  return { ...fields, bot_id: botId };
}

describe('security: whose Graph link is queried (#19 §2)', () => {
  let prom: Awaited<ReturnType<typeof startPrometheus>>;
  let runbooks: string;
  let h: Harness | undefined;

  beforeAll(async () => {
    prom = await startPrometheus();
    // The shipped runbook, bound without `query:`.
    runbooks = mkdtempSync(join(tmpdir(), 'rbp-graph-source-'));
    copyFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.md'), join(runbooks, 'HaproxyServerDown.md'));
    const binding = readFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.yml'), 'utf8').replace(/^query:.*$/m, '');
    writeFileSync(join(runbooks, 'HaproxyServerDown.yml'), binding);
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    prom.queries.length = 0;
  });
  afterAll(() => {
    prom.server.close();
    rmSync(runbooks, { recursive: true, force: true });
  });

  /** Posts the alert and waits until the thread says what became of the graph (a picture or "No graph"). */
  async function graphOutcome(harness: Harness, botId: string): Promise<string> {
    const posted = await harness.slack.postAlertMessage(CHANNEL, alertFrom(botId));
    expect(posted.status).toBe(200);
    await harness.incidentMessage(posted.ts);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const thread = harness.threadText(posted.ts);
      if (/No graph|over the last|returned no data/.test(thread)) return thread;
      if (Date.now() > deadline) throw new Error(`no graph outcome in the thread:\n${thread}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('alertSenders unset: another bot’s Graph link is not queried; the thread says there is no query', async () => {
    h = await startHarness({ config: { runbooks, prometheus: { url: prom.url } } });
    const thread = await graphOutcome(h, 'B0OTHERBOT');
    expect(thread).toMatch(/No graph/);
    expect(prom.queries).toEqual([]);
  });

  it('a sender listed in slack.alertSenders: its Graph link is queried', async () => {
    h = await startHarness({
      config: {
        runbooks,
        prometheus: { url: prom.url },
        slack: {
          channels: [CHANNEL],
          stillFiringIntervalSec: 600,
          postsPerSecond: 50,
          postBurst: 50,
          alertSenders: ['B0ALERTMGR'],
        },
      },
    });
    await graphOutcome(h, 'B0ALERTMGR');
    expect(prom.queries).toContain(STOLEN);
  });
});
