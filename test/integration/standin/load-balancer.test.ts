/**
 * The stand-in in front of several replicas (issue #13 §3), checked against plain HTTP servers that record what they
 * receive: deliveries are spread round-robin, a replica that refuses connections is skipped, and a failed event is
 * delivered again as Slack does (same body and event_id, X-Slack-Retry-Num 1, 2, 3 with the reason, no retry after
 * X-Slack-No-Retry), while clicks and commands are never retried.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../support/fakes';
import { SlackStandIn } from '../../support/slack-standin';

const CHANNEL = 'C0123ALERTS';
const SECRET = 'lb-test-signing-secret-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A replica stand-in: records each request and answers with `answer(n)` (the n-th request, from 0). */
async function backend(
  answer: (n: number, res: ServerResponse) => void = (_n, res) => res.writeHead(200).end(),
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(received.length - 1, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, received, server };
}

const close = (s: Server) =>
  new Promise<void>((r) => {
    s.close(() => r());
    s.closeAllConnections();
  });

describe('the stand-in as Slack in front of a load balancer', () => {
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
  const servers: Server[] = [];
  beforeAll(async () => {
    await slack.start();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await close(s);
  });
  afterAll(() => slack.stop());

  it('spreads deliveries round-robin and skips a replica that refuses connections', async () => {
    const a = await backend();
    const b = await backend();
    servers.push(a.server, b.server);
    const down = `http://127.0.0.1:${await freePort()}/slack/events`;
    slack.configureBot({ url: a.url, urls: [a.url, down, b.url], signingSecret: SECRET });

    const urls: Array<string | undefined> = [];
    for (let i = 0; i < 6; i++)
      urls.push((await slack.sendEvent({ type: 'message', channel: CHANNEL, text: `${i}` })).url);

    // the stopped one is never the answer; the others take turns and each took its share
    expect(urls).not.toContain(down);
    expect(a.received.length + b.received.length).toBe(6);
    expect(a.received.length).toBeGreaterThanOrEqual(2);
    expect(b.received.length).toBeGreaterThanOrEqual(2);
    expect(slack.loadBalancer?.refused).toBeGreaterThan(0);
    // every delivery is signed as Slack signs it
    for (const r of [...a.received, ...b.received]) expect(r.headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
  });

  it('answers 503 itself when every replica refuses, and retries the event as Slack does', async () => {
    slack.configureBot({
      url: `http://127.0.0.1:${await freePort()}/slack/events`,
      urls: [`http://127.0.0.1:${await freePort()}/slack/events`],
      signingSecret: SECRET,
      eventRetries: { delaysMs: [0, 10, 10] },
    });
    const sent = await slack.sendEvent({ type: 'message', channel: CHANNEL, text: 'nobody home' });
    expect(sent.status).toBe(503);
    expect(sent.attempts).toBe(4);
  });

  it('delivers a failed event again with the same body, X-Slack-Retry-Num and the reason, until a 2xx', async () => {
    // the first two attempts fail (500), the third is taken
    const a = await backend((n, res) => res.writeHead(n < 2 ? 500 : 200).end());
    servers.push(a.server);
    slack.configureBot({ url: a.url, urls: [a.url], signingSecret: SECRET, eventRetries: { delaysMs: [0, 20, 20] } });

    const sent = await slack.sendEvent({ type: 'message', channel: CHANNEL, text: 'retry me' });

    expect(sent.status).toBe(200);
    expect(sent.attempts).toBe(3);
    expect(a.received.map((r) => r.headers['x-slack-retry-num'])).toEqual([undefined, '1', '2']);
    expect(a.received.map((r) => r.headers['x-slack-retry-reason'])).toEqual([undefined, 'http_error', 'http_error']);
    const ids = a.received.map((r) => (JSON.parse(r.body) as { event_id: string }).event_id);
    expect(new Set(ids)).toEqual(new Set([sent.eventId]));
  });

  it('gives up after three retries, and at once when the answer says X-Slack-No-Retry', async () => {
    const failing = await backend((_n, res) => res.writeHead(500).end());
    const refusing = await backend((_n, res) => res.writeHead(500, { 'X-Slack-No-Retry': '1' }).end());
    servers.push(failing.server, refusing.server);

    slack.configureBot({
      url: failing.url,
      urls: [failing.url],
      signingSecret: SECRET,
      eventRetries: { delaysMs: [0, 5, 5] },
    });
    expect((await slack.sendEvent({ type: 'message', channel: CHANNEL, text: 'x' })).attempts).toBe(4);
    expect(failing.received.map((r) => r.headers['x-slack-retry-num'])).toEqual([undefined, '1', '2', '3']);

    slack.configureBot({
      url: refusing.url,
      urls: [refusing.url],
      signingSecret: SECRET,
      eventRetries: { delaysMs: [0, 5, 5] },
    });
    expect((await slack.sendEvent({ type: 'message', channel: CHANNEL, text: 'y' })).attempts).toBe(1);
    expect(refusing.received).toHaveLength(1);
  });

  it('counts an event not acked within 3 s as failed (http_timeout) and sends it again without waiting', async () => {
    const slow = await backend((n, res) => {
      if (n === 0) setTimeout(() => res.writeHead(200).end(), 4000);
      else res.writeHead(200).end();
    });
    servers.push(slow.server);
    slack.configureBot({ url: slow.url, urls: [slow.url], signingSecret: SECRET, eventRetries: { delaysMs: [0] } });
    const started = Date.now();
    const sent = await slack.sendEvent({ type: 'message', channel: CHANNEL, text: 'slow' });
    expect(sent.status).toBe(200);
    expect(sent.attempts).toBe(2);
    expect(Date.now() - started).toBeLessThan(3900);
    expect(slow.received[1].headers['x-slack-retry-reason']).toBe('http_timeout');
  }, 15_000);

  it('never retries a slash command: Slack shows the user the error instead', async () => {
    const failing = await backend((_n, res) => res.writeHead(500).end());
    servers.push(failing.server);
    slack.configureBot({
      url: failing.url,
      urls: [failing.url],
      signingSecret: SECRET,
      eventRetries: { delaysMs: [0, 5, 5] },
    });
    const res = await slack.slashCommand({
      command: '/incident',
      text: 'list',
      userId: 'U0ALICE001',
      channelId: CHANNEL,
    });
    expect(res.status).toBe(500);
    expect(failing.received).toHaveLength(1);
  });
});
