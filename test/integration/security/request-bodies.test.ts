/**
 * Issue #19 §1, §3 and §11 (future-dated events) through the real bot: what a request may cost before anyone knows
 * who sent it. Each request here sends its headers only and waits for the answer: the bot must answer from the headers
 * alone. Before the fix Bolt read up to 4 MiB of every POST to /slack/events before checking its signature (so these
 * got no answer until the body came), held any number at once, dated-in-the-future events were acked 200, and a
 * webhook body over 1 MiB got a connection reset.
 */

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { AM_TOKEN, CHANNEL, type Harness, SIGNING_SECRET, startHarness } from '../../support/pilot-harness';
import { signSlackRequest } from '../../support/slack/sign-slack-request';

const MIB = 1024 * 1024;

type Answer = { status: number; body: string; connection?: string };

interface Pending {
  /** The answer, or 'none' when none came within `waitMs` (default 5 s): one that should come from the headers. */
  answer(waitMs?: number): Promise<Answer | 'none'>;
  /** Sends the body and ends the request. */
  finish(body: string): void;
  abort(): void;
}

/**
 * A POST whose headers (with Content-Length) are sent at once and whose body is not: an answer that comes before the
 * body is what the bot decided on the headers.
 */
function headersFirst(url: string, headers: Record<string, string | number>): Pending {
  const req = request(url, { method: 'POST', headers });
  const response = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
  });
  req.on('error', () => undefined);
  req.flushHeaders();
  return {
    answer: (waitMs = 5000) => {
      let timer: NodeJS.Timeout | undefined;
      const none = new Promise<'none'>((r) => {
        timer = setTimeout(() => r('none'), waitMs);
      });
      return Promise.race([response, none]).finally(() => clearTimeout(timer));
    },
    finish: (body) => req.end(body),
    abort: () => req.destroy(),
  };
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe('security: request bodies are bounded before they are read (#19 §1, §3, §11)', () => {
  let h: Harness;
  let pending: Pending[] = [];
  beforeAll(async () => {
    h = await startHarness({ config: { http: { maxBytesInFlight: MIB + 512 * 1024 } } });
  });
  afterEach(() => {
    for (const p of pending) p.abort();
    pending = [];
  });
  afterAll(() => h.stop());

  const bytesInFlight = async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    return Number(/^runbook_pilot_http_bytes_in_flight (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
  };
  async function until(what: string, fn: () => Promise<boolean>, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const open = (path: string, headers: Record<string, string | number>) => {
    const p = headersFirst(`${h.url}${path}`, headers);
    pending.push(p);
    return p;
  };

  it('an unsigned 4 MiB POST to /slack/events is answered 401 before its body is read', async () => {
    const p = open('/slack/events', { 'content-type': 'application/json', 'content-length': 4 * MIB });
    expect(await p.answer()).toMatchObject({ status: 401, connection: 'close' });
  });

  it('a signed POST declaring more than Slack sends (1 MiB) is answered 413 before its body is read', async () => {
    const ts = nowSec();
    const p = open('/slack/events', {
      'content-type': 'application/json',
      'content-length': 2 * MIB,
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signSlackRequest(SIGNING_SECRET, ts, 'x'.repeat(10)),
    });
    expect(await p.answer()).toMatchObject({ status: 413 });
  });

  it('an event dated an hour ahead, correctly signed, is answered 401 before Bolt acks it', async () => {
    const delivered = await h.slack.sendEvent(
      { type: 'message', channel: CHANNEL, user: 'U0ONCALL01', text: 'HaproxyServerDown server=web2', ts: '1.1' },
      { timestampSkewSec: 3600 },
    );
    expect(delivered.status).toBe(401);
    // a refused request was answered before Bolt saw it: the same event dated now is handled (200)
    const now = await h.slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: 'U0ONCALL01',
      text: 'hi',
      ts: '1.2',
    });
    expect(now.status).toBe(200);
  });

  it('the bytes in flight are bounded: a request beyond them is answered 503 at once, and admitted once they are free', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c'.repeat(MIB - 100), token: 't' });
    const signed = (ts: number) => ({
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signSlackRequest(SIGNING_SECRET, ts, body),
    });
    // holds ~1 MiB of the 1.5 MiB budget while its body has not come (the gauge says when it is held)
    const first = open('/slack/events', signed(nowSec()));
    await until('the first body held', async () => (await bytesInFlight()) >= MIB - 100);
    const second = open('/slack/events', signed(nowSec()));
    expect(await second.answer()).toMatchObject({ status: 503 });
    // the webhook shares the budget
    const hook = open('/alertmanager', {
      authorization: `Bearer ${AM_TOKEN}`,
      'content-type': 'application/json',
      'content-length': MIB,
    });
    expect(await hook.answer()).toMatchObject({ status: 503 });

    // the first one's body arrives and it is answered; its bytes are free again
    first.finish(body);
    expect(await first.answer()).toMatchObject({ status: 200 });
    await until('the budget free again', async () => (await bytesInFlight()) === 0);
    const third = open('/slack/events', signed(nowSec()));
    third.finish(body);
    expect(await third.answer()).toMatchObject({ status: 200 });
  });

  it('an unauthenticated 4 MiB webhook POST is answered 401 before its body is read', async () => {
    const p = open('/alertmanager', { 'content-type': 'application/json', 'content-length': 4 * MIB });
    expect(await p.answer()).toMatchObject({ status: 401 });
  });

  it('a webhook body over the cap is answered 413 saying to set max_alerts, declared or not (no reset)', async () => {
    const declared = open('/alertmanager', {
      authorization: `Bearer ${AM_TOKEN}`,
      'content-type': 'application/json',
      'content-length': 64 * MIB,
    });
    const answer = await declared.answer();
    expect(answer).toMatchObject({ status: 413 });
    expect(answer !== 'none' && JSON.parse(answer.body).error).toMatch(/set max_alerts in the webhook_configs/);

    // declared and sent in full, as Alertmanager sends it: the client reads the 413 (the rest is read and dropped)
    const sent = await fetch(`${h.url}/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AM_TOKEN}`, 'content-type': 'application/json' },
      body: 'x'.repeat(3 * MIB),
    });
    expect(sent.status).toBe(413);
    expect(((await sent.json()) as { error: string }).error).toMatch(/max_alerts/);

    // chunked (no Content-Length): cut while it is read, and still answered 413
    const res = await fetch(`${h.url}/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AM_TOKEN}`, 'content-type': 'application/json' },
      body: new Blob(['x'.repeat(3 * MIB)]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/max_alerts/);
  });
});

describe('security: a 700-alert webhook batch over 1 MiB is taken (#19 §3)', () => {
  it('answers 202 where a 1 MiB read cap reset the connection', async () => {
    const h = await startHarness({ config: { ingest: { maxQueuedAlerts: 1000 } } });
    try {
      const fixture = JSON.parse(
        readFileSync(
          join(__dirname, '..', '..', 'fixtures', 'alertmanager', 'by-instance.webhook.firing.json'),
          'utf8',
        ),
      ) as { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };
      const template = fixture.alerts[0];
      fixture.alerts = Array.from({ length: 700 }, (_, i) => ({
        ...template,
        labels: { ...template.labels, server: `web${i}` },
        annotations: { ...template.annotations, description: 'd'.repeat(1500) },
      }));
      const text = JSON.stringify(fixture);
      expect(Buffer.byteLength(text)).toBeGreaterThan(MIB);
      const res = await h.webhook(text);
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 700 });
    } finally {
      await h.stop();
    }
  }, 60_000);
});
