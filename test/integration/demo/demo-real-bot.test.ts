/**
 * `npm run demo` in a real headless Chromium, against the REAL bot on the loopback test hosts (startDemo, the same
 * setup the script runs): the page shows the incident the bot opened for the Alertmanager alert; "Backend state"
 * runs over SSH and finds web2 DOWN; a checklist step is marked done; the on-call user confirms a Restart as a dry
 * run in the modal and the thread shows the commands that would have run. The first incident is triaged by itself
 * (#22): its triage message names the likely cause with the Drain button.
 *
 * Skipped with the reason printed when /usr/bin/chromium or the test hosts are missing; RBP_REQUIRE_BROWSER=1 and
 * RBP_REQUIRE_HOSTS=1 make those failures.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_USERS } from '../../support/demo-page/mount-demo-page';
import { describeWithBrowser, type HeadlessChromium, launchHeadlessChromium } from '../../support/headless-chromium';
import { DEMO_CHANNEL, type Demo, startDemo } from '../../support/start-demo';
import { describeWithHosts } from '../../support/test-hosts';

const SCREENSHOT = join(__dirname, '..', '..', '..', 'test-artifacts', 'demo-real-bot.png');
const [ONCALL] = DEMO_USERS;

describeWithBrowser(
  'npm run demo: the real bot in the browser',
  () => {
    let demo: Demo;
    let browser: HeadlessChromium;
    let page: Page;
    const pageErrors: string[] = [];
    /** The alert's conversation on the page: the alert and its thread. */
    const conversation = () => page.locator(`.conversation:has(article[data-ts="${demo.alertTs}"])`);
    const thread = () => conversation().locator('.thread');

    beforeAll(async () => {
      demo = await startDemo({ port: 0, logLevel: process.env.LOG_LEVEL ?? 'silent' });
      browser = await launchHeadlessChromium({ width: 1280, height: 1400 });
      page = browser.page;
      // Shorter than jest's timeout, so a missing element fails with playwright's message, not a bare timeout.
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (err) => pageErrors.push(err.message));
    });

    afterAll(async () => {
      await browser?.close();
      await demo?.stop();
    });

    it('shows the incident the bot opened for the Alertmanager alert', async () => {
      // given: startDemo posted the captured Alertmanager message; the bot answers in its thread
      expect(demo.hosts).not.toBeNull();
      expect(demo.alertTs).toBeDefined();
      // when
      await page.goto(demo.url);
      // then
      await conversation()
        .locator('.attachment .att-title', {
          hasText: '[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical)',
        })
        .waitFor();
      await thread().locator('.bk-header', { hasText: 'HaproxyServerDown' }).waitFor({ timeout: 10_000 });
      await expect(page.locator('#hosts').getAttribute('class')).resolves.toContain('ready');
      // every shipped runbook is offered, the load balancer's first
      const listed = await page.locator('#runbooks li').allTextContents();
      expect(listed[0]).toBe('HaproxyServerDown');
      expect(listed).toEqual(
        expect.arrayContaining(['HaproxyBackendDown', 'HaproxyHasNoAliveBackends', 'HostClockSkew']),
      );
    });

    it('triages the first incident by itself: the likely cause and its button wait in the thread (#22)', async () => {
      // then: the one triage message, every read step judged, the cause named with the Drain button
      const triage = thread().locator('.message', { hasText: 'Likely cause' });
      await triage.waitFor({ timeout: 15_000 });
      const text = (await triage.textContent()) ?? '';
      expect(text).toMatch(/web2 itself is down or not listening on port \d+; HAProxy is fine/);
      expect(text).toMatch(/web2 DOWN — L4CON connection refused/);
      expect(text).toMatch(/config valid/);
      await expect(triage.getByRole('button', { name: 'Drain the server' }).count()).resolves.toBe(1);
    });

    it('"Backend state" runs on the loopback haproxy over SSH and finds web2 DOWN', async () => {
      // when
      await thread().getByRole('button', { name: 'Backend state', exact: true }).click();
      // then: the result replaces "running…" in the thread, from the real haproxy
      // (the triage message names web2 DOWN too; only the step's own table shows web1 UP)
      const result = thread().locator('.message', { hasText: /web1\s+UP/ });
      await result.waitFor({ timeout: 15_000 });
      expect(await result.textContent()).toMatch(/web1\s+UP/);
      expect((await demo.pilot.deps.store.listOpen())[0].steps['diagnosis-backend-state']).toMatchObject({
        state: 'ok',
        by: ONCALL.id,
      });
    });

    it('marks a checklist step done', async () => {
      // when
      await thread().getByRole('button', { name: 'Mark done' }).first().click();
      // then: the incident message shows the step done, by whom
      await thread().locator('.bk-section', { hasText: /done/ }).first().waitFor({ timeout: 10_000 });
      const done = Object.values((await demo.pilot.deps.store.listOpen())[0].steps).filter((s) => s.state === 'done');
      expect(done).toEqual([expect.objectContaining({ by: ONCALL.id })]);
    });

    it('confirms a Restart as a dry run in the modal: the thread shows what would run, nothing ran', async () => {
      // when: the on-call user (the page's default) opens the confirmation, gives a reason, ticks "Dry run"
      await thread().getByRole('button', { name: 'Restart HAProxy', exact: true }).click();
      const modal = page.locator('form.modal');
      await modal.waitFor({ timeout: 10_000 });
      await expect(modal.locator('.modal-title').textContent()).resolves.toBe('Confirm Restart HAProxy');
      await modal.getByLabel('Why? (recorded on the timeline)').fill('web2 is down; trying the demo');
      await modal.getByLabel('Dry run: show the commands, run nothing').check();
      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-modal.png') });
      await modal.getByRole('button', { name: 'Run' }).click();
      // then
      await modal.waitFor({ state: 'detached' });
      const dryRun = thread().locator('.message', { hasText: 'Dry run' });
      await dryRun.waitFor({ timeout: 10_000 });
      expect(await dryRun.textContent()).toContain('nothing ran');
      expect(await dryRun.textContent()).toContain('trying the demo');
      const incident = (await demo.pilot.deps.store.listOpen())[0];
      expect((await demo.pilot.deps.store.timeline(incident.id)).map((t) => t.type)).toContain('mitigation.dry-run');
      expect((await demo.pilot.deps.store.timeline(incident.id)).map((t) => t.type)).not.toContain(
        'mitigation.confirmed',
      );
    });

    it('/incident list links the thread to the alert on the page', async () => {
      // when
      await page.locator('#slash-text').fill('list');
      await page.getByRole('button', { name: 'Send' }).click();
      const answer = page.locator(`section[data-channel="${DEMO_CHANNEL}"] .message.ephemeral`, {
        hasText: 'Open incidents in this channel (1)',
      });
      await answer.waitFor({ timeout: 10_000 });
      await answer.getByRole('link', { name: 'thread' }).click();
      // then: a same-page anchor, not a Slack workspace that does not exist
      const hash = `#msg-${demo.alertTs?.replace('.', '-')}`;
      // A string, evaluated in the page: this project's TypeScript has no DOM types.
      await page.waitForFunction(`location.hash === ${JSON.stringify(hash)}`);
      await expect(page.locator('article:target').getAttribute('data-ts')).resolves.toBe(demo.alertTs);
    });

    it('renders without page errors; saves a screenshot', async () => {
      // The whole channel in one picture: the page scrolls inside <main>, so the viewport grows to fit it.
      const height = await page.locator('main').evaluate((el) => el.scrollHeight);
      await page.setViewportSize({ width: 1280, height: Math.min(height + 20, 4000) });
      await page.locator('main').evaluate((el) => el.scrollTo(0, 0));
      await page.screenshot({ path: SCREENSHOT });
      expect(pageErrors).toEqual([]);
    });
  },
  process.env,
  (name, fn) => describeWithHosts(name, () => fn()),
);
