import type { WebClient } from '@slack/web-api';
import { builtinActions } from '../../../src/actions/catalog';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import { createLogger } from '../../../src/logger';
import { IncidentPresenter } from '../../../src/slack/incident-presenter';

/** A hand-written fake of the two chat methods the presenter calls, recording them. */
function fakeClient() {
  const calls: Array<{ method: string; args: Record<string, unknown> }> = [];
  let ts = 100;
  const client = {
    chat: {
      postMessage: async (args: Record<string, unknown>) => {
        calls.push({ method: 'postMessage', args });
        return { ok: true, ts: `${++ts}.000` };
      },
      update: async (args: Record<string, unknown>) => {
        calls.push({ method: 'update', args });
        return { ok: true };
      },
    },
  } as unknown as WebClient;
  return { client, calls };
}

/** A presenter over an in-memory store, talking to `client`, and an open incident to present. */
async function setup(client: WebClient, pace = { perSecond: 50, burst: 50 }) {
  const store = new SqliteIncidentStore(':memory:');
  const presenter = new IncidentPresenter({
    client,
    store,
    runbooks: { get: () => undefined, action: (_rb, id) => builtinActions.find((a) => a.id === id) },
    logger: createLogger('silent'),
    hostLabel: () => 'instance',
    pace,
  });
  const alert = {
    alertname: 'X',
    status: 'firing' as const,
    labels: { alertname: 'X' },
    annotations: {},
    fingerprint: 'f',
    source: 'plain' as const,
    missingLabels: [],
  };
  const { incident } = await store.openOrGet({ alert, channel: 'C1', threadTs: '1.1', at: '2026-11-25T03:00:00.000Z' });
  return { store, presenter, incident };
}

describe('IncidentPresenter.refresh', () => {
  it('sends nothing when nothing changed, and still sends the next real change', async () => {
    // given a posted incident message
    const { client, calls } = fakeClient();
    const { store, presenter, incident } = await setup(client);
    await presenter.post(incident);

    // when a refresh changes nothing (it finishes without awaiting anything)…
    await presenter.refresh(incident.id);
    expect(calls.filter((c) => c.method === 'update')).toHaveLength(0);
    // …then the incident really changes
    await store.update(incident.id, { status: 'resolved', resolvedAt: '2026-11-25T04:00:00.000Z' });
    await presenter.refresh(incident.id);

    // then exactly that change is sent
    const updates = calls.filter((c) => c.method === 'update');
    expect(updates).toHaveLength(1);
    expect(String(updates[0].args.text)).toContain('resolved');
    await presenter.close(1000);
  });
});

describe('IncidentPresenter background work (#22)', () => {
  afterEach(() => jest.useRealTimers());

  it("sends a click's result before a triage's waiting edits and refreshes, and each waiting edit once, newest", async () => {
    jest.useFakeTimers();
    // given a channel whose only token went to the incident message, and an incident that has changed since
    const { client, calls } = fakeClient();
    const { store, presenter, incident } = await setup(client, { perSecond: 10, burst: 1 });
    const posted = presenter.post(incident);
    await jest.advanceTimersByTimeAsync(20);
    await posted;
    await store.update(incident.id, { status: 'resolved', resolvedAt: '2026-11-25T04:00:00.000Z' });
    const before = calls.length;
    // when a triage edits its message twice and refreshes the incident message in the background, then a click's
    // result comes
    const background = [
      presenter.replace(incident, '150.000', { text: 'triage: 1 of 5 done' }, { low: true }),
      presenter.refresh(incident.id, { low: true }),
      presenter.replace(incident, '150.000', () => ({ text: 'triage: 2 of 5 done' }), { low: true }),
    ];
    const click = presenter.reply(incident, { text: 'status check: ok' });
    await jest.advanceTimersByTimeAsync(1000);
    await Promise.all([...background, click]);
    // then the click's result goes first; the triage message is edited once, with its newest content
    const sent = calls.slice(before).map((c) => `${c.method}:${c.args.ts ?? ''}:${String(c.args.text).slice(0, 40)}`);
    expect(sent[0]).toBe('postMessage::status check: ok');
    expect(sent.filter((x) => x.startsWith('update:150.000'))).toEqual(['update:150.000:triage: 2 of 5 done']);
    expect(sent.filter((x) => x.startsWith('update:') && !x.startsWith('update:150.000'))).toHaveLength(1);
    expect(sent).toHaveLength(3);
    const closed = presenter.close(1000);
    await jest.advanceTimersByTimeAsync(2000);
    await closed;
  });
});

