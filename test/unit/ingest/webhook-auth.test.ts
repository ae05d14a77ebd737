import { stringify } from 'yaml';
import { parseConfigText } from '../../../src/config/load-config';
import {
  assertWebhookClosed,
  sameSecret,
  type WebhookCredentials,
  webhookAuthorized,
  webhookCredentials,
} from '../../../src/ingest/webhook-auth';
import { expectPilotError } from '../../support/expect-pilot-error';

const config = (alertmanager: Record<string, unknown> | undefined) =>
  parseConfigText(
    stringify({ slack: { channels: ['C0123ALERTS'] }, ...(alertmanager ? { alertmanager } : {}) }),
    'test.yml',
  );
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('assertWebhookClosed', () => {
  it('refuses to start with no credentials, in one line that names both ways out', () => {
    const e = expectPilotError(() => assertWebhookClosed(config(undefined)), 'CONFIG_INVALID');
    expect(e.message).toMatch(/alertmanager\.token is empty .* would accept alerts from anyone/);
    expect(e.hint).toMatch(/alertmanager\.token/);
    expect(e.hint).toMatch(/alertmanager\.allowUnauthenticated: true/);
    expect(`${e.message}. ${e.hint}`).not.toMatch(/\n/);
  });

  it.each([
    ['a bearer token', { token: 's3cret' }],
    ['basic auth', { basicAuth: { username: 'am', password: 'pw' } }],
    ['the explicit choice', { allowUnauthenticated: true }],
  ])('starts with %s', (_name, am) => {
    expect(() => assertWebhookClosed(config(am))).not.toThrow();
  });

  it('rejects half a basicAuth in the schema', () => {
    expect(() => config({ basicAuth: { username: 'am' } })).toThrow(/alertmanager\.basicAuth\.password/);
  });
});

describe('webhookAuthorized', () => {
  const token: WebhookCredentials = webhookCredentials(config({ token: 's3cret' }));
  const both: WebhookCredentials = webhookCredentials(
    config({ token: 's3cret', basicAuth: { username: 'am', password: 'p:w d' } }),
  );
  const basicOnly: WebhookCredentials = webhookCredentials(config({ basicAuth: { username: 'am', password: 'pw' } }));

  it.each<[string, WebhookCredentials, string | string[] | undefined, boolean]>([
    ['the bearer token', token, 'Bearer s3cret', true],
    ['the scheme in any case', token, 'bearer s3cret', true],
    ['no header', token, undefined, false],
    ['an empty header', token, '', false],
    ['a wrong token', token, 'Bearer s3cre', false],
    ['a longer token', token, 'Bearer s3cret-and-more', false],
    ['the token with no scheme', token, 's3cret', false],
    ['the token twice', token, 'Bearer s3cret s3cret', false],
    ['a header sent twice', token, ['Bearer s3cret', 'Bearer s3cret'], false],
    ['basic auth when only a token is set', token, basic('am', 's3cret'), false],
    ['basic auth', both, basic('am', 'p:w d'), true],
    ['the bearer token beside basic auth', both, 'Bearer s3cret', true],
    ['a wrong password', both, basic('am', 'p:w'), false],
    ['a wrong user', both, basic('AM', 'p:w d'), false],
    ['no colon', both, `Basic ${Buffer.from('amp:w d'.replace(':', '')).toString('base64')}`, false],
    ['garbage base64', both, 'Basic !!!', false],
    ['a bearer token when only basic auth is set', basicOnly, 'Bearer ', false],
    ['an empty bearer when only basic auth is set', basicOnly, 'Bearer x', false],
  ])('%s → %s', (_name, creds, header, expected) => {
    expect(webhookAuthorized(header, creds)).toBe(expected);
  });

  it('accepts anything when nothing is configured (start-up only allows that when chosen)', () => {
    expect(webhookAuthorized(undefined, webhookCredentials(config({ allowUnauthenticated: true })))).toBe(true);
  });
});

describe('sameSecret', () => {
  it('compares strings of any length without throwing', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
    expect(sameSecret('', 'x'.repeat(10_000))).toBe(false);
    expect(sameSecret('é', 'é')).toBe(true);
  });
});
