/**
 * Only alert senders are alerts (#12 §4): `slack.alertSenders` names the bots, apps and users whose messages are read
 * as alerts (default: any bot's); a person's message may open an incident for a known runbook, under their name, and
 * never resolves one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSlackAlertMessage, senderOf } from '../../../src/ingest/parse-slack-alert';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'slack', name), 'utf8')) as Record<string, unknown>;
const known = { knownAlert: (n: string) => n === 'HaproxyServerDown' };
const typed = (text: string, user = 'U0PERSON01') => ({
  type: 'message',
  channel: 'C0123ALERTS',
  user,
  text,
  ts: '1700000000.000200',
});

describe('senderOf', () => {
  it.each<[string, { botId?: string; appId?: string; userId?: string }, string[] | undefined, string]>([
    ['any bot, by default', { botId: 'B0ALERTMGR' }, undefined, 'alert-sender'],
    ['a person, by default', { userId: 'U0PERSON01' }, undefined, 'person'],
    ['a listed bot id', { botId: 'B0ALERTMGR' }, ['B0ALERTMGR'], 'alert-sender'],
    [
      'a listed app id',
      { botId: 'B0GRAFANA1', appId: 'A0GRAFANA1', userId: 'U0BOTUSER1' },
      ['A0GRAFANA1'],
      'alert-sender',
    ],
    ['a listed user id', { userId: 'U0ALERTER1' }, ['U0ALERTER1'], 'alert-sender'],
    ['a bot not listed', { botId: 'B0OTHERBOT', appId: 'A0OTHER001' }, ['B0ALERTMGR'], 'ignored'],
    ['a person not listed', { userId: 'U0PERSON01' }, ['B0ALERTMGR'], 'person'],
    ['no one at all', {}, undefined, 'ignored'],
  ])('%s', (_name, view, senders, kind) => {
    expect(senderOf(view, senders).kind).toBe(kind);
  });
});

describe('parseSlackAlertMessage and senders', () => {
  it('reads an Alertmanager message from a listed bot, and ignores it from an unlisted one', () => {
    const event = fixture('single.slack-default.firing.event.json');
    expect(parseSlackAlertMessage(event, { ...known, alertSenders: ['B0ALERTMGR'] })?.alerts).toHaveLength(1);
    expect(parseSlackAlertMessage(event, { ...known, alertSenders: ['B0SOMEONE1'] })).toBeNull();
    expect(parseSlackAlertMessage(event, known)?.postedBy).toBeUndefined();
  });

  it('reads an edited (message_changed) alert by its inner message’s sender', () => {
    const event = fixture('single.slack-default.resolved.changed.event.json');
    expect(parseSlackAlertMessage(event, { ...known, alertSenders: ['A0ALERTAPP'] })?.alerts[0]?.status).toBe(
      'resolved',
    );
    expect(parseSlackAlertMessage(event, { ...known, alertSenders: ['B0ALERTMGR'] })).toBeNull();
  });

  it('lets a person open an incident for a known runbook only, under their name', () => {
    const fired = parseSlackAlertMessage(typed('HaproxyServerDown instance=lb-1:9101 backend=web server=web2'), known);
    expect(fired).toMatchObject({ postedBy: 'U0PERSON01', alerts: [{ status: 'firing', source: 'plain' }] });
    expect(parseSlackAlertMessage(typed('SomethingUnknown instance=lb-1:9101'), known)).toBeNull();
  });

  it.each([undefined, ['B0ALERTMGR']])('never lets a person resolve (alertSenders %p)', (alertSenders) => {
    const parsed = parseSlackAlertMessage(
      typed('HaproxyServerDown instance=lb-1:9101 backend=web server=web2 resolved'),
      { ...known, alertSenders },
    );
    expect(parsed?.alerts).toEqual([]);
    expect(parsed?.postedBy).toBe('U0PERSON01');
    expect(parsed?.refused).toMatch(/does not resolve an incident: use `\/incident resolve <id>`/);
  });

  it('lets a user listed as an alert sender resolve with a typed message', () => {
    const parsed = parseSlackAlertMessage(
      typed('HaproxyServerDown instance=lb-1:9101 backend=web server=web2 resolved', 'U0ALERTER1'),
      { ...known, alertSenders: ['U0ALERTER1'] },
    );
    expect(parsed).toMatchObject({ alerts: [{ status: 'resolved' }] });
    expect(parsed?.postedBy).toBeUndefined();
  });
});
