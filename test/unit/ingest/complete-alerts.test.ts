/**
 * Completing a default-template message: from Alertmanager's API (fakes here, the real one in
 * test/integration/observe/grouping.test.ts), from open incidents, or not at all. The alerts are the captured
 * webhook ones: Alertmanager's answer to /api/v2/alerts carries the same labels, annotations and fingerprint.
 */
import type { Alert } from '../../../src/ingest/alert';
import { completeAlert, type HeldAlert } from '../../../src/ingest/complete-alerts';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { matchNotification, matchNotificationGroup, renderSubjectBody } from '../../../src/ingest/match-notification';
import { parseSlackAlertMessage } from '../../../src/ingest/parse-slack-alert';
import { createLogger } from '../../../src/logger';
import { AlertmanagerClient } from '../../../src/observe/alertmanager-client';
import { startHttpStub } from '../observe/http-stub';
import { HAPROXY_LABEL_NAMES, loadFixture, webhookAlerts } from './fixtures';

const logger = createLogger('silent');
const opts = { labelNames: () => HAPROXY_LABEL_NAMES, knownAlert: (a: string) => a === 'HaproxyServerDown' };
const held = (scenario: string): HeldAlert[] =>
  webhookAlerts(scenario, 'firing').map(({ labels, annotations, startsAt, fingerprint, generatorURL }) => ({
    labels,
    annotations,
    startsAt,
    fingerprint,
    generatorURL,
  }));
const slackAlert = (file: string): Alert => {
  const parsed = parseSlackAlertMessage(loadFixture('slack', file), opts);
  if (!parsed) throw new Error(`${file} did not parse`);
  return parsed.alerts[0];
};

describe('matchNotification', () => {
  const title = (scenario: string, status = 'firing') =>
    loadFixture<{ attachments: Array<{ title: string }> }>('alertmanager', `${scenario}.slack-default.${status}.json`)
      .attachments[0].title;

  it('finds the two alerts of the captured grouped notification among others', () => {
    // (a third server down in the same group would have been in the notification: others differ in the group key)
    const others: Array<{ labels: Record<string, string> }> = [
      { labels: { ...held('single')[0].labels, alertname: 'HaproxyBackendDown' } },
      { labels: { alertname: 'Other', instance: 'lb-1:9101' } },
    ];
    const found = matchNotification(title('grouped'), [...held('grouped'), ...others]);
    expect(found?.map((a) => a.labels.instance).sort()).toEqual(['127.0.0.1:9101', 'lb-1:9101']);
  });

  it('finds the one alert of a by-instance notification, and renders what Alertmanager sent', () => {
    const candidates = held('grouped');
    expect(matchNotification(title('by-instance'), candidates)?.map((a) => a.labels.instance)).toEqual(['lb-1:9101']);
    expect(`[FIRING:1] ${renderSubjectBody(held('by-instance'), ['alertname', 'instance'])}`).toBe(
      title('by-instance'),
    );
  });

  it('names nothing when no group renders the title, or when two different sets do', () => {
    expect(matchNotification(title('grouped'), held('single'))).toBeUndefined();
    // Two alerts that render the same `...` title under different names: the title cannot say which.
    const a = { labels: { alertname: 'A', x: 'v' } };
    const b = { labels: { alertname: 'A', y: 'v' } };
    expect(matchNotification('[FIRING:1] A v ', [a, b])).toBeUndefined();
    expect(matchNotification('[FIRING:1] A v ', [a])).toEqual([a]);
    expect(matchNotification('[FIRING:1] A (v)', [a])).toEqual([a]);
    expect(matchNotification('not a title', [a])).toBeUndefined();
  });
});

