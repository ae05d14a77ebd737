/**
 * Issue #12 §3 through the real bot: `/incident` is answered only in the incident channels, lists and finds only the
 * incidents of the channel it is typed in, resolves and mitigates only under the access rules, and never lists the
 * configured hosts.
 */
import { HostSchema } from '../../../src/config/schema';
import { unusedKeyFile } from '../../support/fakes';
import { CHANNEL, type Harness, INTERN, ONCALL, startHarness } from '../../support/pilot-harness';
import { plain } from '../../support/step-helpers';

const OTHER = 'C0OTHERINC';
// Never connected to: every case here is decided before a command would run.
const host = (name: string, instance: string) =>
  HostSchema.parse({
    name,
    match: { instance: [instance] },
    ssh: {
      host: '127.0.0.1',
      port: 9,
      user: 'ops',
      privateKeyPath: unusedKeyFile(),
      hostKey: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    },
  });

async function slash(h: Harness, text: string, user = ONCALL, channelId = CHANNEL): Promise<string> {
  const since = h.slack.calls('response_url').length;
  const res = await h.slack.slashCommand({ command: '/incident', text, userId: user, channelId });
  expect(res.status).toBe(200);
  await h.slack.waitFor('response_url', () => h.slack.calls('response_url').length > since, 5000);
  const calls = h.slack.calls('response_url');
  return plain(String(calls[calls.length - 1].args.text ?? ''));
}

describe('security: /incident scope and authority (#12 §3)', () => {
  let h: Harness;
  let id: number;
  beforeAll(async () => {
    h = await startHarness({
      hosts: [host('lb-test', '127.0.0.1:9101'), host('db-primary-secret', 'db:9101')],
      config: { slack: { channels: [CHANNEL, OTHER], postsPerSecond: 50, postBurst: 50 } },
    });
    h.slack.setChannel(OTHER, 'incidents-private');
    const ts = await h.postFixture('single.slack-default.firing.event.json');
    await h.incidentMessage(ts);
    id = (await h.pilot.deps.store.listOpen())[0].id;
  });
  afterAll(() => h.stop());

  it('answers a DM or another channel with one line that says where, listing nothing', async () => {
    for (const channel of ['D0DIRECT01', 'C0RANDOM01']) {
      const out = await slash(h, 'list', INTERN, channel);
      expect(out.split('\n')).toHaveLength(1);
      expect(out).toMatch(/works only in the incident channels .* use it there/);
      expect(out).not.toContain(`#${id}`);
      expect(out).not.toMatch(/https?:|\|thread>|HaproxyServerDown/);
    }
  });

  it('lists the incidents of the channel it was typed in only', async () => {
    expect(await slash(h, 'list', INTERN)).toContain(`#${id}`);
    const elsewhere = await slash(h, 'list', INTERN, OTHER);
    expect(elsewhere).toMatch(/No open incidents in this channel/);
    expect(await slash(h, `show ${id}`, INTERN, OTHER)).toMatch(new RegExp(`#${id} does not exist`));
  });

  it('refuses resolve to someone who may not mitigate the host; the incident stays open', async () => {
    const out = await slash(h, `resolve ${id}`, INTERN);
    expect(out).toMatch(new RegExp(`you may not resolve #${id}: only <!subteam\\^S0123SRE> may`));
    expect((await h.pilot.deps.store.get(id))?.status).toBe('open');
    expect((await h.pilot.deps.store.timeline(id)).map((e) => e.type)).toContain('incident.resolve-refused');
  });

  it('refuses a mitigation through run before opening anything', async () => {
    const before = (await h.pilot.deps.store.listOpen()).length;
    const out = await slash(h, 'run restart db-primary-secret', INTERN);
    expect(out).toMatch(/you may not run Restart HAProxy on db-primary-secret/);
    expect((await h.pilot.deps.store.listOpen()).length).toBe(before);
    expect(h.slack.calls('views.open')).toHaveLength(0);
  });

  it('never lists the configured hosts for a name it does not know', async () => {
    const out = await slash(h, 'run backend-state lb-nope', INTERN);
    expect(out).toMatch(/No host named `lb-nope` is configured\./);
    expect(out).not.toMatch(/lb-test|db-primary-secret/);
  });

  it('resolves for someone allowed', async () => {
    expect(await slash(h, `resolve ${id}`, ONCALL)).toMatch(new RegExp(`Resolved #${id}`));
    expect((await h.pilot.deps.store.get(id))?.status).toBe('resolved');
  });
});
