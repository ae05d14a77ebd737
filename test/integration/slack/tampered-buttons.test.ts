/**
 * Issue #6: the bot never trusts what a button carries. Clicks with an unknown action_id or a tampered value (another
 * incident, another channel, a step not in the runbook, an action not in the step, a mitigation on a diagnosis step,
 * malformed or huge JSON, an id that disagrees with its value) run nothing; the user gets an ephemeral that says
 * what is wrong, and the incidents' timelines and step states stay as they were.
 */
import { HostSchema } from '../../../src/config/schema';
import { RecordingExecutor } from '../../support/fakes';
import { CHANNEL, type Harness, ONCALL, startHarness } from '../../support/pilot-harness';
import type { SlackMessage } from '../../support/slack-standin';

const OTHER = 'C0456OTHERS';

function host(name: string, instance: string) {
  return HostSchema.parse({
    name,
    match: { instance: [instance] },
    ssh: {
      host: '10.0.0.5',
      user: 'pilot',
      privateKeyPath: '/k',
      hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    },
    haproxy: {
      socket: '/run/haproxy/admin.sock',
      config: '/etc/haproxy/haproxy.cfg',
      log: '/var/log/haproxy.log',
      service: 'haproxy',
      pidFile: '/run/haproxy.pid',
    },
  });
}

