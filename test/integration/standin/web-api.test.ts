/**
 * The stand-in answers the real @slack/web-api WebClient the way Slack does: posts, updates, threads, the three-step
 * file upload, auth, errors, and the faults later tests inject (429 with Retry-After, 500, hang).
 */
import { LogLevel, type WebAPIPlatformError, WebClient, WebClientEvent } from '@slack/web-api';
import { SlackStandIn } from '../../support/slack-standin';

const CHANNEL = 'C0123ALERTS';
const fastRetries = { retries: 2, factor: 1, minTimeout: 0, maxTimeout: 0 };

describe('SlackStandIn Web API, driven by the real WebClient', () => {
  const slack = new SlackStandIn({
    channels: { [CHANNEL]: 'alerts' },
    usergroups: { S0ONCALL01: ['U0ALICE001', 'U0BOB00001'] },
  });
  let client: WebClient;

  beforeAll(async () => {
    const { apiUrl } = await slack.start();
    client = new WebClient(slack.botToken, { slackApiUrl: apiUrl, retryConfig: fastRetries, logLevel: LogLevel.ERROR });
  });
  afterAll(() => slack.stop());
  beforeEach(() => slack.reset());

  it('gives an apiUrl that ends with /api/ so WebClient joins method names onto it', () => {
    expect(slack.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it('answers auth.test with the bot identity Bolt reads', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'U0PILOTBOT', bot_id: 'B0PILOTBOT', team_id: 'T0RUNBOOK1' });
    expect(res.url).toBe('https://runbook-pilot-test.slack.com/');
  });

  it('posts, replies in a thread and updates; thread() shows the current blocks in order', async () => {
    // given
    const parent = await client.chat.postMessage({ channel: CHANNEL, text: 'alert' });
    const blocks = [{ type: 'section', block_id: 'b1', text: { type: 'mrkdwn', text: 'Incident opened' } }];
    const reply = await client.chat.postMessage({ channel: CHANNEL, thread_ts: parent.ts, text: 'incident', blocks });
    // when
    const newBlocks = [{ type: 'section', block_id: 'b2', text: { type: 'mrkdwn', text: 'Diagnosis done' } }];
    const updated = await client.chat.update({
      channel: CHANNEL,
      ts: reply.ts!,
      text: 'incident (updated)',
      blocks: newBlocks,
    });
    // then
    expect(parent).toMatchObject({
      ok: true,
      channel: CHANNEL,
      message: { type: 'message', bot_id: 'B0PILOTBOT', text: 'alert' },
    });
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    expect(reply.message).toMatchObject({ thread_ts: parent.ts, blocks });
    expect(updated).toMatchObject({ ok: true, channel: CHANNEL, ts: reply.ts, text: 'incident (updated)' });
    const thread = slack.thread(CHANNEL, parent.ts!);
    expect(thread.map((m) => m.ts)).toEqual([parent.ts, reply.ts]);
    expect(thread[0].reply_count).toBe(1);
    expect(thread[1].blocks).toEqual(newBlocks);
    expect(thread[1].edited?.user).toBe('U0PILOTBOT');
    expect(slack.calls('chat.postMessage')[1].args).toMatchObject({ channel: CHANNEL, thread_ts: parent.ts, blocks });
  });

  it('generates strictly increasing message timestamps', async () => {
    const tss: string[] = [];
    for (let i = 0; i < 5; i++) tss.push((await client.chat.postMessage({ channel: CHANNEL, text: `m${i}` })).ts!);
    const sorted = [...tss].sort((a, b) => Number(a) - Number(b));
    expect(new Set(tss).size).toBe(5);
    expect(tss).toEqual(sorted);
  });

  it('answers the documented errors: message_not_found, no_text, channel_not_found', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }), 'message_not_found'],
      [() => client.chat.postMessage({ channel: CHANNEL, text: '' }), 'no_text'],
      [() => client.chat.postMessage({ channel: 'not-a-channel', text: 'x' }), 'channel_not_found'],
      [() => client.usergroups.users.list({ usergroup: 'S0NOSUCH01' }), 'no_such_subteam'],
    ];
    for (const [call, error] of cases) {
      await expect(call()).rejects.toMatchObject({ code: 'slack_webapi_platform_error', data: { ok: false, error } });
    }
  });

  it('keeps ephemerals per user, gives permalinks, adds reactions, lists user groups, describes users and channels', async () => {
    const parent = await client.chat.postMessage({ channel: CHANNEL, text: 'alert' });
    const reply = await client.chat.postMessage({ channel: CHANNEL, text: 'r', thread_ts: parent.ts });
    const eph = await client.chat.postEphemeral({
      channel: CHANNEL,
      user: 'U0ALICE001',
      text: 'only you',
      thread_ts: parent.ts,
    });
    const link = await client.chat.getPermalink({ channel: CHANNEL, message_ts: reply.ts! });
    await client.reactions.add({ channel: CHANNEL, timestamp: parent.ts!, name: 'eyes' });
    const group = await client.usergroups.users.list({ usergroup: 'S0ONCALL01' });
    const user = await client.users.info({ user: 'U0ALICE001' });
    const channel = await client.conversations.info({ channel: CHANNEL });

    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.ephemerals({ user: 'U0ALICE001' })).toEqual([
      expect.objectContaining({ text: 'only you', thread_ts: parent.ts }),
    ]);
    expect(slack.ephemerals({ user: 'U0BOB00001' })).toEqual([]);
    expect(link.permalink).toBe(
      `https://runbook-pilot-test.slack.com/archives/${CHANNEL}/p${reply.ts!.replace('.', '')}?thread_ts=${parent.ts}&cid=${CHANNEL}`,
    );
    expect(slack.message(CHANNEL, parent.ts!)?.reactions).toEqual([{ name: 'eyes', users: ['U0PILOTBOT'], count: 1 }]);
    await expect(client.reactions.add({ channel: CHANNEL, timestamp: parent.ts!, name: 'eyes' })).rejects.toMatchObject(
      {
        data: { error: 'already_reacted' },
      },
    );
    expect(group.users).toEqual(['U0ALICE001', 'U0BOB00001']);
    expect(user.user).toMatchObject({ id: 'U0ALICE001', team_id: 'T0RUNBOOK1', deleted: false, is_bot: false });
    expect(channel.channel).toMatchObject({ id: CHANNEL, name: 'alerts', is_channel: true, is_private: false });
  });

  it('runs files.uploadV2 end to end: getUploadURLExternal, the upload POST, completeUploadExternal into the thread', async () => {
    // given
    const parent = await client.chat.postMessage({ channel: CHANNEL, text: 'alert' });
    const content = 'show servers state\n# be_id be_name srv_id srv_name\n3 web 1 web1 …\n';
    // when
    const res = await client.files.uploadV2({
      channel_id: CHANNEL,
      thread_ts: parent.ts!,
      initial_comment: 'Full output',
      filename: 'servers-state.txt',
      title: 'servers state',
      content,
    });
    // then
    expect(res.ok).toBe(true);
    const [getUrl] = slack.calls('files.getUploadURLExternal');
    expect(getUrl.args).toMatchObject({ filename: 'servers-state.txt', length: String(Buffer.byteLength(content)) });
    const fileId = getUrl.response?.file_id as string;
    expect(slack.calls('files.upload')).toEqual([
      expect.objectContaining({ status: 200, args: expect.objectContaining({ file_id: fileId }) }),
    ]);
    expect(slack.calls('files.completeUploadExternal')[0].args).toMatchObject({
      files: [{ id: fileId, title: 'servers state' }],
      channel_id: CHANNEL,
      thread_ts: parent.ts,
      initial_comment: 'Full output',
    });
    expect(slack.files()).toEqual([
      expect.objectContaining({
        id: fileId,
        title: 'servers state',
        filename: 'servers-state.txt',
        channel_id: CHANNEL,
        thread_ts: parent.ts,
      }),
    ]);
    expect(slack.files()[0].bytes.toString('utf8')).toBe(content);
    const share = slack.thread(CHANNEL, parent.ts!)[1];
    expect(share).toMatchObject({
      text: 'Full output',
      thread_ts: parent.ts,
      files: [expect.objectContaining({ id: fileId })],
    });
  });

  it('rejects a wrong token with invalid_auth and records it', async () => {
    const wrong = new WebClient('xoxb-wrong', {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    const err = (await wrong.chat
      .postMessage({ channel: CHANNEL, text: 'x' })
      .catch((e: unknown) => e)) as WebAPIPlatformError;
    expect(err.data).toMatchObject({ ok: false, error: 'invalid_auth' });
    expect(slack.calls('chat.postMessage')).toEqual([
      expect.objectContaining({ status: 200, response: { ok: false, error: 'invalid_auth' } }),
    ]);
    expect(slack.thread(CHANNEL, '0')).toEqual([]);
  });

  it('answers unknown_method for a method it does not know, and records it', async () => {
    await expect(client.apiCall('admin.teams.create', { team_domain: 'x' })).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
    expect(slack.calls('admin.teams.create')).toHaveLength(1);
  });

  it('accepts JSON bodies with a bearer token, as Slack does', async () => {
    const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${slack.botToken}` },
      body: JSON.stringify({ channel: CHANNEL, text: 'json', blocks: [{ type: 'divider' }] }),
    });
    const body = (await res.json()) as { ok: boolean; ts: string };
    expect(body.ok).toBe(true);
    expect(slack.message(CHANNEL, body.ts)?.blocks).toEqual([{ type: 'divider' }]);
  });

  it('sends 429 with Retry-After; WebClient waits, retries, and the stand-in records both attempts', async () => {
    // given
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const rateLimited: number[] = [];
    client.once(WebClientEvent.RATE_LIMITED, (sec: number) => rateLimited.push(sec));
    // when
    const started = Date.now();
    const res = await client.chat.postMessage({ channel: CHANNEL, text: 'after the limit' });
    // then
    expect(res.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(rateLimited).toEqual([1]);
    const attempts = slack.calls('chat.postMessage');
    expect(attempts.map((c) => c.status)).toEqual([429, 200]);
    expect(attempts[0].response).toEqual({ ok: false, error: 'ratelimited' });
    expect(attempts[1].args).toEqual(attempts[0].args);
  });

  it('lets a client that rejects rate-limited calls see retryAfter', async () => {
    slack.failNext('chat.update', { status: 429, retryAfterSec: 30 });
    const strict = new WebClient(slack.botToken, {
      slackApiUrl: slack.apiUrl,
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
    await expect(strict.chat.update({ channel: CHANNEL, ts: '1.1', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 30,
    });
  });

  it('injects a platform error, a 500 and a hang', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });

    const noRetry = new WebClient(slack.botToken, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      timeout: 200,
      logLevel: LogLevel.ERROR,
    });
    slack.failNext('chat.postMessage', { status: 500 });
    await expect(noRetry.chat.postMessage({ channel: CHANNEL, text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_http_error',
      statusCode: 500,
    });

    slack.failNext('chat.postMessage', { hang: true });
    await expect(noRetry.chat.postMessage({ channel: CHANNEL, text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_request_error',
    });
    expect(slack.calls('chat.postMessage').map((c) => c.fault)).toEqual([
      { error: 'channel_not_found' },
      { status: 500 },
      { hang: true },
    ]);

    // the fault was consumed: the next call goes through
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('waitFor resolves on a later call and rejects with what it saw after the timeout', async () => {
    const waiting = slack.waitFor('chat.postMessage', (c) => c.args.text === 'second', 1000);
    await client.chat.postMessage({ channel: CHANNEL, text: 'first' });
    setTimeout(() => void client.chat.postMessage({ channel: CHANNEL, text: 'second' }), 20);
    await expect(waiting).resolves.toMatchObject({ args: { text: 'second' } });
    await expect(slack.waitFor('chat.postMessage', (c) => c.args.text === 'never', 50)).rejects.toThrow(
      /no matching chat.postMessage call within 50 ms; received 2/,
    );
  });
});
