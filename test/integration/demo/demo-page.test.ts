/**
 * The demo page in a real headless Chromium (Debian's `chromium`, driven by playwright-core), on the real Slack
 * stand-in, talking to a real @slack/bolt App: the page shows the alert and the bot's thread, a click on "Backend
 * state" reaches the bot as a signed block_actions and its answer appears in the thread; a modal opens, is filled in
 * and submitted; an alert fired from the form arrives with its labels shown as text.
 *
 * The bot here is a small stand-in written for this test (the real one is wired by `npm run demo`). Skipped, with the
 * reason printed, when /usr/bin/chromium is missing, unless RBP_REQUIRE_BROWSER=1 makes that a failure.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { App, type BlockAction, type ButtonAction, LogLevel } from '@slack/bolt';
import type { Page } from 'playwright-core';
import { alertmanagerSlackMessage } from '../../support/demo-page/alertmanager-slack-message';
import {
  DEMO_LABEL_EXAMPLES,
  DEMO_USERS,
  type DemoPage,
  type FiredAlert,
  mountDemoPage,
} from '../../support/demo-page/mount-demo-page';
import { describeWithBrowser, type HeadlessChromium, launchHeadlessChromium } from '../../support/headless-chromium';
import { SlackStandIn } from '../../support/slack-standin';

const CHANNEL = 'C0DEMOINC1';
const SIGNING_SECRET = 'demo-page-signing-secret-0123456789abcdef';
const [ONCALL, INTERN] = DEMO_USERS;
const XSS_LABEL = '<img src=x onerror=alert(1)>';
const SCREENSHOT = join(__dirname, '..', '..', '..', 'test-artifacts', 'demo-page.png');

/** A tiny bot on real Bolt: opens an "incident" in the alert's thread, answers two buttons, handles one modal. */
function startStandInBot(apiUrl: string, botToken: string): App {
  const app = new App({
    signingSecret: SIGNING_SECRET,
    token: botToken,
    clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
    logLevel: LogLevel.ERROR,
  });

  app.event('message', async ({ event, client }) => {
    const m = event as {
      subtype?: string;
      username?: string;
      ts: string;
      channel: string;
      attachments?: Array<{ title?: string }>;
    };
    if (m.subtype !== 'bot_message' || m.username !== 'Alertmanager') return;
    await client.chat.postMessage({
      channel: m.channel,
      thread_ts: m.ts,
      text: 'Incident opened',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: '🚨 HaproxyServerDown — firing (incident #1)', emoji: true },
        },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Host*\n`lb-1` (127.0.0.1:9101)' },
            { type: 'mrkdwn', text: `*Alert*\n${m.attachments?.[0]?.title ?? '?'}` },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: '*Diagnosis*' } },
        {
          type: 'section',
          block_id: 'diagnosis-1',
          text: { type: 'mrkdwn', text: '*1.* Check the state of the backend servers\n⚪ _not run_' },
          accessory: {
            type: 'button',
            action_id: 'demo.backend_state',
            text: { type: 'plain_text', text: 'Backend state' },
            value: 'inc-1:diagnosis-1',
          },
        },
        { type: 'divider' },
        {
          type: 'actions',
          block_id: 'mitigation',
          elements: [
            {
              type: 'button',
              action_id: 'demo.disable',
              text: { type: 'plain_text', text: 'Disable web2' },
              value: 'inc-1:mitigation-1',
              style: 'danger',
            },
            {
              type: 'button',
              action_id: 'demo.timeline',
              text: { type: 'plain_text', text: 'Timeline' },
              value: 'inc-1',
              style: 'primary',
            },
          ],
        },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'Runbook: <https://example.org/runbooks/HaproxyServerDown|HaproxyServerDown>' },
          ],
        },
      ],
    });
  });

  app.action<BlockAction<ButtonAction>>('demo.backend_state', async ({ ack, body, client }) => {
    await ack();
    await client.chat.postMessage({
      channel: body.channel!.id,
      thread_ts: body.message!.thread_ts ?? body.message!.ts,
      text: 'Backend state on lb-1: ok',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: `*Backend state* on \`lb-1\` — ✅ exit 0 in 42 ms — <@${body.user.id}>` },
        },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '```\nbackend server status\nweb  web1 UP\nweb  web2 DOWN\n```' },
        },
      ],
    });
  });

  app.action<BlockAction<ButtonAction>>('demo.disable', async ({ ack, body, client, respond }) => {
    await ack();
    if (body.user.id !== ONCALL.id) {
      await respond({ response_type: 'ephemeral', text: `🛑 You may not disable servers: only <@${ONCALL.id}> may.` });
      return;
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: {
        type: 'modal',
        callback_id: 'demo.disable_confirm',
        private_metadata: JSON.stringify({
          channel: body.channel!.id,
          thread: body.message!.thread_ts ?? body.message!.ts,
        }),
        title: { type: 'plain_text', text: 'Confirm Disable web2' },
        submit: { type: 'plain_text', text: 'Run' },
        close: { type: 'plain_text', text: 'Cancel' },
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: '*Disable web2* on `lb-1`. This exact command will run:' } },
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: "```\necho 'disable server web/web2' | socat stdio /run/haproxy/admin.sock\n```",
            },
          },
          {
            type: 'input',
            block_id: 'reason',
            label: { type: 'plain_text', text: 'Why? (recorded on the timeline)' },
            element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 3 },
          },
          {
            type: 'input',
            block_id: 'options',
            optional: true,
            label: { type: 'plain_text', text: 'Options' },
            element: {
              type: 'checkboxes',
              action_id: 'options',
              options: [
                { text: { type: 'plain_text', text: 'Dry run: show the commands, run nothing' }, value: 'dry-run' },
              ],
            },
          },
          {
            type: 'input',
            block_id: 'mode',
            label: { type: 'plain_text', text: 'Mode' },
            element: {
              type: 'static_select',
              action_id: 'mode',
              options: [
                { text: { type: 'plain_text', text: 'maintenance' }, value: 'maint' },
                { text: { type: 'plain_text', text: 'drain' }, value: 'drain' },
              ],
            },
          },
        ],
      },
    });
  });

  app.action('demo.timeline', async ({ ack }) => ack());

  app.view('demo.disable_confirm', async ({ ack, view, body, client }) => {
    await ack();
    const { channel, thread } = JSON.parse(view.private_metadata) as { channel: string; thread: string };
    const v = view.state.values;
    const reason = v.reason.reason.value ?? '';
    const dryRun = (v.options.options.selected_options ?? []).some((o) => o.value === 'dry-run');
    const mode = v.mode.mode.selected_option?.value ?? '?';
    const escaped = reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    await client.chat.postMessage({
      channel,
      thread_ts: thread,
      text: `Disable web2 (${mode}${dryRun ? ', dry run' : ''}) by <@${body.user.id}>: ${escaped}`,
    });
  });

  app.command('/incident', async ({ ack, command }) => ack(`No open incidents (you asked: ${command.text})`));
  return app;
}