describe('a [RESOLVED] title naming only the last of a group', () => {
  // Backend api's three servers were down; api1 and api2 came back first, so Alertmanager notified their resolution
  // inside `[FIRING:N]` messages and dropped them from the group: the `[RESOLVED]` message renders api3 alone.
  const labels = (server: string) => ({
    alertname: 'HaproxyServerDown',
    backend: 'api',
    instance: '127.0.0.1:19101',
    job: 'haproxy',
    server,
    severity: 'critical',
  });
  const asAlert = (l: Record<string, string>): Alert => ({
    alertname: l.alertname,
    status: 'firing',
    labels: l,
    annotations: {},
    fingerprint: labelsFingerprint(l),
    source: 'webhook',
    missingLabels: [],
  });
  const open = ['api1', 'api2', 'api3'].map((s) => asAlert(labels(s)));
  const web2 = asAlert({ ...labels('web2'), backend: 'web' });
  const lastOne = `[RESOLVED] ${renderSubjectBody([open[2]], ['alertname', 'backend'])}`;
  const resolvedMessage = (title: string): Alert => ({
    ...asAlert({ alertname: 'HaproxyServerDown' }),
    status: 'resolved',
    source: 'alertmanager-slack',
    subject: title,
  });
  const heldOf = (alerts: Alert[]): HeldAlert[] =>
    alerts.map((a) => ({ labels: a.labels, annotations: {}, startsAt: '', fingerprint: a.fingerprint }));

  it('names that part, within its whole group', () => {
    expect(lastOne).toBe('[RESOLVED] HaproxyServerDown api (127.0.0.1:19101 haproxy api3 critical)');
    const one = matchNotificationGroup(lastOne, [...open, web2]);
    expect(one?.named.map((a) => a.labels.server)).toEqual(['api3']);
    expect(one?.group.map((a) => a.labels.server)).toEqual(['api1', 'api2', 'api3']);
    const two = matchNotificationGroup(`[RESOLVED] ${renderSubjectBody(open.slice(1), ['alertname', 'backend'])}`, [
      ...open,
      web2,
    ]);
    // api2+api3 share what api1..api3 share: the title cannot tell them from the whole group
    expect(two?.named.map((a) => a.labels.server)).toEqual(['api1', 'api2', 'api3']);
  });

  it('a firing title still names exactly its alerts, never part of a group', () => {
    expect(matchNotification(lastOne.replace('[RESOLVED]', '[FIRING:1]'), [...open, web2])).toBeUndefined();
  });

  it('names nothing when the part could belong to two groups', () => {
    // `A v (w)` is a1 alone grouped by [alertname, x], or b1 alone grouped by [alertname, y]
    const a1 = { labels: { alertname: 'A', x: 'v', z: 'w' } };
    const a2 = { labels: { alertname: 'A', x: 'v', z: 'q' } };
    const b1 = { labels: { alertname: 'A', y: 'v', z: 'w' } };
    const b2 = { labels: { alertname: 'A', y: 'v', z: 'q' } };
    expect(matchNotification('[RESOLVED] A v (w)', [a1, a2, b1, b2])).toBeUndefined();
    expect(matchNotificationGroup('[RESOLVED] A v (w)', [a1, a2])).toEqual({ named: [a1], group: [a1, a2] });
  });

  it('closes the others of the group only when Alertmanager no longer holds them', async () => {
    // given api1 resolved unseen, api2 still held by Alertmanager (another route kept it out of this group)
    const listAlerts = jest.fn(async (_: Record<string, string>) => heldOf([open[1]]));
    const done = await completeAlert(resolvedMessage(lastOne), {
      openAlerts: async () => [...open, web2],
      listAlerts,
      logger,
    });
    expect(done.via).toBe('open-incidents');
    expect(done.alerts.map((a) => [a.status, a.labels.server])).toEqual([
      ['resolved', 'api3'],
      ['resolved', 'api1'],
    ]);
    // asked for the group only: what its alerts share
    expect(listAlerts).toHaveBeenCalledWith({
      alertname: 'HaproxyServerDown',
      backend: 'api',
      instance: '127.0.0.1:19101',
      job: 'haproxy',
      severity: 'critical',
    });
  });

  it('without Alertmanager, or when it fails, closes only what the title names', async () => {
    const alone = await completeAlert(resolvedMessage(lastOne), { openAlerts: async () => [...open, web2], logger });
    expect(alone.alerts.map((a) => a.labels.server)).toEqual(['api3']);
    const failing = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    const down = await completeAlert(resolvedMessage(lastOne), {
      openAlerts: async () => [...open, web2],
      listAlerts: failing,
      logger,
    });
    expect(down.alerts.map((a) => a.labels.server)).toEqual(['api3']);
  });
});

