import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputBlock, ModalView } from '@slack/types';
import { builtinActions } from '../../../src/actions/catalog';
import { parseConfigText } from '../../../src/config/load-config';
import type { Incident } from '../../../src/incident/types';
import { planDigest } from '../../../src/mitigation/mitigation-service';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook } from '../../../src/runbook/types';
import { confirmationView, RESOLVED_ACK } from '../../../src/slack/blocks/mitigation';

const REPO = join(__dirname, '../../..');
const config = parseConfigText(readFileSync(join(REPO, 'config.example.yml'), 'utf8'), 'config.example.yml', {
  env: { ALERTMANAGER_TOKEN: 'example-token' },
});
const registry = loadRunbooks(join(REPO, 'runbooks'), builtinActions);
const runbook = registry.get('HaproxyServerDown') as Runbook;
const step = runbook.steps.find((s) => s.actions.includes('restart'))!;
const action = registry.action(runbook, 'restart')!;
const incident = { id: 4, channel: 'C0123ALERTS', alert: { labels: {} } } as unknown as Incident; // only id and channel are read
const built = { command: 'sudo -n systemctl restart haproxy', argv: [] } as never; // the view shows .command only

describe('confirmationView and the alert state', () => {
  it.each<[boolean | undefined, boolean]>([
    [true, false],
    [undefined, false],
    [false, true],
  ])('alert active: %s → second confirmation required: %s', (active, required) => {
    const host = config.hosts[0];
    const digest = planDigest({
      incidentId: incident.id,
      host: host.name,
      actionId: action.id,
      commands: { action: built },
    });
    const view = <ModalView>confirmationView({
      plan: { incident, request: { step, action }, host, commands: { action: built }, digest },
      alertActive: active,
      dryRunOnly: false,
    });
    const ack = view.blocks.find((b): b is InputBlock => b.type === 'input' && b.block_id === RESOLVED_ACK);
    const meta = JSON.parse(view.private_metadata ?? '{}') as { r?: number; d?: string; h?: string };
    // the modal is bound to the plan it shows: its digest (incident, host, action, exact commands) and its host
    expect(meta.d).toBe(digest);
    expect(meta.h).toBe(host.name);
    if (!required) {
      expect(ack).toBeUndefined();
      expect(meta.r).toBeUndefined();
      expect(view.submit?.text).toBe('Run');
      return;
    }
    // required (no `optional`), one box with the exact words, flagged in the metadata for the submission handler
    expect(ack?.optional).toBeFalsy();
    expect(ack?.element).toMatchObject({
      type: 'checkboxes',
      action_id: RESOLVED_ACK,
      options: [{ text: { text: 'I know the alert is resolved; run anyway' }, value: RESOLVED_ACK }],
    });
    expect(meta.r).toBe(1);
    expect(view.submit?.text).toBe('Run anyway');
    expect(JSON.stringify(view.blocks)).toContain('no longer active');
  });
});
