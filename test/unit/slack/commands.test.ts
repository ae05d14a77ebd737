/**
 * `/incident` scope and authority (#12 §3), with fakes: answered only in the incident channels, incidents found only
 * in the channel they live in, resolve and mitigation under the access rules, and no reply listing hosts.
 */
import { join } from 'node:path';
import type { WebClient } from '@slack/web-api';
import { stringify } from 'yaml';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import { parseConfigText } from '../../../src/config/load-config';
import { SqliteIncidentStore } from '../../../src/incident/sqlite-store';
import type { Incident } from '../../../src/incident/types';
import { createLogger } from '../../../src/logger';
import { AccessPolicy } from '../../../src/mitigation/access';
import { MitigationService } from '../../../src/mitigation/mitigation-service';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { AlertFlow } from '../../../src/slack/alert-flow';
import { type CommandDeps, dispatch, outsideChannelsText } from '../../../src/slack/commands';
import type { IncidentPresenter } from '../../../src/slack/incident-presenter';
import { firingAlert } from '../../support/domain-fixtures';
import { mrkdwnFindings } from '../../support/slack-markup-findings';

const ALERTS = 'C0123ALERTS';
const OTHER = 'C0OTHERINC';
const ONCALL = 'U0ONCALL01';
const INTERN = 'U0INTERN01';
const RESOLVER = 'U0RESOLVE1';
const lb1 = {
  name: 'lb-1',
  match: { instance: ['lb-1:9101'] },
  ssh: {
    host: '10.0.0.5',
    user: 'ops',
    privateKeyPath: '/k',
    hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  },
};
const secretHost = { ...lb1, name: 'db-primary-secret', match: { instance: ['db:9101'] } };

async function setup(access: Record<string, unknown> = { mitigate: [ONCALL] }) {
  const config = parseConfigText(
    stringify({ slack: { channels: [ALERTS, OTHER] }, alertmanager: { token: 't' }, hosts: [lb1, secretHost], access }),
    'test.yml',
  );
  const store = new SqliteIncidentStore(':memory:');
  const at = '2026-11-25T03:00:00.000Z';
  const here = (
    await store.openOrGet({
      alert: firingAlert({ fingerprint: 'fp-here' }),
      hostName: 'lb-1',
      channel: ALERTS,
      threadTs: '1.1',
      at,
    })
  ).incident;
  const there = (
    await store.openOrGet({
      alert: firingAlert({ fingerprint: 'fp-there', labels: { alertname: 'HaproxyServerDown', instance: 'db:9101' } }),
      hostName: 'db-primary-secret',
      channel: OTHER,
      threadTs: '2.2',
      at,
    })
  ).incident;
  const calls: Array<{ what: string; args: unknown[] }> = [];
  const flow = {
    resolveByUser: async (incident: Incident, user: string) => {
      calls.push({ what: 'resolve', args: [incident.id, user] });
      return incident;
    },
    openManual: async (...args: unknown[]) => {
      calls.push({ what: 'openManual', args });
      return (
        await store.openOrGet({
          alert: firingAlert({ fingerprint: `manual-${calls.length}` }),
          hostName: 'lb-1',
          channel: args[3] as string,
          threadTs: '9.9',
          at,
        })
      ).incident;
    },
  } as unknown as AlertFlow;
  const presenter = {
    permalink: async (i: Incident) => `https://example.slack.com/archives/${i.channel}/p${i.threadTs}`,
    reply: async () => '5.5',
  } as unknown as IncidentPresenter;
  const policy = new AccessPolicy(
    config.access,
    async () => [],
    () => new Date(at),
  );
  const never = () => Promise.reject(new Error('nothing runs in these tests'));
  const mitigation = new MitigationService({
    store,
    access: policy,
    hosts: config.hosts,
    settings: config.mitigation,
    buildCommand,
    runQuietly: never,
    runStep: never,
    readBack: never,
    now: () => new Date(at),
    sleep: never,
  });
  const deps = {
    config,
    store,
    runbooks: loadRunbooks(join(__dirname, '..', '..', '..', 'runbooks'), builtinActions),
    logger: createLogger('silent'),
    now: () => new Date(at),
    presenter,
    flow,
    access: policy,
    mitigation,
    requestMitigation: async (args: { action: { id: string }; user: string }) =>
      void calls.push({ what: 'requestMitigation', args: [args.action.id, args.user] }),
    runAndReport: async (req: { action: { id: string }; user: string }) => {
      calls.push({ what: 'runAndReport', args: [req.action.id, req.user] });
      return { kind: 'ran' };
    },
  } as unknown as CommandDeps;
  const replies: string[] = [];
  const run = (text: string, user = ONCALL, channel = ALERTS) =>
    dispatch(deps, {} as WebClient, { user, channel, triggerId: 't.1' }, text, async (t) => void replies.push(t));
  return { deps, store, calls, replies, run, here, there };
}

