/**
 * Issue #13 §3 through real bot processes: two or three replicas (test/support/replicas.ts) on one Postgres database
 * (a fresh one per test), behind the Slack stand-in's load balancer and Alertmanager's webhook through the same.
 *
 * 1. An alert storm spread over the replicas, each alert sent both as the webhook and as the Slack message, to
 *    different replicas: exactly one incident and one incident message per alert.
 * 2. Two confirmed restarts of one host submitted to two replicas at the same moment restart haproxy once.
 * 3. `kill -9` of the replica running a long step: the timeline is complete and the step ends `interrupted`.
 * 4. A rolling restart of every replica during a storm loses no alert.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore, type PostgresIncidentStore } from '../../../src/incident/postgres-store';
import { maxInWindow, type PairedAlert, pairedAlert } from '../../support/alert-storm';
import { describeWithDatastores, freshDatabase, redisUrl } from '../../support/datastores';
import { endLongSleeps, FaultSteps, faultReadActions, writeFaultRunbooks } from '../../support/fault-runbooks';
import { restoreWeb2 } from '../../support/haproxy-runtime';
import { CHANNEL, ONCALL, SRE_GROUP, slackFixture } from '../../support/pilot-harness';
import { type ReplicaSet, startReplicas } from '../../support/replicas';
import { type RecordedCall, type SlackMessage, SlackStandIn } from '../../support/slack-standin';
import { holdPart } from '../../support/suite-lock';
import { describeWithHosts, type TestHosts, testHostConfig } from '../../support/test-hosts';

const REPO = join(__dirname, '..', '..', '..');

/** The channel pace every replica is given; shared (limits.redis.url), the channel as a whole must keep it. */
const PACE = { postsPerSecond: 10, postBurst: 5 };

/** Whether a call is an incident message (the one with the step buttons), not a reply or an alert announcement. */
const isIncidentMessage = (c: RecordedCall) =>
  c.method === 'chat.postMessage' &&
  c.status === 200 &&
  typeof c.args.thread_ts === 'string' &&
  JSON.stringify(c.args.blocks ?? '').includes('step.');

