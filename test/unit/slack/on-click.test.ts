/**
 * The one click wrapper (#20 §7): ack first, the place and a child logger naming the action and the user, and one
 * error path that tells the clicker alone.
 */
import { Writable } from 'node:stream';
import type { BlockAction, ButtonAction, ViewOutput } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { PilotError } from '../../../src/errors';
import { createLogger } from '../../../src/logger';
import { type Click, type FormReading, onClick, onSubmit, type Submission } from '../../../src/slack/on-click';

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
      postMessage: async (args: Record<string, unknown>) => {
        events.push(`message ${String(args.channel)}: ${String(args.text)}`);
        return { ok: true };
      },
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
  const submit = <F>(
    read: (view: ViewOutput, user: string) => FormReading<F> | Promise<FormReading<F>>,
    handle: (s: Submission<F>) => Promise<void>,
  ) =>
    onSubmit<F>(
      { logger: createLogger('info', sink) },
      read,
      handle,
    )({
      ack: async (response?: unknown) => void events.push(response ? `ack ${JSON.stringify(response)}` : 'ack'),
      body: { type: 'view_submission', user: { id: 'U0ONCALL01' } },
      view: { id: 'V1', callback_id: 'mitigation.confirm', private_metadata: '{}', state: { values: {} } },
      client,
    } as never);
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
  return { events, lines, run, submit };
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

describe('onSubmit', () => {
  it('keeps the modal open with the errors of the form in the ack, and runs nothing', async () => {
    const { events, submit } = harness();
    await submit(
      () => ({ errors: { reason: 'Say in a few words why.' } }),
      async () => void events.push('handled'),
    );
    expect(events).toEqual(['ack {"response_action":"errors","errors":{"reason":"Say in a few words why."}}']);
  });

  it('acks a valid form before the handler runs, and hands it the form, the user and a logger naming the modal', async () => {
    const { events, lines, submit } = harness();
    await submit(
      (_view, user) => ({ form: { reason: `from ${user}` } }),
      async ({ form, user, log }) => {
        events.push(`handle ${user}: ${form.reason}`);
        log.info('submitted');
      },
    );
    expect(events).toEqual(['ack', 'handle U0ONCALL01: from U0ONCALL01']);
    expect(lines.find((l) => l.msg === 'submitted')).toMatchObject({
      callbackId: 'mitigation.confirm',
      user: 'U0ONCALL01',
    });
  });

  it('a form that cannot be read (no such incident) is acked, then told to the submitter alone', async () => {
    const { events, submit } = harness();
    await submit(
      () => {
        throw new PilotError('INCIDENT_UNKNOWN', 'this form does not belong to a known incident');
      },
      async () => void events.push('handled'),
    );
    expect(events).toEqual([
      'ack',
      expect.stringMatching(/^message U0ONCALL01: .*does not belong to a known incident/),
    ]);
  });

  it('what the handler throws is told to the submitter: an internal error as an id only', async () => {
    const { events, lines, submit } = harness();
    await submit(
      () => ({ form: {} }),
      async () => {
        throw new Error('socket hang up');
      },
    );
    expect(events[0]).toBe('ack');
    expect(events[1]).not.toContain('socket hang up');
    const id = /\(id ([^)]+)\)/.exec(events[1])?.[1];
    expect(lines.find((l) => l.logId === id)).toMatchObject({ callbackId: 'mitigation.confirm' });
  });
});
