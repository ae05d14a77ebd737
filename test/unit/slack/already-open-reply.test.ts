/**
 * The "Already open" answer under a repeated alert message (#21 item 12) in a storm (#6): each repeat gets its
 * answer, but as a low-priority post that waits behind the channel's other posts (a new incident's message, a click's
 * result), and the alert's next delivery does not wait for it. A store in memory, recording fakes.
 */
import type { WebClient } from '@slack/web-api';
import { stringify } from 'yaml';
import { parseConfigText } from '../../../src/config/load-config';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import type { Alert } from '../../../src/ingest/alert';
import { labelsFingerprint } from '../../../src/ingest/fingerprint';
import { createLogger } from '../../../src/logger';
import { AlertFlow } from '../../../src/slack/alert-flow';
import { IncidentPresenter } from '../../../src/slack/incident-presenter';

const CHANNEL = 'C0123ALERTS';

function alert(server: string): Alert {
  const labels = { alertname: 'HaproxyServerDown', backend: 'web', instance: '127.0.0.1:9101', job: 'haproxy', server };
  return {
    alertname: 'HaproxyServerDown',
    status: 'firing',
    labels,
    annotations: {},
    fingerprint: labelsFingerprint(labels),
    source: 'alertmanager-slack',
    missingLabels: [],
  };
}

describe('AlertFlow: the answer under a repeated alert message', () => {
  it('is posted low-priority, and the next delivery of the alert does not wait for it', async () => {
    // given an open incident, and a channel whose pace holds every post (the replies never go out here)
    const store = new SqliteIncidentStore(':memory:');
    const config = parseConfigText(
      stringify({ slack: { channels: [CHANNEL], stillFiringIntervalSec: 600 }, alertmanager: { token: 't' } }),
      'test.yml',
    );
    const answers: Array<{ threadTs: string; text: string; low: boolean | undefined }> = [];
    let seq = 0;
    const presenter = {
      announce: async () => `100.${++seq}`,
      post: async (incident: Incident) => store.update(incident.id, { messageTs: `200.${++seq}` }),
      permalink: async () => 'https://example.slack.com/archives/C0123ALERTS/p1',
      replyAt: (place: { threadTs: string }, msg: { text: string }, opts?: { low?: boolean }) => {
        answers.push({ threadTs: place.threadTs, text: msg.text, low: opts?.low });
        return new Promise<string>(() => undefined);
      },
      reply: async () => `300.${++seq}`,
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
    await flow.fromSlack(alert('web1'), { channel: CHANNEL, threadTs: '1.000001' });

    // when the same alert comes as two more messages (their answers still queued)
    await flow.fromSlack(alert('web1'), { channel: CHANNEL, threadTs: '1.000002' });
    await flow.fromSlack(alert('web1'), { channel: CHANNEL, threadTs: '1.000003' });

    // then each message has its answer, low-priority, and nothing else was opened
    expect(answers.map((a) => [a.threadTs, a.low])).toEqual([
      ['1.000002', true],
      ['1.000003', true],
    ]);
    expect(answers[0].text).toMatch(/^🔁 Already open: incident #1 /);
    expect(await store.listOpen()).toHaveLength(1);
    store.close();
  });
});

describe('IncidentPresenter.replyAt', () => {
  it('low: goes after the posts queued after it (a new incident message is not held behind a storm of answers)', async () => {
    // given a Slack that records the order of posts, and a channel allowing one post, then one a second: the three
    // calls after the first are all queued before the next token comes (at 50 a second, a loaded machine let the
    // first answer go before the second announcement was even queued)
    const sent: string[] = [];
    const client = {
      chat: {
        postMessage: async (args: Record<string, unknown>) => {
          sent.push(String(args.text));
          return { ok: true, ts: `${sent.length}.000` };
        },
      },
    } as unknown as WebClient;
    const presenter = new IncidentPresenter({
      client,
      store: new SqliteIncidentStore(':memory:'),
      runbooks: { get: () => undefined, action: () => undefined },
      logger: createLogger('silent'),
      hostLabel: () => 'instance',
      pace: { perSecond: 1, burst: 1 },
    });

    // when an announcement, two low-priority answers and another announcement are queued at once
    const all = [
      presenter.announce(CHANNEL, { text: 'alert 1' }),
      presenter.replyAt({ channel: CHANNEL, threadTs: '9.1' }, { text: 'already open 1' }, { low: true }),
      presenter.replyAt({ channel: CHANNEL, threadTs: '9.2' }, { text: 'already open 2' }, { low: true }),
      presenter.announce(CHANNEL, { text: 'alert 2' }),
    ];
    await Promise.all(all);

    // then the second announcement went before the answers queued ahead of it
    expect(sent).toEqual(['alert 1', 'alert 2', 'already open 1', 'already open 2']);
    await presenter.close(1000);
  });
});
