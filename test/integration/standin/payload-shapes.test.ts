/**
 * What the stand-in puts on the wire matches Slack's documented requests (test/fixtures/slack/requests/): the
 * signature scheme reproduces Slack's worked example, content types and headers are Slack's, and every payload has
 * at least the keys of the documented example.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseQuery } from 'node:querystring';
import { SlackStandIn, signSlackRequest } from '../../support/slack-standin';

const FIXTURES = join(__dirname, '../../fixtures/slack/requests');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
const keys = (o: unknown) => Object.keys(o as object).sort();
const CHANNEL = 'C0123ALERTS';
const SECRET = 'wire-test-secret';

describe('SlackStandIn requests on the wire', () => {
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'alerts' } });
  let receiver: Server;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    await slack.start();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    slack.configureBot({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/slack/events`,
      signingSecret: SECRET,
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
    await slack.stop();
  });
  beforeEach(() => {
    received.length = 0;
    slack.reset();
  });

  function lastRequest() {
    const req = received[received.length - 1];
    const ts = String(req.headers['x-slack-request-timestamp']);
    return { ...req, ts, signatureOk: req.headers['x-slack-signature'] === signSlackRequest(SECRET, ts, req.body) };
  }

  it("reproduces Slack's worked signing example byte for byte", () => {
    const ex = fixture('signing-example.json') as {
      signingSecret: string;
      timestamp: string;
      body: string;
      signature: string;
    };
    expect(signSlackRequest(ex.signingSecret, ex.timestamp, ex.body)).toBe(ex.signature);
  });

  it('sends events as signed JSON in an envelope with the keys of the documented and the captured envelope', async () => {
    await slack.sendEvent({
      type: 'app_mention',
      user: 'U0ALICE001',
      text: 'hi',
      ts: '1700000000.000100',
      channel: CHANNEL,
      event_ts: '1700000000.000100',
    });
    const req = lastRequest();
    const envelope = JSON.parse(req.body) as Record<string, unknown>;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.signatureOk).toBe(true);
    expect(Math.abs(Number(req.ts) - Date.now() / 1000)).toBeLessThan(5);
    // authed_users is deprecated and no longer sent (the captured envelope has `authorizations` instead).
    const documented = keys(fixture('event-callback.json')).filter((k) => k !== 'authed_users');
    expect(keys(envelope)).toEqual(expect.arrayContaining(documented));
    expect(keys(envelope)).toEqual(expect.arrayContaining(keys(fixture('event-callback-message-captured.json'))));
    expect(envelope.event_id).toMatch(/^Ev[A-Z0-9]{10}$/);
    expect(keys((envelope.authorizations as unknown[])[0])).toEqual(
      keys((fixture('event-callback-message-captured.json').authorizations as unknown[])[0]),
    );
  });

  it('marks retries with X-Slack-Retry-Num and X-Slack-Retry-Reason', async () => {
    await slack.sendEvent(
      { type: 'app_mention', ts: '1.000001', channel: CHANNEL },
      { retryNum: 2, retryReason: 'http_error' },
    );
    expect(lastRequest().headers).toMatchObject({ 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' });
  });

  it('sends url_verification with the keys of the documented one', async () => {
    await slack.sendUrlVerification();
    expect(keys(JSON.parse(lastRequest().body))).toEqual(keys(fixture('url-verification.json')));
  });

  it('sends a button click as a form with one `payload` field holding block_actions JSON with the documented keys', async () => {
    // given
    const post = await slack.postAlertMessage(CHANNEL, {
      text: 'alert',
      blocks: [
        {
          type: 'actions',
          block_id: 'steps',
          elements: [
            { type: 'button', action_id: 'incident.run_step', value: 'v', text: { type: 'plain_text', text: 'Run' } },
          ],
        },
      ],
    });
    // when
    await slack.clickButton({
      user: 'U0ALICE001',
      channel: CHANNEL,
      messageTs: post.ts,
      actionId: 'incident.run_step',
    });
    // then
    const req = lastRequest();
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.signatureOk).toBe(true);
    const form = parseQuery(req.body);
    expect(Object.keys(form)).toEqual(['payload']);
    const payload = JSON.parse(String(form.payload)) as Record<string, Record<string, unknown>>;
    const doc = fixture('block-actions.json') as Record<string, Record<string, unknown>>;
    expect(keys(payload)).toEqual(expect.arrayContaining(keys(doc)));
    expect(keys(payload.user)).toEqual(expect.arrayContaining(keys(doc.user)));
    // attachment_id and is_app_unfurl belong to message_attachment containers only (see the fixtures README).
    expect(keys(payload.container)).toEqual(
      expect.arrayContaining(keys(doc.container).filter((k) => !['attachment_id', 'is_app_unfurl'].includes(k))),
    );
    expect(keys((payload.actions as unknown as unknown[])[0])).toEqual(keys((doc.actions as unknown as unknown[])[0]));
    expect(keys(payload.message)).toEqual(expect.arrayContaining(keys(doc.message).filter((k) => k !== 'user')));
    expect(payload.response_url).toMatch(new RegExp(`^${slack.baseUrl}/actions/`));
  });

  it('sends a view submission with the documented keys, the view carrying state.values', async () => {
    await slack.submitView({
      user: 'U0ALICE001',
      view: { callback_id: 'incident.reason', private_metadata: 'inc-1' },
      values: { r: { v: { type: 'plain_text_input', value: 'x' } } },
    });
    const payload = JSON.parse(String(parseQuery(lastRequest().body).payload)) as Record<
      string,
      Record<string, unknown>
    >;
    const doc = fixture('view-submission.json') as Record<string, Record<string, unknown>>;
    expect(keys(payload)).toEqual(expect.arrayContaining(keys(doc)));
    expect(keys(payload.view)).toEqual(expect.arrayContaining(keys(doc.view).filter((k) => k !== 'response_urls')));
    expect(payload.view).toMatchObject({
      callback_id: 'incident.reason',
      private_metadata: 'inc-1',
      state: { values: { r: { v: { value: 'x' } } } },
    });
  });

  it('sends a slash command as form fields with the documented names (enterprise fields only on Enterprise Grid)', async () => {
    await slack.slashCommand({ command: '/incident', text: 'list lb-1', userId: 'U0ALICE001', channelId: CHANNEL });
    const req = lastRequest();
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.signatureOk).toBe(true);
    const fields = parseQuery(req.body);
    const doc = parseQuery(readFileSync(join(FIXTURES, 'slash-command.form'), 'utf8'));
    const documented = Object.keys(doc)
      .filter((k) => !k.startsWith('enterprise_'))
      .sort();
    expect(Object.keys(fields).sort()).toEqual(expect.arrayContaining(documented));
    expect(fields).toMatchObject({
      command: '/incident',
      text: 'list lb-1',
      channel_name: 'alerts',
      is_enterprise_install: 'false',
    });
  });
});
