import type { Config } from '../../../src/config/schema';
import { AccessPolicy, slackGroupMembers } from '../../../src/mitigation/access';
import { expectPilotError } from '../../support/expect-pilot-error';

const access = (extra: Partial<Config['access']> = {}): Config['access'] => ({
  mitigate: ['U0ONCALL01', 'S0123SRE'],
  hosts: { edge: ['U0NETOPS1'] },
  groupCacheSec: 300,
  ...extra,
});

/** A hand-written reader of group members that counts its calls and can be told to fail. */
function groups(members: Record<string, string[]>) {
  const reader = { calls: 0, fail: false };
  const read = async (id: string) => {
    reader.calls++;
    if (reader.fail) throw new Error('missing_scope');
    return members[id] ?? [];
  };
  return { reader, read };
}

describe('AccessPolicy', () => {
  const lb1 = { name: 'lb-1', group: 'edge' };
  const lb2 = { name: 'lb-2' };

  it.each([
    ['a listed user', 'U0ONCALL01', lb2, true],
    ['a member of a listed group', 'U0SREMATE1', lb2, true],
    ['a user granted for the host group', 'U0NETOPS1', lb1, true],
    ['that user on another host', 'U0NETOPS1', lb2, false],
    ['anyone else', 'U0INTERN01', lb1, false],
  ])('decides for %s', async (_name, user, host, allowed) => {
    const { read } = groups({ S0123SRE: ['U0SREMATE1'] });
    const decision = await new AccessPolicy(access(), read).check(user, host);
    expect(decision.allowed).toBe(allowed);
    expect(decision.grantees).toEqual(expect.arrayContaining(['U0ONCALL01', 'S0123SRE']));
  });

  it('caches group members for groupCacheSec, then asks again', async () => {
    let now = 0;
    const { reader, read } = groups({ S0123SRE: ['U0SREMATE1'] });
    const policy = new AccessPolicy(access(), read, () => new Date(now));
    await policy.check('U0INTERN01', lb2);
    await policy.check('U0INTERN01', lb2);
    expect(reader.calls).toBe(1);
    now = 301_000;
    await policy.check('U0INTERN01', lb2);
    expect(reader.calls).toBe(2);
  });

  it('refuses when the group cannot be read (fail closed), and does not cache the failure', async () => {
    const { reader, read } = groups({ S0123SRE: ['U0SREMATE1'] });
    const policy = new AccessPolicy(access(), read);
    reader.fail = true;
    const err = await policy.check('U0SREMATE1', lb2).catch((e: unknown) => e);
    expectPilotError(
      () => {
        throw err;
      },
      'NOT_ALLOWED',
      'could not read the members of user group S0123SRE (missing_scope)',
      'refused to be safe',
    );
    reader.fail = false;
    await expect(policy.check('U0SREMATE1', lb2)).resolves.toMatchObject({ allowed: true });
  });
});

describe('AccessPolicy.checkResolve', () => {
  const lb1 = { name: 'lb-1', group: 'edge' };
  it.each([
    ['someone who may mitigate the host', 'U0NETOPS1', lb1, {}, true],
    ['a member of a listed group', 'U0SREMATE1', lb1, {}, true],
    ['anyone else, by default', 'U0INTERN01', lb1, {}, false],
    ['someone listed under access.resolve', 'U0INTERN01', lb1, { resolve: ['U0INTERN01'] }, true],
    ['a member of a group under access.resolve', 'U0LEAD0001', lb1, { resolve: ['S0LEADS01'] }, true],
    ['a host grant, for an incident with no host', 'U0NETOPS1', undefined, {}, false],
    ['access.mitigate, for an incident with no host', 'U0ONCALL01', undefined, {}, true],
  ])('decides for %s', async (_name, user, host, extra, allowed) => {
    const { read } = groups({ S0123SRE: ['U0SREMATE1'], S0LEADS01: ['U0LEAD0001'] });
    expect((await new AccessPolicy(access(extra), read).checkResolve(user, host)).allowed).toBe(allowed);
  });
});

describe('slackGroupMembers', () => {
  it('asks usergroups.users.list for the group; a group Slack answers without users is empty', async () => {
    const asked: string[] = [];
    const client = {
      usergroups: {
        users: {
          list: async ({ usergroup }: { usergroup: string }) => {
            asked.push(usergroup);
            return usergroup === 'S0123SRE' ? { users: ['U0ONCALL01'] } : {};
          },
        },
      },
    };
    const read = slackGroupMembers(client);
    expect(await read('S0123SRE')).toEqual(['U0ONCALL01']);
    expect(await read('S0EMPTY')).toEqual([]);
    expect(asked).toEqual(['S0123SRE', 'S0EMPTY']);
  });
});
