/**
 * Issue #18 §6: a partial reading (labels missing, or one incident standing for several alerts) of a notification
 * whose exact alerts already have incidents in the same thread is a delivery of those incidents: an edit of the alert
 * message (Alertmanager's update_message) or an update posted in its thread, never a new incident. A store in memory,
 * a recording fake presenter.
 */
import { stringify } from 'yaml';
import { parseConfigText } from '../../../src/config/load-config';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import type { Alert } from '../../../src/ingest/alert';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { createLogger } from '../../../src/logger';
import { AlertFlow } from '../../../src/slack/alert-flow';
import type { IncidentPresenter } from '../../../src/slack/incident-presenter';

const CHANNEL = 'C0123ALERTS';
const THREAD = { channel: CHANNEL, threadTs: '1732540800.000100' };
const exact = (server: string): Alert => {
  const labels = { alertname: 'HaproxyServerDown', backend: 'web', instance: '127.0.0.1:9101', job: 'haproxy', server };
  return {
    alertname: 'HaproxyServerDown',
    status: 'firing',
    labels,
    annotations: {},
    fingerprint: labelsFingerprint(labels),
    source: 'alertmanager-template',
    missingLabels: [],
  };
};
const partial = (status: Alert['status'], groupSize: number): Alert => {
  const labels = { alertname: 'HaproxyServerDown', backend: 'web', instance: '127.0.0.1:9101', job: 'haproxy' };
  return {
    alertname: 'HaproxyServerDown',
    status,
    labels,
    annotations: {},
    fingerprint: labelsFingerprint(labels),
    source: 'alertmanager-slack',
    missingLabels: ['server'],
    groupSize,
    standsFor: groupSize,
  };
};

function setup(slackMessageWaitSec = 0) {
  const store = new SqliteIncidentStore(':memory:');
  const config = parseConfigText(
    stringify({
      slack: { channels: [CHANNEL], stillFiringIntervalSec: 600 },
      alertmanager: { token: 't', slackMessageWaitSec },
    }),
    'test.yml',
  );
  let seq = 0;
  const replies: Array<{ incidentId: number }> = [];
  const announced: string[] = [];
  const presenter = {
    announce: async () => {
      const ts = `100.${++seq}`;
      announced.push(ts);
      return ts;
    },
    post: async (incident: Incident) => store.update(incident.id, { messageTs: `200.${++seq}` }),
    reply: async (incident: Incident) => {
      replies.push({ incidentId: incident.id });
      return `300.${++seq}`;
    },
    refresh: async () => undefined,
    forget: () => undefined,
  } as unknown as IncidentPresenter;
  const flow = new AlertFlow(
    {
      config,
      store,
      runbooks: { get: () => undefined, action: () => undefined },
      logger: createLogger('silent'),
      now: () => new Date('2026-12-06T10:00:00Z'),
    },
    presenter,
  );
  return { store, flow, replies, announced };
}

describe('AlertFlow: a partial reading of alerts already open in its thread (#18 §6)', () => {
  it('an edit [FIRING:2] → [FIRING:3] read partially opens no incident beside the exact ones', async () => {
    const { store, flow } = setup();
    // given the first version read exactly (two incidents in the message's thread)
    for (const s of ['web1', 'web2', 'web3']) await flow.fromSlack(exact(s), THREAD);
    // when the edited message is read without the differing label
    await flow.fromSlack(partial('firing', 3), THREAD);
    // then it is those incidents' delivery: no incident for the partial labels
    const open = await store.listOpen();
    expect(open.map((i) => i.alert.labels.server).sort()).toEqual(['web1', 'web2', 'web3']);
    for (const i of open) expect((await store.timeline(i.id)).map((e) => e.type)).toContain('alert.repeated');
  });

  it('a resolved edit read partially resolves the incidents it stands for in that thread', async () => {
    const { store, flow } = setup();
    for (const s of ['web1', 'web2']) await flow.fromSlack(exact(s), THREAD);
    await flow.fromSlack(partial('resolved', 1), THREAD);
    expect(await store.listOpen()).toEqual([]);
  });

  it('in another thread, or where no incident carries its labels, the partial reading is an incident of its own', async () => {
    const { store, flow } = setup();
    await flow.fromSlack(exact('web1'), THREAD);
    await flow.fromSlack(partial('firing', 3), { channel: CHANNEL, threadTs: '1732540900.000100' });
    const open = await store.listOpen();
    expect(open).toHaveLength(2);
    expect(open.find((i) => i.alert.missingLabels.includes('server'))?.threadTs).toBe('1732540900.000100');
  });
});