describe('tampered buttons', () => {
  const executor = new RecordingExecutor();
  let h: Harness;
  let a: { id: number; message: SlackMessage };
  let b: { id: number };

  beforeAll(async () => {
    h = await startHarness({
      hosts: [host('lb-1', '127.0.0.1:9101'), host('lb-2', 'lb-2:9101')],
      executor,
      config: { slack: { channels: [CHANNEL, OTHER], stillFiringIntervalSec: 600, postsPerSecond: 50, postBurst: 50 } },
    });
    const threadTs = await h.postFixture('single.slack-default.firing.event.json');
    const message = await h.incidentMessage(threadTs);
    const other = await h.slack.sendEvent({
      type: 'message',
      channel: OTHER,
      user: ONCALL,
      text: 'HaproxyServerDown instance=lb-2:9101 backend=web server=web1',
      ts: '1700000500.000100',
    });
    expect(other.status).toBe(200);
    await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === OTHER && JSON.stringify(c.args.blocks ?? '').includes('step.'),
      5000,
    );
    const byChannel = async (ch: string) => (await h.pilot.deps.store.listOpen()).find((i) => i.channel === ch)!;
    a = { id: (await byChannel(CHANNEL)).id, message };
    b = { id: (await byChannel(OTHER)).id };
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** The state a tampered click must not change. */
  async function snapshot() {
    const store = h.pilot.deps.store;
    return {
      commands: executor.commands.length,
      a: { timeline: (await store.timeline(a.id)).length, steps: (await store.get(a.id))?.steps },
      b: { timeline: (await store.timeline(b.id)).length, steps: (await store.get(b.id))?.steps },
      views: h.slack.calls('views.open').length,
      // Posts in channels: an answer to the user alone (a DM) changes nothing.
      posts: h.slack.calls('chat.postMessage').filter((c) => String(c.args.channel).startsWith('C')).length,
    };
  }

  /** The first ephemeral answered after call number `since`. */
  function ephemeralSince(since: number) {
    return h.slack.waitForCall((c) => c.method === 'chat.postEphemeral' && c.status === 200, {
      since,
      timeoutMs: 3000,
      describe: 'ephemeral answer',
    });
  }

  const value = (v: Record<string, unknown>) => JSON.stringify(v);
  const cases: [string, string, () => string | undefined, RegExp][] = [
    [
      'an unknown action_id',
      'admin.run_anything',
      () => value({ i: 1, s: 'diagnosis-2', a: 'status-check' }),
      /not one the bot knows; nothing ran/,
    ],
    ['an unknown action_id with shell text', 'step.run.$(rbp-canary)', () => 'x', /not one the bot knows/],
    [
      'an incident of another channel',
      'step.run:diagnosis-2:status-check',
      () => value({ i: b.id, s: 'diagnosis-2', a: 'status-check' }),
      /is not known in this channel/,
    ],
    [
      'an incident that does not exist',
      'step.run:diagnosis-2:status-check',
      () => value({ i: 999_999, s: 'diagnosis-2', a: 'status-check' }),
      /#999999 is not known in this channel/,
    ],
    [
      'a step not in the runbook',
      'step.run:diagnosis-99:status-check',
      () => value({ i: a.id, s: 'diagnosis-99', a: 'status-check' }),
      /step diagnosis-99 is not a step of the HaproxyServerDown runbook/,
    ],
    [
      'an action not in the step',
      'step.run:diagnosis-2:log-tail',
      () => value({ i: a.id, s: 'diagnosis-2', a: 'log-tail' }),
      /step diagnosis-2 has no action log-tail/,
    ],
    [
      'a mitigation action on a diagnosis step',
      'step.run:diagnosis-2:restart',
      () => value({ i: a.id, s: 'diagnosis-2', a: 'restart' }),
      /step diagnosis-2 has no action restart/,
    ],
    [
      'an action the catalog does not have',
      'step.run:diagnosis-2:rm-rf',
      () => value({ i: a.id, s: 'diagnosis-2', a: 'rm-rf' }),
      /has no action rm-rf/,
    ],
    [
      'an id that disagrees with its value',
      'step.run:diagnosis-2:status-check',
      () => value({ i: a.id, s: 'diagnosis-1', a: 'log-tail' }),
      /its id and value disagree/,
    ],
    [
      'malformed JSON',
      'step.run:diagnosis-2:status-check',
      () => '{"i":1,"s":"diagnosis-2",',
      /does not match a step|does not belong to a known incident/,
    ],
    [
      'a huge value',
      'step.run:diagnosis-2:status-check',
      () => value({ i: a.id, s: 'diagnosis-2', a: 'status-check', pad: 'x'.repeat(1900) }),
      /does not match a step|does not belong/,
    ],
    ['no value at all', 'step.run:diagnosis-99:status-check', () => undefined, /does not match a step|does not belong/],
    [
      'a checklist tick on another channel’s incident',
      'step.check:mitigation-4',
      () => value({ i: b.id, s: 'mitigation-4' }),
      /is not known in this channel/,
    ],
    [
      'a checklist tick on an action step',
      'step.check:diagnosis-2',
      () => value({ i: a.id, s: 'diagnosis-2' }),
      /diagnosis-2 is not a checklist step/,
    ],
    [
      'a timeline of another channel’s incident',
      'incident.timeline',
      () => value({ i: b.id, s: '' }),
      /is not known in this channel/,
    ],
    [
      'a refresh with a string id',
      'incident.refresh',
      () => value({ i: String(a.id), s: '' }),
      /does not belong to a known incident/,
    ],
  ];

  it.each(cases)('%s: nothing runs, the user is told why', async (_name, actionId, makeValue, says) => {
    const before = await snapshot();
    const ephemerals = h.slack.ephemerals({ channel: CHANNEL, user: ONCALL }).length;
    const since = h.slack.calls().length;
    const v = makeValue();
    const res = await h.slack.clickButton({
      user: ONCALL,
      channel: CHANNEL,
      messageTs: a.message.ts,
      actionId,
      message: a.message,
      ...(v !== undefined ? { value: v } : {}),
    });
    expect(res.status).toBe(200);
    const told = await ephemeralSince(since);
    expect(told.args).toMatchObject({ channel: CHANNEL, user: ONCALL });
    expect(String(told.args.text)).toMatch(says);
    expect(h.slack.ephemerals({ channel: CHANNEL, user: ONCALL }).length).toBe(ephemerals + 1);
    await h.commandBarrier();
    expect(await snapshot()).toEqual(before);
  });

  it('a click from a payload that names no channel matches no incident', async () => {
    const before = await snapshot();
    const since = h.slack.calls().length;
    const res = await h.slack.clickButton({
      user: ONCALL,
      channel: '',
      messageTs: a.message.ts,
      actionId: 'step.run:diagnosis-2:status-check',
      message: a.message,
      value: value({ i: a.id, s: 'diagnosis-2', a: 'status-check' }),
    });
    expect(res.status).toBe(200);
    // No channel to answer in: the user is told by DM.
    const told = await h.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === ONCALL && h.slack.calls().indexOf(c) >= since,
      5000,
    );
    expect(String(told.args.text)).toMatch(/incident #\d+ is not known in this channel/);
    await h.commandBarrier();
    expect(await snapshot()).toEqual(before);
  });

  it('the untampered button still runs (the cases above fail for the reason they name)', async () => {
    const before = executor.commands.length;
    const res = await h.slack.clickButton({
      user: ONCALL,
      channel: CHANNEL,
      messageTs: a.message.ts,
      actionId: 'step.run:diagnosis-2:status-check',
    });
    expect(res.status).toBe(200);
    await executor.waitForCommands(before + 1);
    await h.commandBarrier();
    expect(executor.commands.length).toBe(before + 1);
  });
});