describe('completeAlert', () => {
  const openNone = async () => [] as Alert[];

  it('with Alertmanager: one alert per alert of the grouped notification, with everything Alertmanager holds', async () => {
    // given the grouped default-template message (values only, `instance` differs) and Alertmanager's alerts
    const read = slackAlert('grouped.slack-default.firing.event.json');
    expect(read.missingLabels).toEqual(['instance']);
    const asked: Array<Record<string, string>> = [];
    const learned: string[] = [];
    // when
    const done = await completeAlert(read, {
      listAlerts: async (labels) => {
        asked.push(labels);
        return held('grouped');
      },
      openAlerts: openNone,
      learn: (l) => learned.push(l.instance),
      logger,
    });
    // then Alertmanager was asked with what the message gave, and each alert is complete with its fingerprint
    expect(asked).toEqual([
      { alertname: 'HaproxyServerDown', backend: 'web', job: 'haproxy', server: 'web2', severity: 'critical' },
    ]);
    expect(done.via).toBe('alertmanager');
    const truth = webhookAlerts('grouped', 'firing');
    expect(done.alerts).toEqual(
      truth.map((w) =>
        expect.objectContaining({
          labels: w.labels,
          annotations: w.annotations,
          startsAt: w.startsAt,
          generatorURL: w.generatorURL,
          fingerprint: w.fingerprint,
          missingLabels: [],
          groupSize: 2,
          status: 'firing',
        }),
      ),
    );
    expect(learned.sort()).toEqual(['127.0.0.1:9101', 'lb-1:9101']);
  });

  it('an Alertmanager that fails or holds nothing that fits: the message’s own reading stands', async () => {
    const read = slackAlert('grouped.slack-default.firing.event.json');
    const failing = await completeAlert(read, {
      listAlerts: () => Promise.reject(new Error('ECONNREFUSED')),
      openAlerts: openNone,
      logger,
    });
    expect(failing).toEqual({ via: 'message', alerts: [read] });
    const unrelated = await completeAlert(read, {
      listAlerts: async () => held('single'),
      openAlerts: openNone,
      logger,
    });
    expect(unrelated).toEqual({ via: 'message', alerts: [read] });
  });

  it('an unreachable Alertmanager costs at most its timeout', async () => {
    // given an Alertmanager that accepts the connection and never answers, with a 300 ms timeout
    const stub = await startHttpStub(() => undefined);
    try {
      const client = new AlertmanagerClient({ url: stub.url, timeoutMs: 300 });
      const read = slackAlert('grouped.slack-default.firing.event.json');
      const started = Date.now();
      // when
      const done = await completeAlert(read, { listAlerts: (l) => client.listAlerts(l), openAlerts: openNone, logger });
      // then
      const took = Date.now() - started;
      expect(done.via).toBe('message');
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(1500);
    } finally {
      await stub.close();
    }
  });

  it('a complete single alert is left alone without Alertmanager, and given its annotations with it', async () => {
    const read = slackAlert('by-instance.slack-default.firing.event.json');
    const openAlerts = jest.fn(openNone);
    expect(await completeAlert(read, { openAlerts, logger })).toEqual({ via: 'message', alerts: [read] });
    expect(openAlerts).not.toHaveBeenCalled();
    const done = await completeAlert(read, { listAlerts: async () => held('by-instance'), openAlerts, logger });
    const truth = webhookAlerts('by-instance', 'firing')[0];
    expect(done).toMatchObject({
      via: 'alertmanager',
      alerts: [
        {
          labels: truth.labels,
          annotations: truth.annotations,
          fingerprint: truth.fingerprint,
          startsAt: truth.startsAt,
        },
      ],
    });
  });

  it('a resolved grouped message closes exactly the open incidents it names', async () => {
    // given open incidents for both alerts of the group and one for another server
    const open: Alert[] = [
      ...held('grouped'),
      { ...held('grouped')[0], labels: { ...held('grouped')[0].labels, server: 'web7' } },
    ].map((h) => ({
      alertname: 'HaproxyServerDown',
      status: 'firing',
      labels: h.labels,
      annotations: h.annotations,
      fingerprint: h.fingerprint,
      source: 'webhook',
      missingLabels: [],
    }));
    const read = slackAlert('grouped.slack-default.resolved.event.json');
    // when
    const done = await completeAlert(read, { openAlerts: async () => open, logger });
    // then
    expect(done.via).toBe('open-incidents');
    expect(done.alerts.map((a) => [a.status, a.labels.instance, a.labels.server])).toEqual([
      ['resolved', '127.0.0.1:9101', 'web2'],
      ['resolved', 'lb-1:9101', 'web2'],
    ]);
  });
});
