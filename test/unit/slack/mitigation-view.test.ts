import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputBlock, ModalView } from '@slack/types';
import { builtinActions } from '../../../src/actions/catalog';
import { parseConfigText } from '../../../src/config/load-config';
import type { Incident } from '../../../src/incident/types';
import { planDigest } from '../../../src/mitigation/mitigation-service';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook } from '../../../src/runbook/types';
import {
  COMMAND_PREVIEW_LINES,
  commandsView,
  confirmationView,
  RESOLVED_ACK,
} from '../../../src/slack/blocks/mitigation';

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

describe('confirmationView: decide first, then the commands (#21 item 11)', () => {
  const script = Array.from({ length: 30 }, (_, i) => `echo "line ${i + 1} of the restart script & more"`).join('\n');
  const long = { command: script, argv: [] } as never;
  const plan = (commands: { action: never }) => ({
    incident,
    request: { step, action },
    host: config.hosts[0],
    commands,
    digest: 'd',
  });
  const view = <ModalView>confirmationView({ plan: plan({ action: long }), alertActive: true, dryRunOnly: false });
  const ids = view.blocks.map((b) => b.block_id ?? b.type);

  it('puts the reason and the dry-run option above the commands', () => {
    expect(ids.indexOf('reason')).toBeLessThan(ids.indexOf('commands'));
    expect(ids.indexOf('options')).toBeLessThan(ids.indexOf('commands'));
  });

  it('shows a long script short, with every line one click away (All commands)', () => {
    const i = ids.indexOf('commands');
    const head = view.blocks[i] as {
      text: { text: string };
      accessory?: { action_id: string; text: { text: string } };
    };
    expect(head.text.text).toBe(
      `These exact commands will run (the first ${COMMAND_PREVIEW_LINES} of 31 lines; *All commands* shows every line):`,
    );
    expect(head.accessory).toMatchObject({ action_id: 'mitigation.showCommands', text: { text: 'All commands' } });
    const code = (view.blocks[i + 1] as { text: { text: string } }).text.text;
    expect(code).toContain('line 7 of the restart script');
    expect(code).not.toContain('line 8 of');
    // the pushed view has every line
    const all = JSON.stringify(commandsView({ action, host: config.hosts[0], commands: { action: long } }).blocks);
    for (let n = 1; n <= 30; n++) expect(all).toContain(`line ${n} of the restart script &amp; more`);
  });

  it('a short script is shown whole, without the button', () => {
    const short = <ModalView>confirmationView({ plan: plan({ action: built }), alertActive: true, dryRunOnly: false });
    expect(JSON.stringify(short.blocks)).toContain('sudo -n systemctl restart haproxy');
    expect(JSON.stringify(short.blocks)).not.toContain('mitigation.showCommands');
  });

  it('All commands splits a very long script over several code blocks, each within 3000 characters', () => {
    const huge = {
      command: Array.from({ length: 400 }, (_, i) => `printf 'step %d\\n' ${i}`).join('\n'),
      argv: [],
    } as never;
    const blocks = commandsView({ action, host: config.hosts[0], commands: { action: huge } }).blocks as Array<{
      text?: { text: string };
    }>;
    expect(blocks.length).toBeGreaterThan(2);
    for (const b of blocks) expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(blocks)).toContain("printf 'step %d\\\\n' 399");
  });
});
