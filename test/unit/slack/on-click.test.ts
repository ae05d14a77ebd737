/**
 * The one click wrapper (#20 §7): ack first, the place and a child logger naming the action and the user, and one
 * error path that tells the clicker alone.
 */
import { Writable } from 'node:stream';
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { PilotError } from '../../../src/errors';
import { createLogger } from '../../../src/logger';
import { type Click, onClick } from '../../../src/slack/on-click';

function harness() {
  const events: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const client = {
    chat: {
      postEphemeral: async (args: Record<string, unknown>) => {
        events.push(
          `ephemeral ${String(args.channel)} ${String(args.thread_ts)} ${String(args.user)}: ${String(args.text)}`,
        );
        return { ok: true };
      },
      postMessage: async () => ({ ok: true }),
    },
  } as unknown as WebClient;
  const body = {
    type: 'block_actions',
    user: { id: 'U0ONCALL01' },
    channel: { id: 'C0123ALERTS' },
    message: { ts: '2.2', thread_ts: '1.1' },
    trigger_id: 't.1',
  } as unknown as BlockAction<ButtonAction>;
  const action = { type: 'button', action_id: 'step.run:diagnosis-2:status-check', value: '{}' } as ButtonAction;
  const run = (handle: (c: Click<ButtonAction>) => Promise<void>) =>
    onClick<ButtonAction>(
      { logger: createLogger('info', sink) },
      handle,
    )({
      ack: async () => void events.push('ack'),
      body,
      action,
      client,
    } as never);
  return { events, lines, run };
}

describe('onClick', () => {
  it('acks before the handler runs, and hands it the user, the place and a logger naming the action and user', async () => {
    const { events, lines, run } = harness();
    await run(async ({ user, place, log }) => {
      events.push(`handle ${user} ${place.channel} ${place.threadTs}`);
      log.info('handled');
    });
    expect(events).toEqual(['ack', 'handle U0ONCALL01 C0123ALERTS 1.1']);
    expect(lines.find((l) => l.msg === 'handled')).toMatchObject({
      actionId: 'step.run:diagnosis-2:status-check',
      user: 'U0ONCALL01',
      channel: 'C0123ALERTS',
    });
  });

  it('tells the clicker alone what a user-facing error says, in their thread', async () => {
    const { events, run } = harness();
    await run(async () => {
      throw new PilotError('INCIDENT_CLOSED', 'incident #3 is resolved');
    });
    expect(events).toEqual([
      'ack',
      expect.stringMatching(/^ephemeral C0123ALERTS 1\.1 U0ONCALL01: .*incident #3 is resolved/),
    ]);
  });

  it('shows an internal error as an id, logged under that id with the click’s logger', async () => {
    const { events, lines, run } = harness();
    await run(async () => {
      throw new Error('database is locked');
    });
    const told = events[1];
    const id = /\(id ([^)]+)\)/.exec(told)?.[1];
    expect(told).not.toContain('database is locked');
    expect(id).toBeDefined();
    expect(lines.find((l) => l.logId === id)).toMatchObject({
      actionId: 'step.run:diagnosis-2:status-check',
      user: 'U0ONCALL01',
    });
  });
});
