/**
 * The one mitigation plan (#20 §1, #19 §7): every entry point asks the same chain (closed → labels → host → the host
 * asked for → access → commands), and the plan's digest binds the incident, the host, the action and the exact
 * command texts. Pure but for the access fake; nothing is recorded here (the service audits refusals).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommand } from '../../../src/actions/build-command';
import { builtinActions } from '../../../src/actions/catalog';
import type { ActionSpec } from '../../../src/actions/types';
import { parseConfigText } from '../../../src/config/load-config';
import type { HostConfig } from '../../../src/config/schema';
import { PilotError } from '../../../src/errors';
import type { Incident } from '../../../src/incident/types';
import { type MitigationRequest, type PlanDeps, planDigest, planMitigation } from '../../../src/mitigation/plan';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook, Step } from '../../../src/runbook/types';
import { openIncident } from '../../support/domain-fixtures';

const REPO = join(__dirname, '../../..');
const config = parseConfigText(readFileSync(join(REPO, 'config.example.yml'), 'utf8'), 'config.example.yml', {
  env: { ALERTMANAGER_TOKEN: 'example-token' },
});
const registry = loadRunbooks(join(REPO, 'runbooks'), builtinActions);
const runbook = registry.get('HaproxyServerDown') as Runbook;
const lb1 = config.hosts[0];
// A second load balancer whose commands are the same text as lb-1's (same paths): only the host tells them apart.
const lb2: HostConfig = {
  ...lb1,
  name: 'lb-2',
  match: { instance: ['lb-2:9101'] },
  ssh: { ...lb1.ssh, host: '10.0.0.6' },
};
const ONCALL = 'U0123ONCALL';
const INTERN = 'U0INTERN01';

function stepWith(actionId: string): { step: Step; action: ActionSpec } {
  const step = runbook.steps.find((s) => s.actions.includes(actionId)) as Step;
  return { step, action: registry.action(runbook, actionId) as ActionSpec };
}

function deps(over: Partial<PlanDeps> = {}): PlanDeps & { built: string[] } {
  const built: string[] = [];
  return {
    built,
    access: { check: async (user) => ({ allowed: user === ONCALL, grantees: [ONCALL] }) },
    hosts: [lb1, lb2],
    buildCommand: (action, ctx) => {
      built.push(`${action.id}@${ctx.host.name}`);
      return buildCommand(action, ctx);
    },
    precheckAction: registry.action(undefined, 'config-check'),
    restartActions: config.mitigation.restartActions,
    ...over,
  };
}

const req = (actionId: string, over: Partial<MitigationRequest> = {}): MitigationRequest => ({
  incident: openIncident(),
  ...stepWith(actionId),
  user: ONCALL,
  ...over,
});

describe('planMitigation: one chain for every entry point', () => {
  it('plans a restart: the host, the pre-check and the action built once each, and a digest of all of it', async () => {
    const d = deps();
    const plan = await planMitigation(d, req('restart'));
    if (plan.kind !== 'plan') throw new Error(`refused: ${plan.error.message}`);
    expect(plan.host.name).toBe('lb-1');
    expect(plan.commands.precheck?.actionId).toBe('config-check');
    expect(plan.commands.action.command).toContain('-st');
    expect(d.built).toEqual(['config-check@lb-1', 'restart@lb-1']);
    expect(plan.digest).toBe(planDigest({ incidentId: 7, host: 'lb-1', actionId: 'restart', commands: plan.commands }));
  });

  it.each<[string, Partial<MitigationRequest>, Partial<PlanDeps>, string]>([
    ['a resolved incident', { incident: openIncident({ status: 'resolved' }) }, {}, 'INCIDENT_CLOSED'],
    [
      'a label the action needs is missing',
      {
        incident: openIncident({
          alert: {
            ...openIncident().alert,
            labels: { alertname: 'HaproxyServerDown', instance: 'lb-1:9101' },
            missingLabels: ['server', 'backend'],
          },
        }),
      },
      {},
      'LABELS_MISSING',
    ],
    ['a host not configured', { incident: openIncident({ hostName: 'lb-9' }) }, {}, 'HOST_NOT_CONFIGURED'],
    ['the submission names another host than the incident is on', { host: 'lb-2' }, {}, 'CONFIRMATION_CHANGED'],
    ['a user without access', { user: INTERN }, {}, 'NOT_ALLOWED'],
    [
      'a group lookup that fails (closed)',
      {},
      { access: { check: () => Promise.reject(new PilotError('NOT_ALLOWED', 'could not read the group')) } },
      'NOT_ALLOWED',
    ],
    [
      'a command that cannot be built',
      {},
      {
        buildCommand: () => {
          throw new PilotError('PARAM_INVALID', 'bad value');
        },
      },
      'PARAM_INVALID',
    ],
  ])('refuses %s, building nothing before the refusing rule', async (_name, over, depsOver, code) => {
    const d = deps(depsOver);
    const out = await planMitigation(d, req('drain', over));
    expect(out.kind === 'refused' && out.error.code).toBe(code);
    if (code !== 'PARAM_INVALID') expect(d.built).toEqual([]);
  });

  it('checks the cheapest rule first: a resolved incident is refused without asking who may', async () => {
    const asked: string[] = [];
    const d = deps({
      access: {
        check: async (user) => {
          asked.push(user);
          return { allowed: false, grantees: [] };
        },
      },
    });
    const out = await planMitigation(d, req('restart', { incident: openIncident({ status: 'resolved' }) }));
    expect(out.kind === 'refused' && out.error.code).toBe('INCIDENT_CLOSED');
    expect(asked).toEqual([]);
  });

  it('clears or refuses a host-only request (`/incident run` before an incident opens) on access alone', async () => {
    const d = deps();
    const { action } = stepWith('restart');
    expect(await planMitigation(d, { user: ONCALL, action, host: lb2 })).toEqual({ kind: 'cleared', host: lb2 });
    const refused = await planMitigation(d, { user: INTERN, action, host: lb2 });
    expect(refused).toMatchObject({ kind: 'refused', host: 'lb-2', error: { code: 'NOT_ALLOWED' } });
    expect(d.built).toEqual([]);
  });
});

describe('planDigest binds everything the confirmation shows', () => {
  const base = async (incident: Incident = openIncident()) => {
    const plan = await planMitigation(deps(), req('restart', { incident }));
    if (plan.kind !== 'plan') throw new Error('refused');
    return plan;
  };

  it('differs for another incident, another host, another action or another command text', async () => {
    const a = await base();
    const parts = { incidentId: 7, host: 'lb-1', actionId: 'restart', commands: a.commands };
    expect(planDigest(parts)).toBe(a.digest);
    // the same command texts on lb-2 (same paths): only the host differs, and so does the digest
    const onLb2 = await base(
      openIncident({
        id: 8,
        hostName: 'lb-2',
        alert: { ...openIncident().alert, labels: { ...openIncident().alert.labels, instance: 'lb-2:9101' } },
      }),
    );
    expect(onLb2.commands.action.command).toBe(a.commands.action.command);
    expect(onLb2.digest).not.toBe(a.digest);
    const variants = [
      planDigest({ ...parts, incidentId: 8 }),
      planDigest({ ...parts, host: 'lb-2' }),
      planDigest({ ...parts, actionId: 'reload' }),
      planDigest({
        ...parts,
        commands: { ...a.commands, action: { ...a.commands.action, command: `${a.commands.action.command} ` } },
      }),
      planDigest({ ...parts, commands: { action: a.commands.action } }),
    ];
    expect(new Set([a.digest, ...variants]).size).toBe(6);
  });
});
