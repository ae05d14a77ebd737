/**
 * Slack refusing at start-up is one line: which variable, what Slack said, what to do (#21 item 4). The errors are the
 * real ones: the Web API client against the Slack stand-in (which answers as Slack documents) and a closed port.
 */
import { createServer } from 'node:net';
import { WebClient } from '@slack/web-api';
import { PilotError } from '../../../src/errors';
import { slackStartError } from '../../../src/slack/start-error';
import { startupErrorText } from '../../../src/startup-error';
import { SlackStandIn } from '../../support/slack-standin';

async function authTestError(token: string, slackApiUrl: string): Promise<unknown> {
  try {
    await new WebClient(token, { slackApiUrl, retryConfig: { retries: 0 }, logger: quiet }).auth.test();
  } catch (err) {
    return err;
  }
  throw new Error('auth.test succeeded');
}
const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => 'error' as never,
  setName: () => undefined,
};

/** A port nothing listens on: listened on, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe('slackStartError', () => {
  let slack: SlackStandIn;
  let apiUrl: string;
  beforeAll(async () => {
    slack = new SlackStandIn({ channels: { C0123ALERTS: 'alerts' } });
    ({ apiUrl } = await slack.start());
  });
  afterAll(() => slack.stop());

  it('a token Slack refuses (invalid_auth): the variable, Slack’s answer and the fix on one line', async () => {
    const err = await authTestError('xoxb-placeholder', apiUrl);
    const e = slackStartError(err, { variable: 'SLACK_BOT_TOKEN', method: 'auth.test', retries: 5 });
    expect(e).toBeInstanceOf(PilotError);
    expect(startupErrorText(e)).toBe(
      'runbook-pilot: Slack refused SLACK_BOT_TOKEN: auth.test answered invalid_auth. Copy the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page, put it in SLACK_BOT_TOKEN (environment or .env), then start again.\n',
    );
  });

  it.each([
    ['token_revoked', /reinstall the app to the workspace/],
    ['account_inactive', /deactivated: reinstall the app/],
    ['token_expired', /token rotation/],
    [
      'some_new_error',
      /Look up some_new_error under https:\/\/api\.slack\.com\/methods\/auth\.test, fix SLACK_BOT_TOKEN or the app/,
    ],
  ])('%s: Slack’s word and its fix', async (error, fix) => {
    slack.failNext('auth.test', { error });
    const err = await authTestError(slack.botToken, apiUrl);
    const text = startupErrorText(
      slackStartError(err, { variable: 'SLACK_BOT_TOKEN', method: 'auth.test', apiUrl, retries: 0 }),
    );
    expect(text).toContain(`Slack refused SLACK_BOT_TOKEN: auth.test at ${apiUrl} answered ${error}. `);
    expect(text).toMatch(fix);
    expect(text.split('\n')).toHaveLength(2);
  });

  it('an unreachable Slack: where, why, after how many retries, and what to check', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api/`;
    const err = await authTestError('xoxb-x', url);
    const text = startupErrorText(
      slackStartError(err, { variable: 'SLACK_BOT_TOKEN', method: 'auth.test', apiUrl: url, retries: 2 }),
    );
    // Under Jest the client's fetch error arrives without its cause (in the bot's process it has it: ECONNREFUSED,
    // see test/integration/startup/slack-refusal.test.ts).
    const reason = '(connection refused, ECONNREFUSED|TypeError: fetch failed)';
    expect(text).toMatch(
      new RegExp(
        `^runbook-pilot: Slack did not answer auth\\.test at ${url.replace(/[.]/g, '\\.')} \\(${reason}, after 2 retries\\)\\. Check SLACK_API_URL \\(unset it for Slack’s own\\) and that it is up, then start again\\.\n$`,
      ),
    );
  });

  it('a name that does not resolve, Slack’s own URL: the network path to check', () => {
    const fetchFailed = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND slack.com'), { code: 'ENOTFOUND' }),
    });
    const err = Object.assign(new Error('A request error occurred: fetch failed'), {
      code: 'slack_webapi_request_error',
      original: fetchFailed,
    });
    expect(
      startupErrorText(slackStartError(err, { variable: 'SLACK_BOT_TOKEN', method: 'auth.test', retries: 5 })),
    ).toBe(
      'runbook-pilot: Slack did not answer auth.test at https://slack.com/api/ (the name does not resolve, ENOTFOUND, after 5 retries). Check this machine’s network path to slack.com (DNS, firewall, HTTPS_PROXY), then start again.\n',
    );
  });

  it('anything else passes through unchanged (a bug keeps its stack)', () => {
    const bug = new TypeError('x is undefined');
    expect(slackStartError(bug, { variable: 'SLACK_BOT_TOKEN', method: 'auth.test', retries: 0 })).toBe(bug);
  });
});
