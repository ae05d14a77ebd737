/** The mitigation renderers: structured refusals and outcomes become Slack text here, and only here (#15). */
import { PilotError } from '../../../src/errors';
import type { MitigationOutcome } from '../../../src/mitigation/mitigation-service';
import { errorText } from '../../../src/slack/blocks/error-text';
import {
  formatGrantees,
  renderMitigationOutcome,
  renderMitigationReply,
  renderVerifying,
} from '../../../src/slack/blocks/mitigation';

const view = { action: { id: 'restart', title: 'Restart HAProxy' }, user: 'U0ONCALL01', reason: 'web2 <flaps>' };
const built = (command: string, actionId = 'restart') => ({ actionId, command, params: {} });

describe('errorText of a refusal', () => {
  it('names the grantees as mentions', () => {
    const e = new PilotError('NOT_ALLOWED', 'you may not run Restart HAProxy on lb-1', {
      details: { host: 'lb-1', grantees: ['U0ONCALL01', 'S0123SRE'] },
    });
    expect(errorText(e).text).toBe(
      'you may not run Restart HAProxy on lb-1: only <@U0ONCALL01>, <!subteam^S0123SRE> may. Ask someone listed under access.mitigate to run it.',
    );
  });

  it('names the lock holder and the last restart by mention; a failed attempt is said as failed', () => {
    const busy = new PilotError('HOST_BUSY', 'plain', {
      details: {
        host: 'lb-1',
        holder: { user: 'U0OTHER', actionId: 'drain', incidentId: 3, since: '2026-11-25T03:19:00.000Z' },
        since: '2026-11-25T03:19:00.000Z',
      },
    });
    expect(errorText(busy).text).toMatch(
      /^another mitigation is running on `lb-1` \(drain by <@U0OTHER> for incident #3\) since 03:19:00 UTC; nothing was run\./,
    );
    const details = {
      host: 'lb-1',
      waitSec: 180,
      cooldownSec: 300,
      lastAt: '2026-11-25T03:18:00.000Z',
      lastActionId: 'restart',
      lastUser: 'U0OTHER',
    };
    expect(errorText(new PilotError('COOLDOWN', 'plain', { details: { ...details, lastOutcome: 'ok' } })).text).toMatch(
      /^`lb-1` was last restarted \(restart by <@U0OTHER>\) at 03:18:00 UTC; the cooldown of 300 s has 180 s left/,
    );
    expect(
      errorText(new PilotError('COOLDOWN', 'plain', { details: { ...details, lastOutcome: 'failed' } })).text,
    ).toMatch(/^the last restart attempt on `lb-1` \(restart by <@U0OTHER>\) failed at 03:18:00 UTC/);
  });

  it('escapes a plain message and hides an internal one behind a log id', () => {
    expect(errorText(new PilotError('PRECHECK_FAILED', 'the config check failed <here>')).text).toMatch(
      /^the config check failed &lt;here&gt;\./,
    );
    const internal = errorText(new PilotError('INTERNAL', 'database is locked'));
    expect(internal.logId).toMatch(/^[0-9a-f]{8}$/);
    expect(internal.text).not.toContain('database');
  });

  it('formatGrantees names users and groups as mentions, and says when nobody may', () => {
    expect(formatGrantees(['U0ONCALL01', 'S0123SRE'])).toBe('<@U0ONCALL01>, <!subteam^S0123SRE>');
    expect(formatGrantees([])).toMatch(/^nobody/);
  });
});

describe('renderMitigationOutcome', () => {
  const cases: Array<[string, MitigationOutcome, RegExp | undefined]> = [
    [
      'refused',
      {
        kind: 'refused',
        code: 'RESTART_BUDGET',
        host: 'lb-1',
        error: new PilotError('RESTART_BUDGET', 'lb-1 had 3 restart attempts in the last hour (the limit is 3)'),
      },
      /^Restart HAProxy on lb-1 blocked: lb-1 had 3 restart attempts/,
    ],
    [
      'dry run',
      {
        kind: 'dry-run',
        host: 'lb-1',
        commands: { precheck: built('haproxy -c -f x', 'config-check'), action: built('haproxy -st 1') },
      },
      /^Dry run of Restart HAProxy on lb-1: nothing ran$/,
    ],
    [
      'failed exit',
      { kind: 'failed', host: 'lb-1', command: 'x', exitCode: 1, timedOut: false },
      /failed: the command exited 1/,
    ],
    [
      'verified',
      { kind: 'ran', host: 'lb-1', command: 'x', verification: { verified: true, why: 'new process pid 2 (was 1)' } },
      /^Restart HAProxy on lb-1: verified, new process pid 2/,
    ],
    [
      'not verified',
      {
        kind: 'ran',
        host: 'lb-1',
        command: 'x',
        verification: { verified: false, why: 'the process was not replaced' },
      },
      /^Restart HAProxy on lb-1: not verified, the process was not replaced/,
    ],
    [
      'could not run (the step reply said it)',
      { kind: 'failed', host: 'lb-1', command: 'x', error: new PilotError('SSH_UNREACHABLE', 'down') },
      undefined,
    ],
  ];
  it.each(cases)('%s', (_name, outcome, text) => {
    const rendered = renderMitigationOutcome(view, outcome);
    if (!text) return expect(rendered).toBeUndefined();
    expect(rendered?.message.text).toMatch(text);
  });

  it('shows a dry run with both commands and the reason escaped', () => {
    const rendered = renderMitigationOutcome(view, {
      kind: 'dry-run',
      host: 'lb-1',
      commands: { precheck: built('haproxy -c -f x', 'config-check'), action: built('haproxy -st 1') },
    });
    const text = JSON.stringify(rendered?.message.blocks);
    expect(text).toContain('# pre-check\\nhaproxy -c -f x\\n# restart\\nhaproxy -st 1');
    expect(text).toContain('web2 &lt;flaps&gt;');
  });

  it('shows a failed pre-check with its command and output', () => {
    const rendered = renderMitigationOutcome(view, {
      kind: 'refused',
      code: 'PRECHECK_FAILED',
      host: 'lb-1',
      error: new PilotError('PRECHECK_FAILED', 'the config check failed'),
      precheck: { command: 'haproxy -c -f /etc/haproxy/haproxy.cfg', exitCode: 1, output: "unknown keyword 'bogus'" },
    });
    expect(JSON.stringify(rendered?.message.blocks)).toContain(
      "haproxy -c -f /etc/haproxy/haproxy.cfg\\nunknown keyword 'bogus'",
    );
  });
});

describe('a mitigation in one reply (#20 §2)', () => {
  const step = {
    text: 'Restart HAProxy on lb-1: ok',
    blocks: [
      { type: 'section' as const, text: { type: 'mrkdwn' as const, text: '*Restart HAProxy* on `lb-1` — ✅ exit 0' } },
      { type: 'section' as const, text: { type: 'mrkdwn' as const, text: '```restarted```' } },
    ],
  };

  it('shows the output with a "verifying" line while the host is read back', () => {
    const shown = renderVerifying(step, 'lb-<1>');
    expect(shown.text).toBe(step.text);
    expect(shown.blocks?.slice(0, 2)).toEqual(step.blocks);
    expect(JSON.stringify(shown.blocks?.[2])).toContain('Verifying: reading `lb-&lt;1&gt;` back');
  });

  it('ends as the output followed by the verdict, with the verdict as its text', () => {
    const verdict = renderMitigationOutcome(view, {
      kind: 'ran',
      host: 'lb-1',
      command: 'x',
      verification: { verified: true, why: 'new process pid 2 (was 1)' },
    });
    const reply = renderMitigationReply(step, verdict?.message);
    expect(reply.text).toBe(verdict?.message.text);
    expect(reply.text).toMatch(/^Restart HAProxy on lb-1: verified, new process pid 2/);
    expect(reply.blocks).toEqual([...step.blocks, ...(verdict?.message.blocks ?? [])]);
    // nothing more to say (the step's own reply said why it could not run): the step's message as it is
    expect(renderMitigationReply(step, undefined)).toBe(step);
  });
});
