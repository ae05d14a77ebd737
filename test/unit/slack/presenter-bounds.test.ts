/** Issue #12 §6: the per-channel post queue is bounded, and the presenter forgets a closed incident's message. */
import type { WebClient } from '@slack/web-api';
import { builtinActions } from '../../../src/actions/catalog';
import { PilotError } from '../../../src/errors';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import { createLogger } from '../../../src/logger';
import { IncidentPresenter } from '../../../src/slack/incident-presenter';

/** chat.postMessage that answers only when released; chat.update answers at once. */
function slowClient() {
  const waiting: Array<() => void> = [];
  let ts = 100;
  const client = {
    chat: {
      postMessage: () => new Promise((r) => waiting.push(() => r({ ok: true, ts: `${++ts}.000` }))),
      update: async () => ({ ok: true }),
    },
  } as unknown as WebClient;
  return { client, waiting };
}

async function setup(client: WebClient, maxQueued: number) {
  const store = new SqliteIncidentStore(':memory:');
  const presenter = new IncidentPresenter({
    client,
    store,
    runbooks: { get: () => undefined, action: (_rb, id) => builtinActions.find((a) => a.id === id) },
    logger: createLogger('silent'),
    hostLabel: () => 'instance',
    // one post a minute: everything after the first waits in the channel's queue
    pace: { perSecond: 1 / 60, burst: 1, maxQueued },
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

/** Waits (a loaded machine is slow to run Bottleneck's own ticks) until `done`, at most 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('IncidentPresenter bounds', () => {
  it('refuses a post at once with QUEUE_FULL when maxQueued posts already wait for the channel', async () => {
    // given one post under way and three waiting (the bound)
    const { client, waiting } = slowClient();
    const { presenter, incident } = await setup(client, 3);
    const accepted = [1, 2, 3, 4].map((n) =>
      presenter.reply(incident, { text: `reply ${n}` }).catch((e: unknown) => e),
    );
    await until(() => presenter.queued() === 3 && waiting.length === 1);
    expect(presenter.queued()).toBe(3);
    // when one more comes
    const refused = await presenter.reply(incident, { text: 'one too many' }).catch((e: unknown) => e);
    // then it is refused, named, and the queue did not grow
    expect(refused).toBeInstanceOf(PilotError);
    expect((refused as PilotError).code).toBe('QUEUE_FULL');
    expect((refused as PilotError).message).toMatch(/3 posts are already waiting for Slack in channel C1/);
    expect(presenter.queued()).toBe(3);
    // another channel has its own queue
    const other = presenter.announce('C2', { text: 'elsewhere' });
    await until(() => waiting.length === 2);
    expect(waiting).toHaveLength(2);
    for (const w of waiting.splice(0)) w();
    await other;
    // and a stop does not wait minutes for the paced queue: what still waits is dropped, each caller told
    await presenter.close(50);
    const outcomes = await Promise.all(accepted);
    expect(outcomes.filter((o) => o instanceof Error).map((o) => (o as Error).message)).toEqual([
      'the bot is stopping',
      'the bot is stopping',
      'the bot is stopping',
    ]);
  });

  it('forgets a closed incident’s message once shown, so the map does not grow with every incident', async () => {
    const client = {
      chat: { postMessage: async () => ({ ok: true, ts: '200.000' }), update: async () => ({ ok: true }) },
    } as unknown as WebClient;
    const { presenter, incident } = await setup(client, 10);
    await presenter.post(incident);
    expect(presenter.remembered()).toBe(1);
    presenter.forget(incident.id);
    expect(presenter.remembered()).toBe(0);
  });
});
