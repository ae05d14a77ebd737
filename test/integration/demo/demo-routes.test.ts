/**
 * The demo page's HTTP routes without a browser: a real Slack stand-in with the page mounted, a real Bolt App as the
 * bot, plain fetch as the page. Covers what the browser test does not: refusals, files, DMs, modal errors, state.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type BlockAction, type ButtonAction, LogLevel } from '@slack/bolt';
import {
  DEMO_USERS,
  type DemoPage,
  type DemoState,
  type FiredAlert,
  mountDemoPage,
} from '../../support/demo-page/mount-demo-page';
import { SlackStandIn } from '../../support/slack-standin';

const CHANNEL = 'C0DEMOINC1';
const SIGNING_SECRET = 'demo-routes-signing-secret-0123456789abcdef';
const [ONCALL] = DEMO_USERS;
/** A 1×1 PNG. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6300010000050001' +
    '0d0a2db40000000049454e44ae426082',
  'hex',
);

describe('demo page routes', () => {
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
  const fired: FiredAlert[] = [];
  const picked: string[] = [];
  let bot: App;
  let demo: DemoPage;

  beforeAll(async () => {
    const { apiUrl } = await slack.start();
    demo = mountDemoPage(slack, {
      channel: CHANNEL,
      runbooks: () => [{ alertname: 'HaproxyServerDown', labels: ['backend', 'instance', 'server'] }],
      fireAlert: async (alert) => {
        fired.push(alert);
        await slack.postAlertMessage(CHANNEL, { text: `[FIRING:1] ${alert.alertname}` });
      },
    });
    bot = new App({
      signingSecret: SIGNING_SECRET,
      token: slack.botToken,
      clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    bot.event('message', async ({ event, client }) => {
      const m = event as { ts: string; channel: string; bot_id?: string };
      if (m.bot_id !== 'B0ALERTMGR') return;
      await client.chat.postMessage({
        channel: m.channel,
        thread_ts: m.ts,
        text: 'incident',
        blocks: [
          {
            type: 'actions',
            block_id: 'steps',
            elements: [
              { type: 'button', action_id: 'demo.modal', text: { type: 'plain_text', text: 'Ask' }, value: 'v' },
            ],
          },
        ],
      });
      await client.files.uploadV2({
        channel_id: m.channel,
        thread_ts: m.ts,
        file_uploads: [
          { file: Buffer.from('<html><script>alert(1)</script>'), filename: 'output.html', title: 'Output' },
          { file: PNG, filename: 'graph.png', title: 'Graph' },
        ],
      });
      await client.chat.postMessage({ channel: ONCALL.id, text: 'a DM for olivia' });
    });
    bot.action<BlockAction<ButtonAction>>('demo.modal', async ({ ack, body, client }) => {
      await ack();
      await client.views.open({
        trigger_id: body.trigger_id,
        view: {
          type: 'modal',
          callback_id: 'demo.ask',
          title: { type: 'plain_text', text: 'Ask' },
          submit: { type: 'plain_text', text: 'Send' },
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: 'Why?' } },
            {
              type: 'input',
              block_id: 'reason',
              label: { type: 'plain_text', text: 'Reason' },
              element: { type: 'plain_text_input', action_id: 'reason' },
            },
          ],
        },
      });
    });
    bot.view('demo.ask', async ({ ack, view }) => {
      const reason = view.state.values.reason.reason.value ?? '';
      if (reason.length < 3)
        return ack({ response_action: 'errors', errors: { reason: 'Say a bit more', elsewhere: 'unplaced' } });
      return ack();
    });
    bot.action<BlockAction<ButtonAction>>('demo.pick', async ({ ack, action }) => {
      picked.push(action.value ?? '');
      await ack();
    });
    bot.command('/incident', async ({ ack }) => ack({ response_type: 'in_channel', text: 'Open incidents: none' }));
    const server = (await bot.start({ port: 0, host: '127.0.0.1' })) as Server;
    slack.configureBot({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
      signingSecret: SIGNING_SECRET,
    });
  });

  afterAll(async () => {
    await bot.stop();
    await slack.stop();
  });

  const post = async (path: string, body: unknown, contentType = 'application/json') => {
    const res = await fetch(`${slack.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const state = async (user = ONCALL.id) =>
    (await (await fetch(`${slack.baseUrl}/demo/state?user=${user}`)).json()) as DemoState;

  it('serves the page with a CSP that allows no inline script, and its script', async () => {
    const page = await fetch(demo.url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/demo/page.js" defer></script>');
    const script = await fetch(`${slack.baseUrl}/demo/page.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('fetch(`/demo/view?user=');
    expect((await fetch(`${slack.baseUrl}/nothing-here`)).status).toBe(404);
  });

  it.each([
    [
      'a form post (CSRF from another site)',
      '/demo/fire',
      { alertname: 'X' },
      'application/x-www-form-urlencoded',
      415,
      'send JSON',
    ],
    ['an empty alertname', '/demo/fire', { alertname: ' ', labels: {} }, 'application/json', 400, 'alertname is empty'],
    [
      'a label name Prometheus would reject',
      '/demo/fire',
      { alertname: 'X', labels: { 'bad-name': 'v' } },
      'application/json',
      400,
      'label name "bad-name"',
    ],
    [
      'a click on a message that does not exist',
      '/demo/click',
      { channel: CHANNEL, messageTs: '1.000001', actionId: 'x' },
      'application/json',
      404,
      'no message',
    ],
    [
      'a submission with no modal open',
      '/demo/submit',
      { viewId: 'V0NONE0001', values: {} },
      'application/json',
      409,
      'no longer open',
    ],
  ])('refuses %s', async (_name, path, body, contentType, status, error) => {
    const res = await post(path, body, contentType);
    expect(res.status).toBe(status);
    expect(String(res.body.error)).toContain(error);
  });

  it('fires an alert through the callback; the state shows the thread, files, DM and the runbooks', async () => {
    // when
    const res = await post('/demo/fire', {
      alertname: 'HaproxyServerDown',
      labels: { server: 'web2' },
      status: 'firing',
    });
    // then
    expect(res).toEqual({ status: 200, body: { ok: true } });
    expect(fired).toEqual([
      { alertname: 'HaproxyServerDown', status: 'firing', labels: { alertname: 'HaproxyServerDown', server: 'web2' } },
    ]);
    await slack.waitFor('chat.postMessage', (c) => c.args.channel === ONCALL.id);
    const s = await state();
    const [incidents, dm] = s.channels;
    expect(incidents.messages[0].replies.map((r) => r.text)).toEqual(['incident', '']);
    expect(dm).toMatchObject({
      id: ONCALL.id,
      name: 'direct messages to olivia.oncall',
      messages: [{ text: 'a DM for olivia' }],
    });
    expect(s.runbooks).toEqual([
      {
        alertname: 'HaproxyServerDown',
        labels: ['backend', 'instance', 'server'],
        example: { backend: 'web', instance: '127.0.0.1:9101', job: 'haproxy', server: 'web2', severity: 'critical' },
      },
    ]);
    expect(s.hosts).toEqual({ ready: true });
    expect(s.files.map((f) => f.filename)).toEqual(['output.html', 'graph.png']);
    // Another user does not see olivia's DM.
    expect((await state(DEMO_USERS[1].id)).channels.map((c) => c.id)).toEqual([CHANNEL]);
  });

  it('serves uploaded files: an image as an image, an HTML file never as HTML', async () => {
    const [html, png] = (await state()).files;
    const h = await fetch(`${slack.baseUrl}${html.url}`);
    expect(h.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(h.headers.get('x-content-type-options')).toBe('nosniff');
    const p = await fetch(`${slack.baseUrl}${png.url}`);
    expect(p.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await p.arrayBuffer()).equals(PNG)).toBe(true);
    const view = (await (await fetch(`${slack.baseUrl}/demo/view?user=${ONCALL.id}`)).json()) as {
      channelsHtml: string;
    };
    expect(view.channelsHtml).toContain(
      '<pre class="code file-text">&lt;html&gt;&lt;script&gt;alert(1)&lt;/script&gt;</pre>',
    );
    expect(view.channelsHtml).toContain(`<img class="file-image" src="${png.url}"`);
  });

  it("opens a modal on click; the bot's response_action errors come back by field; a good submission closes it", async () => {
    // given
    const incident = (await state()).channels[0].messages[0].replies[0];
    const click = await post('/demo/click', {
      user: ONCALL.id,
      channel: CHANNEL,
      messageTs: incident.ts,
      actionId: 'demo.modal',
      blockId: 'steps',
    });
    expect(click).toEqual({ status: 200, body: { ok: true } });
    const modal = (await state()).modal!;
    expect(modal).toMatchObject({ callback_id: 'demo.ask' });
    // when
    const tooShort = await post('/demo/submit', { user: ONCALL.id, viewId: modal.id, values: { 'input-1': ['no'] } });
    const good = await post('/demo/submit', {
      user: ONCALL.id,
      viewId: modal.id,
      values: { 'input-1': ['web2 flaps'] },
    });
    // then
    expect(tooShort.body).toEqual({ ok: true, errors: { 1: 'Say a bit more', form: 'elsewhere: unplaced' } });
    expect(good.body).toEqual({ ok: true });
    expect((await state()).modal).toBeNull();
  });

  it('refuses a click on a button the message does not have', async () => {
    const incident = (await state()).channels[0].messages[0].replies[0];
    const res = await post('/demo/click', {
      user: ONCALL.id,
      channel: CHANNEL,
      messageTs: incident.ts,
      actionId: 'demo.forged',
    });
    expect(res.status).toBe(409);
  });

  it('clicks the button of the clicked block when two blocks use the same action_id', async () => {
    // given
    const button = (value: string) => ({
      type: 'button',
      action_id: 'demo.pick',
      text: { type: 'plain_text', text: value },
      value,
    });
    const ws = slack.workspace;
    slack.model.add({
      type: 'message',
      ts: '1900000000.000100',
      channel: CHANNEL,
      user: ws.botUserId,
      bot_id: ws.botId,
      text: 'pick',
      blocks: [
        { type: 'actions', block_id: 'first', elements: [button('one')] },
        { type: 'actions', block_id: 'second', elements: [button('two')] },
      ],
    });
    // when
    const res = await post('/demo/click', {
      user: ONCALL.id,
      channel: CHANNEL,
      messageTs: '1900000000.000100',
      actionId: 'demo.pick',
      blockId: 'second',
      value: 'forged',
    });
    // then
    expect(res.body).toEqual({ ok: true });
    expect(picked).toEqual(['two']);
  });

  it('posts an in_channel slash command answer in the channel', async () => {
    const res = await post('/demo/slash', { user: ONCALL.id, text: 'list' });
    expect(res.body).toEqual({ ok: true });
    const answer = (await state()).channels[0].messages.find((m) => m.text === 'Open incidents: none');
    expect(answer).toMatchObject({ bot_id: slack.workspace.botId });
    expect(slack.ephemerals({ channel: CHANNEL })).toEqual([]);
  });
});