describe('AlertFlow: the webhook and the Slack message of one notification meet (#18 §5)', () => {
  const webhook = (server: string): Alert => ({ ...exact(server), source: 'webhook' });
  const three = ['web1', 'web2', 'web3'];
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  async function posted(store: SqliteIncidentStore) {
    const open = await store.listOpen();
    return open.map((i) => ({
      server: i.alert.labels.server,
      threadTs: i.threadTs,
      posted: i.messageTs !== undefined,
    }));
  }

  it('webhook first: its exact alerts wait, and the partial Slack message posts them in its thread', async () => {
    const { store, flow, announced } = setup(30);
    for (const s of three) await flow.fromWebhook(webhook(s));
    expect((await posted(store)).every((i) => !i.posted)).toBe(true);
    await flow.fromSlack(partial('firing', 3), THREAD);
    expect(await posted(store)).toEqual(three.map((server) => ({ server, threadTs: THREAD.threadTs, posted: true })));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(announced).toEqual([]);
    expect(await store.listOpen()).toHaveLength(3);
  });

  it('Slack message first: the partial reading waits, the webhook alerts open in its thread, it opens nothing', async () => {
    const { store, flow, announced } = setup(30);
    await flow.fromSlack(partial('firing', 3), THREAD);
    expect(await store.listOpen()).toEqual([]);
    for (const s of three) await flow.fromWebhook(webhook(s));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(await posted(store)).toEqual(three.map((server) => ({ server, threadTs: THREAD.threadTs, posted: true })));
    expect(announced).toEqual([]);
  });

  it('an exact Slack alert posts its waiting webhook twin in its thread', async () => {
    const { store, flow, announced } = setup(30);
    await flow.fromWebhook(webhook('web1'));
    await flow.fromSlack(exact('web1'), THREAD);
    expect(await posted(store)).toEqual([{ server: 'web1', threadTs: THREAD.threadTs, posted: true }]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(announced).toEqual([]);
  });

  it('alone, each goes on after the wait: the webhook alert announced by the bot, the partial reading opened', async () => {
    const { store, flow, announced } = setup(30);
    await flow.fromWebhook(webhook('web1'));
    await flow.fromSlack(partial('firing', 3), { channel: CHANNEL, threadTs: '1732541000.000100' });
    // (the partial reading does not stand for web1 alone: [FIRING:3] counts three)
    await jest.advanceTimersByTimeAsync(29_000);
    expect(announced).toEqual([]);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(announced).toHaveLength(1);
    const open = await posted(store);
    expect(open).toHaveLength(2);
    expect(open.every((i) => i.posted)).toBe(true);
  });

  it('at stop, a partial reading still waiting stands alone at once (it exists only in this process)', async () => {
    const { store, flow } = setup(30);
    await flow.fromSlack(partial('firing', 3), THREAD);
    expect(await store.listOpen()).toEqual([]);
    await flow.flushMeeting();
    const [only, ...rest] = await store.listOpen();
    expect(rest).toEqual([]);
    expect(only.threadTs).toBe(THREAD.threadTs);
    expect(only.alert.missingLabels).toEqual(['server']);
  });

  it('without the wait (default), a webhook alert is announced at once', async () => {
    const { flow, announced } = setup(0);
    await flow.fromWebhook(webhook('web1'));
    expect(announced).toHaveLength(1);
  });
});
