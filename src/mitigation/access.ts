/**
 * Who may change a host: the users and user groups listed under `access.mitigate`, plus those granted for the host
 * or its group under `access.hosts`. Who may resolve an incident by hand: the same people, plus `access.resolve`.
 * Group members come from Slack (`usergroups.users.list`) and are cached.
 */
import type { Config, HostConfig } from '../config/schema';
import { asPilotError, PilotError } from '../errors';

/** Reads a user group's members (Slack's usergroups.users.list). */
export type GroupMembersReader = (groupId: string) => Promise<string[]>;

/** The group reader over a Slack Web API client (usergroups.users.list; a group without members is empty). */
export function slackGroupMembers(client: {
  usergroups: { users: { list(args: { usergroup: string }): Promise<{ users?: string[] }> } };
}): GroupMembersReader {
  return async (usergroup) => (await client.usergroups.users.list({ usergroup })).users ?? [];
}

export interface AccessDecision {
  allowed: boolean;
  /** The ids that grant access to this host, to tell a refused user who may. */
  grantees: string[];
}

export class AccessPolicy {
  private readonly cache = new Map<string, { members: Promise<string[]>; until: number }>();

  constructor(
    private readonly access: Config['access'],
    private readonly readMembers: GroupMembersReader,
    /** The bot's clock (core.now). */
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The ids (users `U…`/`W…`, groups `S…`) that may change `host`. */
  grantees(host: Pick<HostConfig, 'name' | 'group'>): string[] {
    const extra = [
      ...(this.access.hosts[host.name] ?? []),
      ...(host.group ? (this.access.hosts[host.group] ?? []) : []),
    ];
    return [...new Set([...this.access.mitigate, ...extra])];
  }

  /** Decides whether `user` may change `host`. A group lookup failure denies: it throws NOT_ALLOWED (fail closed). */
  check(user: string, host: Pick<HostConfig, 'name' | 'group'>): Promise<AccessDecision> {
    return this.decide(user, this.grantees(host));
  }

  /**
   * The ids that may resolve an incident by hand: those who may change its host (only `access.mitigate` when it has
   * none), widened by `access.resolve`.
   */
  resolveGrantees(host: Pick<HostConfig, 'name' | 'group'> | undefined): string[] {
    return [...new Set([...(host ? this.grantees(host) : this.access.mitigate), ...(this.access.resolve ?? [])])];
  }

  /** Decides whether `user` may resolve an incident on `host` (undefined: no configured host). Fails closed. */
  checkResolve(user: string, host: Pick<HostConfig, 'name' | 'group'> | undefined): Promise<AccessDecision> {
    return this.decide(user, this.resolveGrantees(host));
  }

  private async decide(user: string, grantees: string[]): Promise<AccessDecision> {
    if (grantees.includes(user)) return { allowed: true, grantees };
    for (const id of grantees.filter((g) => g.startsWith('S'))) {
      const members = await this.members(id).catch((err: unknown) => {
        throw new PilotError(
          'NOT_ALLOWED',
          `could not read the members of user group ${id} (${asPilotError(err).message}); refused to be safe`,
          {
            hint: 'check that the bot has the usergroups:read scope, then try again',
          },
        );
      });
      if (members.includes(user)) return { allowed: true, grantees };
    }
    return { allowed: false, grantees };
  }

  private members(groupId: string): Promise<string[]> {
    const hit = this.cache.get(groupId);
    if (hit && hit.until > this.now().getTime()) return hit.members;
    const members = this.readMembers(groupId);
    this.cache.set(groupId, { members, until: this.now().getTime() + this.access.groupCacheSec * 1000 });
    // A failed lookup must not be cached: the next click asks again.
    members.catch(() => this.cache.delete(groupId));
    return members;
  }
}