describe('/incident scope (#12 §3)', () => {
  it.each([
    ['a DM', 'D0DIRECT01'],
    ['another channel', 'C0RANDOM01'],
    ['a group DM', 'G0GROUP001'],
  ])('answers in %s with one line saying where to use it, and nothing else', async (_name, channel) => {
    const { run, replies, calls } = await setup();
    for (const text of ['list', 'show 1', 'resolve 1', 'run backend-state lb-1', 'help', 'note 1 hi'])
      await run(text, ONCALL, channel);
    expect(replies).toEqual(Array(6).fill(outsideChannelsText([ALERTS, OTHER])));
    expect(replies[0].split('\n')).toHaveLength(1);
    expect(calls).toEqual([]);
  });

  it('lists only the incidents of the channel it was typed in', async () => {
    const { run, replies, here, there } = await setup();
    await run('list');
    expect(replies[0]).toContain(`#${here.id}`);
    expect(replies[0]).not.toContain(`#${there.id}`);
    expect(replies[0]).not.toContain(OTHER);
    await run('list', ONCALL, OTHER);
    expect(replies[1]).toContain(`#${there.id}`);
    expect(replies[1]).not.toContain(`#${here.id}`);
  });

  it.each(['show', 'timeline', 'resolve'])(
    '`%s` of an incident of another channel reads as unknown here',
    async (sub) => {
      const { run, replies, calls, there } = await setup();
      await run(`${sub} ${there.id}`);
      expect(replies[0]).toMatch(new RegExp(`#${there.id} does not exist`));
      expect(replies[0]).not.toContain('db-primary-secret');
      expect(calls).toEqual([]);
    },
  );

  it('resolve: refused to someone who may not mitigate the host, recorded on the timeline', async () => {
    const { run, calls, store, here } = await setup();
    await expect(run(`resolve ${here.id}`, INTERN)).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
      message: `you may not resolve #${here.id}`,
      details: { grantees: [ONCALL] },
    });
    expect(calls).toEqual([]);
    expect((await store.get(here.id))?.status).toBe('open');
    expect((await store.timeline(here.id)).map((e) => [e.type, e.actor])).toContainEqual([
      'incident.resolve-refused',
      INTERN,
    ]);
    await run(`resolve ${here.id}`, ONCALL);
    expect(calls).toEqual([{ what: 'resolve', args: [here.id, ONCALL] }]);
  });

  it('resolve: access.hosts grants count, and access.resolve widens it', async () => {
    const { run, calls, here } = await setup({ mitigate: [ONCALL], hosts: { 'lb-1': [INTERN] }, resolve: [RESOLVER] });
    await run(`resolve ${here.id}`, INTERN);
    const second = await setup({ mitigate: [ONCALL], resolve: [RESOLVER] });
    await second.run(`resolve ${second.here.id}`, RESOLVER);
    expect([...calls, ...second.calls].map((c) => c.args[1])).toEqual([INTERN, RESOLVER]);
  });

  it('run of a mitigation: refused before an incident is opened by hand or a modal is asked for', async () => {
    const { run, calls, store } = await setup();
    await store.update(1, { status: 'resolved' });
    await expect(run('run restart lb-1', INTERN)).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
      message: expect.stringContaining('you may not run Restart HAProxy on lb-1'),
    });
    expect(calls).toEqual([]);
    // refused by the mitigation plan, and audited there like every refusal (no incident yet: none is named)
    expect(await store.audits({ host: 'lb-1' })).toEqual([
      expect.objectContaining({
        user: INTERN,
        actionId: 'restart',
        outcome: 'refused',
        details: expect.objectContaining({ code: 'NOT_ALLOWED' }),
      }),
    ]);
    expect((await store.audits())[0].incidentId).toBeUndefined();
    await run('run restart lb-1', ONCALL);
    expect(calls.map((c) => c.what)).toEqual(['openManual', 'requestMitigation']);
    // opened in the channel the command was typed in
    expect(calls[0].args[3]).toBe(ALERTS);
  });

  it('run of a read step stays open to the channel’s members', async () => {
    const { run, replies, calls } = await setup();
    await run('run config-check lb-1', INTERN);
    expect(replies.join('\n')).toMatch(/Running .* on `lb-1`/);
    expect(calls).toContainEqual({ what: 'runAndReport', args: ['config-check', INTERN] });
  });

  it('never lists the configured hosts for an unknown one', async () => {
    const { run, replies } = await setup();
    await run('run backend-state lb-9');
    expect(replies[0]).toMatch(/No host named `lb-9` is configured\./);
    expect(replies[0]).not.toContain('lb-1');
    expect(replies[0]).not.toContain('db-primary-secret');
  });
});

describe('/incident help (#21 item 8)', () => {
  it('keeps its placeholders as Slack shows mrkdwn: `show <id>`, not `show id`', async () => {
    const { run, replies } = await setup();
    await run('help');
    // given Slack's reading of mrkdwn: <…> is a link or a mention, &lt; and &gt; show as < and >
    expect(mrkdwnFindings(replies[0], 'help')).toEqual([]);
    const shown = replies[0]
      .replace(/<[^>]*>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
    for (const usage of [
      'show <id>',
      'timeline <id>',
      'run <step> <host>',
      'host <id> <host>',
      'note <id> <text>',
      'resolve <id>',
    ])
      expect(shown).toContain(`\`${usage}\``);
  });
});
