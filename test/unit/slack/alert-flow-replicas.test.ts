/**
 * Issue #13 §2: the same alert reaching two replicas posts one incident message. Two AlertFlows (two replicas) over
 * one store, a recording fake presenter and a fake clock: the replica that inserted the incident posts, the other
 * does not while the opener's claim holds, and does once it expired (the opener died before posting). Resolving and
 * "still firing" post once too.
 */
import { stringify } from 'yaml';
import { parseConfigText } from '../../../src/config/load-config';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import { AlertFlow, type AlertFlowDeps } from '../../../src/slack/alert-flow';
import type { IncidentPresenter } from '../../../src/slack/incident-presenter';
import { firingAlert } from '../../support/domain-fixtures';

const CHANNEL = 'C0123ALERTS';

function setup() {
  let now = new Date('2026-11-25T03:00:00.000Z');
  const store = new SqliteIncidentStore(':memory:');
  const config = parseConfigText(
    stringify({ slack: { channels: [CHANNEL], stillFiringIntervalSec: 600 }, alertmanager: { token: 't' } }),
    'test.yml',
  );
  const posts: Array<{ replica: string; what: 'announce' | 'post' | 'reply'; incidentId?: number; text?: string }> = [];
  let seq = 0;
  /** A presenter per replica, recording what each posts; `failPost` makes its incident-message posts fail. */
  const presenter = (replica: string, opts: { failPost?: boolean; holdPost?: Promise<void> } = {}) =>
    ({
      announce: async (_channel: string, msg: { text: string }) => {
        posts.push({ replica, what: 'announce', text: msg.text });
        return `100.${++seq}`;
      },
      post: async (incident: Incident) => {
        // A post takes a while (or as long as the test holds it): another replica's delivery lands meanwhile.
        await (opts.holdPost ?? new Promise((r) => setTimeout(r, 5)));
        if (opts.failPost) throw new Error('Slack is down');
        posts.push({ replica, what: 'post', incidentId: incident.id });
        return store.update(incident.id, { messageTs: `200.${++seq}` });
      },
      reply: async (incident: Incident, msg: { text: string } | (() => { text: string })) => {
        posts.push({
          replica,
          what: 'reply',
          incidentId: incident.id,
          text: typeof msg === 'function' ? msg().text : msg.text,
        });
        return `300.${++seq}`;
      },
      refresh: async () => undefined,
      forget: () => undefined,
    }) as unknown as IncidentPresenter;
  const deps: AlertFlowDeps = {
    config,
    store,
    runbooks: { get: () => undefined, action: () => undefined },
    logger: createLogger('silent'),
    now: () => now,
  };
  const replica = (id: string, opts: { failPost?: boolean; holdPost?: Promise<void> } = {}) =>
    new AlertFlow(deps, presenter(id, opts), {}, { id, postClaimTtlMs: 60_000 });
  return { store, posts, replica, advance: (sec: number) => (now = new Date(now.getTime() + sec * 1000)) };
}

