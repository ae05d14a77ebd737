import { PilotError } from '../../../src/errors';
import { tellUser } from '../../../src/slack/tell-user';

/** A fake chat API: records calls; `ephemeralError` makes chat.postEphemeral fail as Slack does. */
function fakeChat(opts: { ephemeralError?: string; dmError?: string } = {}) {
  const calls: Array<{ method: string; args: Record<string, unknown> }> = [];
  const fail = (error: string) =>
    Promise.reject(Object.assign(new Error(`An API error occurred: ${error}`), { data: { ok: false, error } }));
  const chat = {
    postEphemeral: (args: Record<string, unknown>) => {
      calls.push({ method: 'chat.postEphemeral', args });
      return opts.ephemeralError ? fail(opts.ephemeralError) : Promise.resolve({ ok: true });
    },
    postMessage: (args: Record<string, unknown>) => {
      calls.push({ method: 'chat.postMessage', args });
      return opts.dmError ? fail(opts.dmError) : Promise.resolve({ ok: true });
    },
  };
  const logs: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const logger = {
    warn: (obj: Record<string, unknown>, msg: string) => void logs.push({ level: 'warn', obj, msg }),
    error: (obj: Record<string, unknown>, msg: string) => void logs.push({ level: 'error', obj, msg }),
  };
  // The fake implements only the two methods tellUser calls.
  return { calls, logs, client: { chat } as unknown as Parameters<typeof tellUser>[1], deps: { logger } };
}

describe('tellUser: the one way to tell one user', () => {
  it('answers ephemerally in the thread the user acted in', async () => {
    const f = fakeChat();
    await tellUser(
      f.deps,
      f.client,
      { user: 'U1', channel: 'C1', threadTs: '1.2' },
      new PilotError('INCIDENT_CLOSED', 'incident #3 is resolved'),
    );
    expect(f.calls).toEqual([
      {
        method: 'chat.postEphemeral',
        args: {
          channel: 'C1',
          user: 'U1',
          thread_ts: '1.2',
          text: expect.stringMatching(/^incident #3 is resolved\./),
        },
      },
    ]);
  });

  it('names who may from the structured details of the error (the only place ids become mentions)', async () => {
    const f = fakeChat();
    await tellUser(
      f.deps,
      f.client,
      { user: 'U1', channel: 'C1' },
      new PilotError('NOT_ALLOWED', 'you may not run Restart HAProxy on lb-1', { details: { grantees: ['S0123SRE'] } }),
    );
    expect(f.calls[0].args.text).toMatch(/^you may not run Restart HAProxy on lb-1: only <!subteam\^S0123SRE> may\. /);
  });

  it('answers by DM when there is no channel (a modal submitted from nowhere)', async () => {
    const f = fakeChat();
    await tellUser(f.deps, f.client, { user: 'U1' }, new PilotError('STEP_UNKNOWN', 'no such step'));
    expect(f.calls).toEqual([
      { method: 'chat.postMessage', args: { channel: 'U1', text: expect.stringMatching(/^no such step\./) } },
    ]);
  });

  it('falls back to a DM when Slack refuses the ephemeral, so the answer is not lost', async () => {
    const f = fakeChat({ ephemeralError: 'channel_not_found' });
    await tellUser(f.deps, f.client, { user: 'U1', channel: 'C1' }, new PilotError('STEP_UNKNOWN', 'no such step'));
    expect(f.calls.map((c) => c.method)).toEqual(['chat.postEphemeral', 'chat.postMessage']);
    expect(f.calls[1].args).toEqual({ channel: 'U1', text: f.calls[0].args.text });
    expect(f.logs).toEqual([
      expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ user: 'U1', channel: 'C1' }) }),
    ]);
  });

  it('shows an internal error only as an id, logged under that id', async () => {
    const f = fakeChat();
    await tellUser(f.deps, f.client, { user: 'U1', channel: 'C1' }, new Error('database is locked'));
    const text = String(f.calls[0].args.text);
    const id = /see logs \(id ([0-9a-f]{8})\)/.exec(text)?.[1];
    expect(id).toBeDefined();
    expect(text).not.toMatch(/database/);
    expect(f.logs).toEqual([expect.objectContaining({ level: 'error', obj: expect.objectContaining({ logId: id }) })]);
  });

  it('escapes markup in the error text (an alert label may carry it)', async () => {
    const f = fakeChat();
    await tellUser(
      f.deps,
      f.client,
      { user: 'U1', channel: 'C1' },
      new PilotError('HOST_NOT_CONFIGURED', 'no host matches instance=<!channel>'),
    );
    expect(String(f.calls[0].args.text)).not.toContain('<!channel>');
  });

  it('never throws: a failed DM is logged', async () => {
    const f = fakeChat({ ephemeralError: 'not_in_channel', dmError: 'cannot_dm_bot' });
    await expect(
      tellUser(f.deps, f.client, { user: 'U1', channel: 'C1' }, new PilotError('STEP_UNKNOWN', 'x')),
    ).resolves.toBeUndefined();
    expect(f.logs.map((l) => l.msg)).toEqual([
      'could not post an ephemeral answer; sending it by DM',
      'could not tell the user',
    ]);
  });
});
