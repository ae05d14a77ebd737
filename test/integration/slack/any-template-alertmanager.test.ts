/**
 * Issue #18 §4 and §5 with a real Alertmanager (Debian `prometheus-alertmanager`, on loopback): three HaproxyServerDown
 * alerts with plain annotations in one notification, rendered by published templates whose messages name no server
 * (test/support/published-templates.ts). §4: with `alertmanager.url`, the bot asks that Alertmanager's API v2 with what
 * the message gave and takes its alerts only when they explain the message exactly: one incident per alert, every
 * label, in the message's thread. §5: the Slack receiver and the webhook on the same route (both in one receiver
 * here), no `alertmanager.url`: with `alertmanager.slackMessageWaitSec`, the webhook's exact alerts and the Slack
 * message meet, in the Slack message's thread, whichever arrives first; the bot posts no alert message of its own.
 */
import { spawnSync } from 'node:child_process';
import type { Incident } from '../../../src/incident/types';
import { CHANNEL, type Harness, startHarness } from '../../support/pilot-harness';
import { waitFor } from '../../support/prom-stack';
import { TEMPLATES } from '../../support/published-templates';
import { haproxyAlert, withAlertmanager } from '../../support/real-alertmanager';
import { type SlackPayload, slackEventFromPayload } from '../../support/slack-envelope';
import type { SlackMessage } from '../../support/slack-standin';
import { templateFixtures } from '../../support/template-fixtures';

const haveAlertmanager = spawnSync(process.env.AM_BIN ?? 'prometheus-alertmanager', ['--version']).status === 0;
if (!haveAlertmanager) console.log('any-template tests: skipped: prometheus-alertmanager is not installed');
const describeAm = haveAlertmanager || process.env.RBP_REQUIRE_HOSTS === '1' ? describe : describe.skip;

jest.setTimeout(60_000);

const USED = ['default', 'govuk', 'cluster-alerting', 'prometheus-docs-range', 'kalisio-kargo'];
const three = ['web1', 'web2', 'web3'].map((server) =>
  haproxyAlert({ instance: '127.0.0.1:9101', backend: 'web', server }, { plain: true }),
);

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

async function threeIncidents(h: Harness): Promise<Incident[]> {
  return waitFor('three posted incidents', async () => {
    const open = await h.pilot.deps.store.listOpen();
    return open.length >= 3 && open.every((i) => i.messageTs) ? open : undefined;
  });
}

function expectExact(open: Incident[], threadTs: string): void {
  expect(open).toHaveLength(3);
  expect(open.map((i) => i.alert.labels).sort((a, b) => a.server.localeCompare(b.server))).toEqual(
    three.map((a) => a.labels),
  );
  for (const i of open) {
    expect(i.alert.missingLabels).toEqual([]);
    expect(i.threadTs).toBe(threadTs);
  }
}

describeAm('any template, exact with Alertmanager (real Alertmanager 0.25)', () => {
  it('the captured fixtures are what this Alertmanager renders (three alerts in one notification, firing)', async () => {
    const fixtures = templateFixtures();
    const captured = fixtures.map((t) =>
      t.messages.find((m) => m.scenario === 'grouped-three' && m.status === 'firing'),
    );
    await withAlertmanager(
      { amPort: 19393, capturePort: 19394, groupBy: ['alertname'], templates: TEMPLATES },
      async (am) => {
        const bodies = await am.fire(
          ['web1', 'web2', 'web3'].map((server) =>
            haproxyAlert({ instance: '127.0.0.1:9101', backend: 'web', server }),
          ),
        );
        fixtures.forEach((t, i) =>
          expect({ template: t.template, body: bodies[t.template] }).toEqual({
            template: t.template,
            body: captured[i]?.body,
          }),
        );
      },
    );
  });

  it('alertmanager.url: each template’s message becomes one exact incident per alert in its thread', async () => {
    await withAlertmanager(
      {
        amPort: 19393,
        capturePort: 19394,
        groupBy: ['alertname'],
        templates: TEMPLATES.filter((t) => USED.includes(t.id)),
      },
      async (am) => {
        const bodies = await am.fire(three);
        for (const id of USED) {
          const h = await startHarness({ config: { alertmanager: { url: am.url, timeoutMs: 2000 } } });
          try {
            const ts = await deliver(h, bodies[id] as SlackPayload);
            expectExact(await threeIncidents(h), ts);
          } finally {
            await h.stop();
          }
        }
      },
    );
  });

  it.each([
    ['the webhook first', 'webhook-first'],
    ['the Slack message first', 'slack-first'],
  ])('Slack receiver and webhook on one route, %s: they meet in the Slack thread', async (_name, order) => {
    await withAlertmanager(
      {
        amPort: 19393,
        capturePort: 19394,
        groupBy: ['alertname'],
        templates: TEMPLATES.filter((t) => t.id === 'govuk'),
      },
      async (am) => {
        const bodies = await am.fire(three);
        const h = await startHarness({ config: { alertmanager: { slackMessageWaitSec: 10 } } });
        try {
          let ts: string;
          if (order === 'webhook-first') {
            expect((await h.webhook(bodies.webhook)).status).toBe(202);
            await waitFor('three waiting incidents', async () =>
              (await h.pilot.deps.store.listOpen()).length === 3 ? true : undefined,
            );
            ts = await deliver(h, bodies.govuk as SlackPayload);
          } else {
            ts = await deliver(h, bodies.govuk as SlackPayload);
            expect((await h.webhook(bodies.webhook)).status).toBe(202);
          }
          expectExact(await threeIncidents(h), ts);
          // the bot posted no alert message of its own: every top-level message is Alertmanager's
          const own = h.slack.calls('chat.postMessage').filter((c) => !c.args.thread_ts);
          expect(own).toEqual([]);
        } finally {
          await h.stop();
        }
      },
    );
  });
});