describe('AlertFlow across replicas (#13 §2)', () => {
  it('counts an alert in progress from its delivery until its post is done', async () => {
    const { replica } = setup();
    let release!: () => void;
    const a = replica('A', { holdPost: new Promise<void>((r) => (release = r)) });
    expect(a.inProgress()).toBe(0);
    const handled = a.fromWebhook(firingAlert({ fingerprint: 'fp-1' }));
    const again = a.fromWebhook(firingAlert({ fingerprint: 'fp-1' }));
    const other = a.fromWebhook(firingAlert({ fingerprint: 'fp-2' }));
    // one per fingerprint: the second delivery of fp-1 waits behind the first
    expect(a.inProgress()).toBe(2);
    release();
    await Promise.all([handled, again, other]);
    // the chains are let go a turn after they settle
    await new Promise((r) => setImmediate(r));
    expect(a.inProgress()).toBe(0);
  });

  it('posts one alert message and one incident message when the same webhook alert reaches two replicas at once', async () => {
    const { store, posts, replica } = setup();
    const [a, b] = [replica('A'), replica('B')];
    const alert = firingAlert({ fingerprint: 'fp-1' });
    await Promise.all([a.fromWebhook(alert), b.fromWebhook(alert), a.fromWebhook(alert), b.fromWebhook(alert)]);

    expect(posts.filter((p) => p.what === 'announce')).toHaveLength(1);
    expect(posts.filter((p) => p.what === 'post')).toHaveLength(1);
    const [incident] = await store.listOpen();
    // the replica that inserted it posted both, in the thread it announced
    const poster = posts.find((p) => p.what === 'post')?.replica;
    expect(posts.filter((p) => p.replica !== poster)).toEqual([]);
    expect(incident).toMatchObject({ threadTs: expect.stringMatching(/^100\./), messageTs: expect.any(String) });
  });

  it('posts one incident message when the webhook reaches one replica and the Slack message the other', async () => {
    const { posts, replica } = setup();
    const [a, b] = [replica('A'), replica('B')];
    const alert = firingAlert({ fingerprint: 'fp-2' });
    await Promise.all([
      a.fromWebhook(alert),
      b.fromSlack({ ...alert, source: 'alertmanager-slack' }, { channel: CHANNEL, threadTs: '50.1' }),
    ]);
    expect(posts.filter((p) => p.what === 'post')).toHaveLength(1);
    // an alert message only when the webhook won: the Slack message is a thread of its own
    expect(posts.filter((p) => p.what === 'announce').length).toBeLessThanOrEqual(1);
  });

  it('lets another replica post the message once the opener’s claim expired (the opener died before posting)', async () => {
    const { store, posts, replica, advance } = setup();
    const alert = firingAlert({ fingerprint: 'fp-3' });
    // given replica A opened the incident and its post failed (as if it had died before posting)
    await expect(replica('A', { failPost: true }).fromWebhook(alert)).rejects.toThrow(/Slack is down/);
    const [opened] = await store.listOpen();
    expect(opened.messageTs).toBeUndefined();

    // when B gets the alert again while A's claim holds: B posts nothing
    const b = replica('B');
    advance(30);
    await b.fromWebhook(alert);
    expect(posts.filter((p) => p.what === 'post')).toEqual([]);

    // once the claim expired, B's next delivery posts it, in the thread A announced
    advance(31);
    await b.fromWebhook(alert);
    expect(posts.filter((p) => p.what === 'post')).toEqual([{ replica: 'B', what: 'post', incidentId: opened.id }]);
    expect((await store.get(opened.id))?.threadTs).toBe(opened.threadTs);

    // and nobody posts it a second time
    advance(120);
    await Promise.all([b.fromWebhook(alert), replica('C').fromWebhook(alert)]);
    expect(posts.filter((p) => p.what === 'post')).toHaveLength(1);
  });

  it('keeps its claim while its post waits (a long queue for the channel’s pace): no other replica posts meanwhile', async () => {
    const { posts, replica, advance } = setup();
    const alert = firingAlert({ fingerprint: 'fp-6' });
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      letGo = r;
    });
    jest.useFakeTimers();
    try {
      const a = replica('A', { holdPost: held });
      const opening = a.fromWebhook(alert);
      // five minutes in the queue, five times the claim's 60 s: A renews it every 20 s
      for (let i = 0; i < 15; i++) {
        advance(20);
        await jest.advanceTimersByTimeAsync(20_000);
      }
      // (B's posts go at once: under fake timers nothing else would move them)
      await replica('B', { holdPost: Promise.resolve() }).fromWebhook(alert);
      expect(posts.filter((p) => p.what === 'post')).toEqual([]);
      letGo();
      await opening;
      expect(posts.filter((p) => p.what === 'post').map((p) => p.replica)).toEqual(['A']);
    } finally {
      letGo();
      jest.useRealTimers();
    }
  });

  it('posts, on the heartbeat, the message of an incident whose opener died before posting, once', async () => {
    const { store, posts, replica, advance } = setup();
    // A announced the alert and died before its incident message went out
    await expect(replica('A', { failPost: true }).fromWebhook(firingAlert({ fingerprint: 'fp-7' }))).rejects.toThrow();
    // B died even before announcing its alert (the incident has no thread yet)
    await store.openOrGet({
      alert: firingAlert({ fingerprint: 'fp-8' }),
      channel: CHANNEL,
      threadTs: '',
      at: new Date('2026-11-25T03:00:00.000Z').toISOString(),
      postClaim: { owner: 'B', until: '2026-11-25T03:01:00.000Z' },
    });
    const [c, d] = [replica('C'), replica('D')];
    // while their claims hold, nobody else posts
    expect(await c.postUnposted()).toBe(0);
    advance(61);
    // C and D look at once: each message is posted once
    const counts = await Promise.all([c.postUnposted(), d.postUnposted()]);
    expect(counts[0] + counts[1]).toBe(2);
    expect(posts.filter((p) => p.what === 'post')).toHaveLength(2);
    // A's thread kept; B's alert announced by whoever posted it
    expect(posts.filter((p) => p.what === 'announce')).toHaveLength(2);
    expect((await store.listOpen()).every((i) => i.threadTs && i.messageTs)).toBe(true);
    advance(600);
    expect((await c.postUnposted()) + (await d.postUnposted())).toBe(0);
  });

  it('posts "still firing" once and the resolution once when both replicas get the repeat and the resolve', async () => {
    const { posts, replica, advance } = setup();
    const [a, b] = [replica('A'), replica('B')];
    const alert = firingAlert({ fingerprint: 'fp-4' });
    await a.fromWebhook(alert);
    advance(601);
    await Promise.all([a.fromWebhook(alert), b.fromWebhook(alert)]);
    expect(posts.filter((p) => p.what === 'reply' && /still firing/i.test(p.text ?? ''))).toHaveLength(1);

    const resolved = { ...alert, status: 'resolved' as const };
    await Promise.all([a.fromWebhook(resolved), b.fromWebhook(resolved)]);
    const replies = posts.filter((p) => p.what === 'reply');
    expect(replies).toHaveLength(2); // the one "still firing", the one summary
  });

  it('resolves by hand once when a user and the alert resolve it on two replicas at once', async () => {
    const { store, posts, replica } = setup();
    const [a, b] = [replica('A'), replica('B')];
    const alert = firingAlert({ fingerprint: 'fp-5' });
    await a.fromWebhook(alert);
    const [incident] = await store.listOpen();
    await Promise.all([b.resolveByUser(incident, 'U1'), a.fromWebhook({ ...alert, status: 'resolved' })]);
    expect(posts.filter((p) => p.what === 'reply')).toHaveLength(1);
    expect((await store.timeline(incident.id)).filter((e) => e.type === 'incident.resolved')).toHaveLength(1);
  });
});