describeWithDatastores('several bot replicas (#13 §3)', () => {
  describeWithHosts('real processes', (hosts: TestHosts) => {
    let dir: string;
    let slack: SlackStandIn;
    let db: { url: string; drop(): Promise<void> };
    let set: ReplicaSet | undefined;
    let reader: PostgresIncidentStore;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rbp-replicas-'));
      db = await freshDatabase('replicas');
      reader = await openPostgresStore(db.url, { poolSize: 2 });
      slack = new SlackStandIn({ channels: { [CHANNEL]: 'incidents' }, usergroups: { [SRE_GROUP]: [ONCALL] } });
      await slack.start();
    });
    afterEach(async () => {
      const running = set;
      set = undefined;
      try {
        running?.assertNoCrash();
      } finally {
        await running?.stop();
        await reader.close();
        await slack.stop();
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    /** The config every replica shares: the one database, the channel, the repo's runbooks. */
    function replicaConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
      return {
        slack: { channels: [CHANNEL], stillFiringIntervalSec: 3600, ...PACE },
        runbooks: join(REPO, 'runbooks'),
        store: { url: db.url },
        access: { mitigate: [SRE_GROUP] },
        // the limits the replicas share, under a prefix of this test's own
        limits: { redis: { url: redisUrl(), prefix: `rbp-test-${db.url.split('/').pop()}` } },
        ...extra,
      };
    }

    /** Delivers alert i as the Slack message (to the replica the balancer picks) and as the webhook (to another). */
    async function sendBoth(alert: PairedAlert, replicas: number): Promise<{ slack: number; webhook: number }> {
      const posted = await slack.postAlertMessage(CHANNEL, alert.slack);
      expect(posted.status).toBe(200);
      const slackReplica = set!.balancer.indexOf(posted.url?.replace('/slack/events', ''));
      const hook = await set!.webhook(alert.webhook, { startAt: (slackReplica + 1) % replicas });
      expect(hook.status).toBe(202);
      return { slack: slackReplica, webhook: hook.replica };
    }

    it('an alert storm over three replicas opens one incident and one incident message per alert, within the channel pace', async () => {
      // given three replicas on one database
      set = await startReplicas({ count: 3, slack, dir, config: replicaConfig() });
      const alerts = Array.from({ length: 30 }, (_, i) => pairedAlert(i));

      // when every alert arrives twice, as the Slack message and as the webhook, at two different replicas
      const routes: Array<{ slack: number; webhook: number }> = [];
      for (let i = 0; i < alerts.length; i += 10)
        routes.push(...(await Promise.all(alerts.slice(i, i + 10).map((a) => sendBoth(a, 3)))));
      expect(routes.every((r) => r.slack !== r.webhook && r.slack >= 0 && r.webhook >= 0)).toBe(true);
      expect(new Set(routes.map((r) => r.slack)).size).toBe(3);

      // then exactly one incident per alert, each shown
      await set.until(
        'an incident message for every alert',
        async () => (await reader.listOpen()).filter((i) => i.messageTs).length >= alerts.length,
        45_000,
      );
      const open = await reader.listOpen();
      expect(open).toHaveLength(alerts.length);
      expect(new Set(open.map((i) => `${i.alert.labels.backend}/${i.alert.labels.server}`))).toEqual(
        new Set(alerts.map((a) => a.key)),
      );

      // and one incident message per alert: no replica posts a second one, even a little later. Every delivery has
      // reached an alert flow (its timeline row: fired or repeated) and no replica has any alert's work left: what
      // they were going to post for these deliveries has been posted.
      await set.until(
        'every delivery handled',
        async () => {
          let rows = 0;
          for (const i of await reader.listOpen())
            rows += (await reader.timeline(i.id)).filter(
              (e) => e.type === 'alert.fired' || e.type === 'alert.repeated',
            ).length;
          return rows >= 2 * alerts.length && (await set?.alertsHandled());
        },
        30_000,
      );
      const shown = slack.calls().filter(isIncidentMessage);
      expect(shown).toHaveLength(alerts.length);
      expect(new Set(shown.map((c) => c.args.thread_ts)).size).toBe(alerts.length);
      expect(new Set(shown.map((c) => (c.response as { ts: string }).ts))).toEqual(
        new Set(open.map((i) => i.messageTs)),
      );

      // and all the replicas' posts together kept the channel's pace: the burst, then one a tick. The stand-in sees
      // when posts arrive, not when the shared bucket granted them: three processes on a busy machine may each hold
      // a granted post a little (over 200 ms was seen with three test files running beside them; 400 ms is allowed),
      // so a window may catch as many more as the pace grants in that time. Replicas pacing themselves alone would post
      // up to three times the bound.
      const posts = slack.calls('chat.postMessage').filter((c) => c.status === 200 && c.args.channel === CHANNEL);
      expect(posts.length).toBeGreaterThanOrEqual(alerts.length);
      const times = posts.map((c) => c.at);
      const jitter = Math.ceil(0.4 * PACE.postsPerSecond);
      expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(PACE.postBurst + PACE.postsPerSecond + jitter);
      expect(maxInWindow(times, 5000)).toBeLessThanOrEqual(PACE.postBurst + 5 * PACE.postsPerSecond + jitter);
    }, 60_000);

    it('two confirmed restarts of one host submitted to two replicas at once restart haproxy once', async () => {
      // The one test of this file that restarts the shared haproxy: it alone holds it (suite-lock.ts), so the files
      // that read it wait for this test, not for the whole file.
      const releaseLb = await holdPart('lb', 'exclusive');
      const lb = testHostConfig(hosts);
      const pidFile = hosts.haproxy.pidFile;
      const pid = () => Number(readFileSync(pidFile, 'utf8').trim());
      set = await startReplicas({
        count: 2,
        slack,
        dir,
        config: replicaConfig({ hosts: [lb], mitigation: { verifyDelayMs: 300, cooldownSec: 300 } }),
      });
      try {
        // given an incident on the loopback haproxy, and two modals open (each opened by the replica that took the click)
        const fixture = slackFixture('single.slack-default.firing.event.json');
        const { ts: _t, channel: _c, event_ts: _e, ...fields } = fixture as SlackMessage & { event_ts?: string };
        const alert = await slack.postAlertMessage(CHANNEL, fields);
        const shown = await slack.waitFor(
          'chat.postMessage',
          (c) => isIncidentMessage(c) && c.args.thread_ts === alert.ts,
          15_000,
        );
        const messageTs = (shown.response as { ts: string }).ts;
        const clicks = [];
        for (let i = 0; i < 2; i++)
          clicks.push(
            await slack.clickButton({
              user: ONCALL,
              channel: CHANNEL,
              messageTs,
              actionId: 'step.run:mitigation-1:restart',
            }),
          );
        expect(clicks.map((c) => c.status)).toEqual([200, 200]);
        await set.until('two modals', () => slack.calls('views.open').filter((c) => c.status === 200).length === 2);
        const before = pid();

        // when both are submitted at the same moment, to two different replicas
        const values = {
          reason: { reason: { type: 'plain_text_input', value: 'both of us clicked' } },
          options: { options: { type: 'checkboxes', selected_options: [] } },
        };
        const viewIds = slack.calls('views.open').map((c) => (c.response as { view: { id: string } }).view.id);
        const submitted = await Promise.all(
          viewIds.map((viewId) => slack.submitView({ user: ONCALL, viewId, values })),
        );
        expect(submitted.map((s) => s.status)).toEqual([200, 200]);
        expect(new Set(submitted.map((s) => s.url)).size).toBe(2);

        // then haproxy restarted once: one verified restart, one refusal, the pid read back changed once
        // the mitigation's one reply says verified (its output first, the verdict edited in)
        const verified = await slack.waitFor(
          '*',
          (c) =>
            (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
            /Restart HAProxy on lb-test: verified, /.test(String(c.args.text ?? '')),
          30_000,
        );
        // and the other its refusal: both submissions have given their last answer (each ends with one audit row)
        await slack.waitFor(
          'chat.postMessage',
          (c) => /\* on `lb-test` blocked \(<@/.test(JSON.stringify(c.args.blocks ?? '')),
          30_000,
        );
        await set.until('the second submission answered', async () =>
          (await reader.audits({ host: 'lb-test' })).length >= 2 ? true : undefined,
        );
        const audit = await reader.audits({ host: 'lb-test' });
        expect(audit.filter((a) => a.outcome === 'ok')).toHaveLength(1);
        expect(audit.filter((a) => a.outcome === 'refused')).toHaveLength(1);
        expect(
          slack
            .calls()
            .filter(
              (c) =>
                (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
                /Restart HAProxy on lb-test: verified/.test(String(c.args.text)),
            ),
        ).toHaveLength(1);
        const after = pid();
        expect(after).not.toBe(before);
        // the pid the bot read back is the one running now, and it replaced the one from before: one restart
        expect(JSON.stringify(verified.args.blocks)).toContain(`new process pid ${after} (was ${before})`);
      } finally {
        await restoreWeb2(hosts);
        await releaseLb();
      }
    }, 600_000);

    it('kill -9 of the replica running a long step: another replica records it interrupted, the timeline complete', async () => {
      // given two replicas whose step leases hold 2 s, renewed every half second, and a step that runs for 48 s
      set = await startReplicas({
        count: 2,
        slack,
        dir,
        config: replicaConfig({
          hosts: [testHostConfig(hosts)],
          runbooks: writeFaultRunbooks(dir),
          mitigation: { readActions: faultReadActions() },
          replicas: { leaseSec: 2, heartbeatSec: 0.5 },
        }),
      });
      const fixture = slackFixture('single.slack-default.firing.event.json');
      const { ts: _t, channel: _c, event_ts: _e, ...fields } = fixture as SlackMessage & { event_ts?: string };
      const alert = await slack.postAlertMessage(CHANNEL, fields);
      const shown = await slack.waitFor(
        'chat.postMessage',
        (c) => isIncidentMessage(c) && c.args.thread_ts === alert.ts,
        15_000,
      );
      const click = await slack.clickButton({
        user: ONCALL,
        channel: CHANNEL,
        messageTs: (shown.response as { ts: string }).ts,
        actionId: `step.run:${FaultSteps.long.stepId}:${FaultSteps.long.actionId}`,
      });
      expect(click.status).toBe(200);
      await slack.waitFor('chat.postMessage', (c) => String(c.args.text) === 'Long step: running', 15_000);
      const [incident] = await reader.listOpen();
      await set.until('the step running in the store', async () =>
        (await reader.get(incident.id))?.steps[FaultSteps.long.stepId]?.state === 'running' ? true : undefined,
      );

      // when the replica that took the click (and runs the step) is killed
      const victim = set.balancer.indexOf(click.url?.replace('/slack/events', ''));
      expect(victim).toBeGreaterThanOrEqual(0);
      const killedAt = Date.now();
      set.replicas[victim].kill('SIGKILL');
      expect((await set.replicas[victim].exited).signal).toBe('SIGKILL');

      // then the other replica records the step interrupted within the lease and a few heartbeats
      const interrupted = await set.until(
        'the step recorded interrupted',
        async () => (await reader.timeline(incident.id)).find((e) => e.type === 'step.interrupted'),
        20_000,
      );
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect(interrupted.details).toMatchObject({ stepId: FaultSteps.long.stepId, ran: true });
      const { owner, recordedBy } = interrupted.details as { owner?: string; recordedBy?: string };
      expect(owner).toEqual(expect.any(String));
      expect(recordedBy).toEqual(expect.any(String));
      expect(recordedBy).not.toBe(owner);
      // the timeline is complete: the alert, the start of the step, its end, and nothing left running
      const types = (await reader.timeline(incident.id)).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['alert.fired', 'step.started', 'step.interrupted']));
      expect(types.indexOf('step.started')).toBeLessThan(types.indexOf('step.interrupted'));
      expect(types.filter((t) => t === 'step.interrupted')).toHaveLength(1);
      expect(types).not.toContain('step.finished');
      expect((await reader.get(incident.id))?.steps[FaultSteps.long.stepId]).toMatchObject({
        state: 'failed',
        error: expect.stringMatching(/^interrupted/),
      });
      // and the incident message says so (updated by the replica still alive)
      await slack.waitFor(
        'chat.update',
        (c) =>
          c.args.ts === (shown.response as { ts: string }).ts &&
          /failed `long-step`: interrupted/.test(JSON.stringify(c.args.blocks ?? '')),
        10_000,
      );
      // the killed replica could not end its command on the host: end it, or the next test would meet it
      endLongSleeps(hosts.ssh.user);
    }, 60_000);

    it('a rolling restart of every replica during an alert storm loses no alert', async () => {
      set = await startReplicas({
        count: 2,
        slack,
        dir,
        config: replicaConfig({
          slack: { channels: [CHANNEL], stillFiringIntervalSec: 3600, postsPerSecond: 50, postBurst: 50 },
        }),
      });
      const replicas = set;
      // given a storm: each alert sent once, by one path (the Slack message, then the webhook, in turn), a few a
      // second, from before the first stop until after the last start
      const sent: PairedAlert[] = [];
      let restarting = true;
      const storm = (async () => {
        const statuses: number[] = [];
        for (let i = 0; (restarting || i < 20) && i < 200; i += 2) {
          const [viaSlack, viaWebhook] = [pairedAlert(i), pairedAlert(i + 1)];
          sent.push(viaSlack, viaWebhook);
          const answers = await Promise.all([
            slack.postAlertMessage(CHANNEL, viaSlack.slack),
            replicas.webhook(viaWebhook.webhook),
          ]);
          statuses.push(...answers.map((a) => a.status));
          await new Promise((r) => setTimeout(r, 150));
        }
        return statuses;
      })();

      // when every replica in turn is stopped (SIGTERM), waited for and started again, while the storm goes on: a few
      // alerts sent before each stop, and after the last start
      const stormGoesOn = (more: number) => {
        const from = sent.length;
        return replicas.until(`${more} more alerts sent`, () => sent.length >= from + more, 10_000);
      };
      const exits = [];
      for (let i = 0; i < replicas.replicas.length; i++) {
        await stormGoesOn(4);
        exits.push(await replicas.restart(i));
      }
      await stormGoesOn(4);
      restarting = false;
      const statuses = await storm;

      // then every stop was orderly, the storm did meet stopped replicas (the balancer skipped them), every alert was
      // taken, and every alert has its incident
      expect(exits.map((e) => e.code)).toEqual(replicas.replicas.map(() => 0));
      expect((slack.loadBalancer?.refused ?? 0) + replicas.balancer.refused).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 200 && s !== 202)).toEqual([]);
      await replicas.until(
        'an incident for every alert',
        async () => (await reader.listOpen()).filter((i) => i.messageTs).length >= sent.length,
        30_000,
      );
      const open = await reader.listOpen();
      expect(new Set(open.map((i) => `${i.alert.labels.backend}/${i.alert.labels.server}`))).toEqual(
        new Set(sent.map((a) => a.key)),
      );
      expect(open).toHaveLength(sent.length);
    }, 60_000);
  });
});
