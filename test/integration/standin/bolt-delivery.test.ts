/**
 * A real @slack/bolt App (HTTPReceiver on a free port, its WebClient pointed at the stand-in) receives what the
 * stand-in delivers — an alert message event, a button click, a view submission, a slash command — acks it, and
 * calls back into the stand-in. Forged and replayed requests meet Bolt's real verification.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type BlockAction, type ButtonAction, LogLevel } from '@slack/bolt';
import { SlackStandIn } from '../../support/slack-standin';

const CHANNEL = 'C0123ALERTS';
const SIGNING_SECRET = 'standin-signing-secret-0123456789abcdef';
const ALICE = { id: 'U0ALICE001', username: 'alice', name: 'alice' };

const incidentBlocks = (state: string) => [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: `*HaproxyServerDown* on lb-1: ${state}` } },
  {
    type: 'actions',
    block_id: 'steps',
    elements: [
      {
        type: 'button',
        action_id: 'incident.run_step',
        text: { type: 'plain_text', text: 'Show servers state', emoji: true },
        value: 'inc-1:show-servers',
      },
      {
        type: 'button',
        action_id: 'incident.ask_reason',
        text: { type: 'plain_text', text: 'Resolve…', emoji: true },
        value: 'inc-1',
        style: 'primary',
      },
    ],
  },
];

describe('SlackStandIn delivering to a real Bolt App', () => {
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'alerts' } });
  let app: App;
  const seen: { kind: string; body: unknown; context?: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    const { apiUrl } = await slack.start();
    app = new App({
      signingSecret: SIGNING_SECRET,
      token: slack.botToken,
      clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });

    app.event('message', async ({ event, client, context }) => {
      seen.push({
        kind: 'message',
        body: event,
        context: { retryNum: context.retryNum, retryReason: context.retryReason },
      });
      const alert = event as { ts: string; channel: string };
      await client.chat.postMessage({
        channel: alert.channel,
        thread_ts: alert.ts,
        text: 'Incident opened',
        blocks: incidentBlocks('open'),
      });
    });

    app.action<BlockAction<ButtonAction>>(/^incident\./, async ({ ack, body, action, client, respond }) => {
      await ack();
      seen.push({ kind: 'action', body });
      if (action.action_id === 'incident.ask_reason') {
        await client.views.open({
          trigger_id: body.trigger_id,
          view: {
            type: 'modal',
            callback_id: 'incident.reason',
            private_metadata: action.value,
            title: { type: 'plain_text', text: 'Resolve incident' },
            submit: { type: 'plain_text', text: 'Resolve' },
            blocks: [
              {
                type: 'input',
                block_id: 'reason',
                label: { type: 'plain_text', text: 'Reason' },
                element: { type: 'plain_text_input', action_id: 'value' },
              },
            ],
          },
        });
        return;
      }
      await client.chat.update({
        channel: body.channel!.id,
        ts: body.message!.ts,
        text: 'Incident: running',
        blocks: incidentBlocks('running step'),
      });
      await respond({ response_type: 'ephemeral', text: 'Running show-servers on lb-1' });
    });

    app.view('incident.reason', async ({ ack, view, body }) => {
      seen.push({ kind: 'view', body: { view, user: body.user } });
      await ack();
    });

    app.command('/incident', async ({ ack, command, respond }) => {
      seen.push({ kind: 'command', body: command });
      await ack(`No open incidents (you asked: ${command.text})`);
      await respond({ response_type: 'in_channel', text: 'Incident list posted' });
    });

    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    const { port } = server.address() as AddressInfo;
    slack.configureBot({ url: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET });
  });

  afterAll(async () => {
    await app.stop();
    await slack.stop();
  });

  beforeEach(() => {
    seen.length = 0;
    slack.reset();
  });

  async function openIncident(): Promise<{ alertTs: string; incidentTs: string }> {
    const alert = await slack.postAlertMessage(CHANNEL, { text: '[FIRING:1] HaproxyServerDown lb-1' });
    const post = await slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === alert.ts);
    return { alertTs: alert.ts, incidentTs: post.response?.ts as string };
  }

  it('answers the url_verification challenge', async () => {
    const res = await slack.sendUrlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(res).toMatchObject({
      status: 200,
      body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' },
    });
  });

  it('delivers an alert message event; the bot acks and replies in the alert thread', async () => {
    // when
    const delivered = await slack.postAlertMessage(CHANNEL, { text: '[FIRING:1] HaproxyServerDown lb-1' });
    const post = await slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === delivered.ts);
    // then
    expect(delivered.status).toBe(200);
    expect(delivered.ackMs).toBeLessThan(3000);
    expect(seen[0].body).toMatchObject({
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0ALERTMGR',
      channel: CHANNEL,
      ts: delivered.ts,
    });
    expect(post.args).toMatchObject({ channel: CHANNEL, text: 'Incident opened', blocks: incidentBlocks('open') });
    expect(slack.thread(CHANNEL, delivered.ts).map((m) => m.text)).toEqual([
      '[FIRING:1] HaproxyServerDown lb-1',
      'Incident opened',
    ]);
  });

  it('passes X-Slack-Retry-Num and X-Slack-Retry-Reason through to the listener context, with the same event_id', async () => {
    const first = await slack.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: ALICE.id,
      text: 'hi',
      ts: '1700000000.000100',
      event_ts: '1700000000.000100',
    });
    const retry = await slack.sendEvent(
      {
        type: 'message',
        channel: CHANNEL,
        user: ALICE.id,
        text: 'hi',
        ts: '1700000000.000100',
        event_ts: '1700000000.000100',
      },
      { eventId: first.eventId, retryNum: 1, retryReason: 'http_timeout' },
    );
    expect(retry.eventId).toBe(first.eventId);
    expect(seen.map((s) => s.context)).toEqual([
      { retryNum: undefined, retryReason: undefined },
      { retryNum: 1, retryReason: 'http_timeout' },
    ]);
  });

  it('delivers a button click with the current message blocks; the bot acks, updates the message and responds', async () => {
    // given
    const { alertTs, incidentTs } = await openIncident();
    // when
    const click = await slack.clickButton({
      user: ALICE,
      channel: CHANNEL,
      messageTs: incidentTs,
      actionId: 'incident.run_step',
    });
    await slack.waitFor('response_url');
    // then
    expect(click.status).toBe(200);
    expect(click.ackMs).toBeLessThan(3000);
    const body = seen.find((s) => s.kind === 'action')!.body as BlockAction<ButtonAction>;
    expect(body).toMatchObject({
      type: 'block_actions',
      user: { id: ALICE.id, username: 'alice', team_id: 'T0RUNBOOK1' },
      container: {
        type: 'message',
        message_ts: incidentTs,
        channel_id: CHANNEL,
        is_ephemeral: false,
        thread_ts: alertTs,
      },
      channel: { id: CHANNEL, name: 'alerts' },
      message: { ts: incidentTs, thread_ts: alertTs, blocks: incidentBlocks('open') },
      actions: [
        {
          action_id: 'incident.run_step',
          block_id: 'steps',
          value: 'inc-1:show-servers',
          type: 'button',
          text: { text: 'Show servers state' },
        },
      ],
    });
    expect(body.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
    expect(slack.calls('chat.update')[0].args).toMatchObject({ channel: CHANNEL, ts: incidentTs });
    expect(slack.thread(CHANNEL, alertTs)[1].blocks).toEqual(incidentBlocks('running step'));
    expect(slack.ephemerals({ user: ALICE.id })).toEqual([
      expect.objectContaining({ text: 'Running show-servers on lb-1', thread_ts: alertTs }),
    ]);
  });

  it('refuses to click a button the message does not have', async () => {
    const { incidentTs } = await openIncident();
    await expect(
      slack.clickButton({ user: ALICE.id, channel: CHANNEL, messageTs: incidentTs, actionId: 'incident.nope' }),
    ).rejects.toThrow(/has no element with action_id incident.nope \(has: incident.run_step, incident.ask_reason\)/);
  });

  it('opens a modal from a click (trigger_id) and delivers its view_submission', async () => {
    // given
    const { incidentTs } = await openIncident();
    await slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: incidentTs, actionId: 'incident.ask_reason' });
    const open = await slack.waitFor('views.open');
    const viewId = (open.response?.view as { id: string } | undefined)?.id as string;
    // when
    const submit = await slack.submitView({
      user: ALICE,
      viewId,
      values: { reason: { value: { type: 'plain_text_input', value: 'backend restarted' } } },
    });
    // then
    expect(open.response).toMatchObject({
      ok: true,
      view: { callback_id: 'incident.reason', private_metadata: 'inc-1', type: 'modal' },
    });
    expect(submit).toMatchObject({ status: 200, body: '' });
    expect(seen.find((s) => s.kind === 'view')!.body).toMatchObject({
      view: {
        id: viewId,
        callback_id: 'incident.reason',
        private_metadata: 'inc-1',
        state: { values: { reason: { value: { value: 'backend restarted' } } } },
      },
      user: { id: ALICE.id },
    });
  });

  it('refuses views.open with a trigger_id it never issued', async () => {
    await expect(
      app.client.views.open({
        trigger_id: '1.2.deadbeef',
        view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] },
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_trigger_id' } });
  });

  it('delivers a slash command as form fields; the ack text comes back as the HTTP body', async () => {
    const res = await slack.slashCommand({ command: '/incident', text: 'list', userId: ALICE.id, channelId: CHANNEL });
    await slack.waitFor('response_url');
    expect(res).toMatchObject({ status: 200, body: 'No open incidents (you asked: list)' });
    expect(seen[0].body).toMatchObject({
      command: '/incident',
      text: 'list',
      user_id: ALICE.id,
      channel_id: CHANNEL,
      channel_name: 'alerts',
      team_id: 'T0RUNBOOK1',
      api_app_id: 'A0RUNBOOK1',
      is_enterprise_install: 'false',
    });
    expect(slack.model.history(CHANNEL).map((m) => m.text)).toEqual(['Incident list posted']);
  });

  describe("Bolt's request verification", () => {
    const event = {
      type: 'message',
      channel: CHANNEL,
      user: ALICE.id,
      text: 'hi',
      ts: '1700000000.000200',
      event_ts: '1700000000.000200',
    };
    const table: [string, number, Parameters<SlackStandIn['sendEvent']>[1]][] = [
      ['a correct signature', 200, {}],
      [
        'a wrong signature',
        401,
        { signatureOverride: 'v0=0000000000000000000000000000000000000000000000000000000000000000' },
      ],
      ['a signature made with another secret', 401, { signingSecretOverride: 'not-the-secret' }],
      ['a v1 signature', 401, { signatureOverride: 'v1=abc' }],
      ['a timestamp 301 seconds old (replay)', 401, { timestampSkewSec: -301 }],
      ['a timestamp 299 seconds old', 200, { timestampSkewSec: -299 }],
      // Bolt 5.1 only rejects stale timestamps: one from the future passes (verify-request.js, "Rule 1").
      ['a timestamp 10 minutes in the future', 200, { timestampSkewSec: 600 }],
    ];

    it.each(table)('answers %s with %i', async (_name, status, opts) => {
      const res = await slack.sendEvent(event, opts);
      expect(res.status).toBe(status);
      expect(seen).toHaveLength(status === 200 ? 1 : 0);
    });

    it('rejects a forged button click before any listener runs', async () => {
      const { incidentTs } = await openIncident();
      seen.length = 0;
      const res = await slack.clickButton(
        { user: ALICE, channel: CHANNEL, messageTs: incidentTs, actionId: 'incident.run_step' },
        { timestampSkewSec: -600 },
      );
      expect(res.status).toBe(401);
      expect(seen).toEqual([]);
      expect(slack.calls('chat.update')).toEqual([]);
    });
  });
});