describeWithBrowser('demo page in headless Chromium', () => {
  const slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' } });
  const firedAlerts: FiredAlert[] = [];
  let bot: App;
  let demo: DemoPage;
  let browser: HeadlessChromium;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    const { apiUrl } = await slack.start();
    demo = mountDemoPage(slack, {
      channel: CHANNEL,
      runbooks: () => [
        { alertname: 'HaproxyServerDown', labels: ['alertname', 'backend', 'instance', 'job', 'server', 'severity'] },
        { alertname: 'HaproxyDown', labels: ['instance'] },
      ],
      fireAlert: async (alert) => {
        firedAlerts.push(alert);
        await slack.postAlertMessage(CHANNEL, alertmanagerSlackMessage(alert));
      },
      hostsStatus: () => ({
        ready: false,
        message: 'sshd or haproxy missing: apt-get install -y openssh-server haproxy socat',
      }),
    });
    bot = startStandInBot(apiUrl, slack.botToken);
    const server = (await bot.start({ port: 0, host: '127.0.0.1' })) as Server;
    slack.configureBot({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
      signingSecret: SIGNING_SECRET,
    });

    browser = await launchHeadlessChromium();
    page = browser.page;
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await slack.stop();
  });

  it('shows the alert and the thread; "Backend state" finds web2 DOWN', async () => {
    // given: Alertmanager posted the alert and the bot opened the incident in its thread
    const alert = await slack.postAlertMessage(
      CHANNEL,
      alertmanagerSlackMessage({
        alertname: 'HaproxyServerDown',
        labels: DEMO_LABEL_EXAMPLES.HaproxyServerDown,
        status: 'firing',
      }),
    );
    await slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === alert.ts);
    // when
    await page.goto(demo.url);
    await page
      .locator('.attachment .att-title', {
        hasText: '[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical)',
      })
      .waitFor();
    await page.getByRole('button', { name: 'Backend state' }).click();
    // then
    const result = page.locator(`.conversation:has(article[data-ts="${alert.ts}"]) .thread pre.code`, {
      hasText: 'web2 DOWN',
    });
    await result.waitFor({ timeout: 10_000 });
    expect(await result.textContent()).toContain('web  web2 DOWN');
    expect(
      slack
        .calls('chat.postMessage')
        .some((c) => c.args.thread_ts === alert.ts && JSON.stringify(c.args.blocks).includes(`<@${ONCALL.id}>`)),
    ).toBe(true);
    await expect(page.locator('.bk-button.danger', { hasText: 'Disable web2' }).first().isVisible()).resolves.toBe(
      true,
    );
    await expect(page.locator('.hosts.missing pre').textContent()).resolves.toContain(
      'apt-get install -y openssh-server haproxy socat',
    );
  });

  it('opens the modal, submits what was typed, and the bot receives it', async () => {
    // when
    await page.getByRole('button', { name: 'Disable web2' }).first().click();
    const modal = page.locator('form.modal');
    await modal.waitFor();
    await modal.getByLabel('Why? (recorded on the timeline)').fill('web2 flaps <b>badly</b> & more');
    await modal.getByLabel('Dry run: show the commands, run nothing').check();
    await modal.getByLabel('Mode').selectOption({ label: 'drain' });
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-modal.png') });
    await modal.getByRole('button', { name: 'Run' }).click();
    // then
    await modal.waitFor({ state: 'detached' });
    const reply = page.locator('.thread .message', { hasText: 'Disable web2 (drain, dry run)' });
    await reply.waitFor({ timeout: 10_000 });
    expect(await reply.locator('.content').textContent()).toContain('web2 flaps <b>badly</b> & more');
    const post = await slack.waitFor('chat.postMessage', (c) => String(c.args.text).startsWith('Disable web2'));
    expect(post.args.text).toBe(
      `Disable web2 (drain, dry run) by <@${ONCALL.id}>: web2 flaps &lt;b&gt;badly&lt;/b&gt; &amp; more`,
    );
  });

  it('acts as the intern: the refusal is shown as an ephemeral message', async () => {
    await page.locator('#user').selectOption(INTERN.id);
    await page.getByRole('button', { name: 'Disable web2' }).first().click();
    const ephemeral = page.locator('.message.ephemeral', { hasText: 'You may not disable servers' });
    await ephemeral.waitFor({ timeout: 10_000 });
    expect(await ephemeral.textContent()).toContain('Only visible to you');
    expect(await ephemeral.textContent()).toContain(`only @${ONCALL.name} may`);
    await page.locator('#user').selectOption(ONCALL.id);
    await ephemeral.waitFor({ state: 'detached' });
  });

  it('fires an alert from the form with the runbook labels pre-filled; a hostile label shows as text', async () => {
    // given: the form offers the loaded runbooks with their labels
    await expect(page.locator('#alertname').inputValue()).resolves.toBe('HaproxyServerDown');
    await expect(page.getByLabel('label instance').inputValue()).resolves.toBe('127.0.0.1:9101');
    await expect(page.getByLabel('label server').inputValue()).resolves.toBe('web2');
    // when
    await page.getByLabel('label server').fill(XSS_LABEL);
    await page.getByRole('button', { name: 'Fire alert' }).click();
    // then
    const title = `[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy ${XSS_LABEL} critical)`;
    const fired = page.locator('.attachment .att-title', { hasText: title });
    await fired.waitFor({ timeout: 10_000 });
    expect(await fired.textContent()).toBe(title);
    expect(firedAlerts.at(-1)).toEqual({
      alertname: 'HaproxyServerDown',
      status: 'firing',
      labels: {
        alertname: 'HaproxyServerDown',
        backend: 'web',
        instance: '127.0.0.1:9101',
        job: 'haproxy',
        server: XSS_LABEL,
        severity: 'critical',
      },
    });
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // The bot opened a second incident, in the new alert's thread.
    await page.getByRole('button', { name: 'Backend state' }).nth(1).waitFor({ timeout: 10_000 });
  });

  it('answers the slash command as an ephemeral message, then saves a screenshot', async () => {
    await page.locator('#slash-text').fill('list');
    await page.getByRole('button', { name: 'Send' }).click();
    await page
      .locator('.message.ephemeral', { hasText: 'No open incidents (you asked: list)' })
      .waitFor({ timeout: 10_000 });

    await page.locator('main').evaluate((el) => el.scrollTo(0, 0));
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(pageErrors).toEqual([]);
  });
});