describe('IncidentPresenter.post', () => {
  it('shows a change made while the incident message was being posted', async () => {
    // given a Slack that answers the post only when we let it
    const calls: Array<{ method: string; args: Record<string, unknown> }> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const client = {
      chat: {
        postMessage: async (args: Record<string, unknown>) => {
          calls.push({ method: 'postMessage', args });
          await gate;
          return { ok: true, ts: '200.000' };
        },
        update: async (args: Record<string, unknown>) => {
          calls.push({ method: 'update', args });
          return { ok: true };
        },
      },
    } as unknown as WebClient;
    const { store, presenter, incident } = await setup(client);

    // when the incident changes while the post is on its way, and a refresh finds no message yet
    const posting = presenter.post(incident);
    await new Promise((r) => setTimeout(r, 10));
    await store.setStep(incident.id, 'diagnosis-1', { state: 'done', by: 'U1', at: '2026-11-25T03:01:00.000Z' });
    await store.update(incident.id, { status: 'resolved', resolvedAt: '2026-11-25T03:02:00.000Z' });
    await presenter.refresh(incident.id);
    release();
    await posting;

    // then the message is brought up to date once it exists
    const updates = calls.filter((c) => c.method === 'update');
    expect(updates).toHaveLength(1);
    expect(String(updates[0].args.text)).toContain('resolved');
    await presenter.close(1000);
  });
});

describe('IncidentPresenter.close', () => {
  it('waits for an Alertmanager answer asked in the background, and no update starts once closed', async () => {
    // given a presenter whose Alertmanager answers only when told to, with a changed state
    const { client, calls } = fakeClient();
    const store = new SqliteIncidentStore(':memory:');
    const waiting: Array<() => void> = [];
    const answer = () => {
      for (const r of waiting.splice(0)) r();
    };
    const alertState = {
      peek: () => undefined,
      stale: () => true,
      check: () => new Promise<{ changed: boolean }>((r) => waiting.push(() => r({ changed: true }))),
    };
    const presenter = new IncidentPresenter({
      client,
      store,
      runbooks: { get: () => undefined, action: () => undefined },
      logger: createLogger('silent'),
      hostLabel: () => 'instance',
      pace: { perSecond: 50, burst: 50 },
      alertState: alertState as never,
    });
    const alert = {
      alertname: 'X',
      status: 'firing' as const,
      labels: { alertname: 'X' },
      annotations: {},
      fingerprint: 'f',
      source: 'plain' as const,
      missingLabels: [],
    };
    const { incident } = await store.openOrGet({
      alert,
      channel: 'C1',
      threadTs: '1.1',
      at: '2026-11-25T03:00:00.000Z',
    });
    await presenter.post(incident);
    // a refresh asks Alertmanager in the background (its last answer is stale)
    await presenter.refresh(incident.id);
    expect(waiting.length).toBeGreaterThan(0);

    // when the bot stops while that answer is on its way
    let closed = false;
    const closing = presenter.close(5000).then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    // then close waits for it…
    expect(closed).toBe(false);
    answer();
    await closing;
    // …and the store can be closed: a refresh after close reads nothing from it
    store.close();
    await expect(presenter.refresh(incident.id)).resolves.toBeUndefined();
    expect(calls.filter((c) => c.method === 'postMessage')).toHaveLength(1);
  });
});
