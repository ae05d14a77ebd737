/**
 * A long runbook's incident message stays within what Slack will show (#21 item 13): at most 50 blocks and 12,000
 * characters of block text (Slack answered msg_blocks_too_long near 12–13k), steps compact with their titles cut, the
 * steps in full one click away. The Slack stand-in refuses above the limit, so the same message is posted there too.
 */
import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { WebClient } from '@slack/web-api';
import { builtinActions } from '../../../src/actions/catalog';
import type { Runbook, Step } from '../../../src/runbook/types';
import { decodeStepValue } from '../../../src/slack/action-ids';
import { blockTextLength, fitBlockText, MESSAGE_TEXT_LIMIT } from '../../../src/slack/blocks/block-text';
import { renderIncidentMessage } from '../../../src/slack/blocks/incident-message';
import { renderRunbookSteps } from '../../../src/slack/blocks/runbook-steps';
import { firingAlert, openIncident } from '../../support/domain-fixtures';
import { textInBlocks } from '../../support/slack/web-api-methods';
import { SlackStandIn } from '../../support/slack-standin';

const LONG =
  'Look at the backend’s health checks, its error counters and the last reload in the log; compare with the other servers of the pool before you change anything. '.repeat(
    6,
  );

/** A runbook of `n` steps with long descriptions, half diagnosis (backend-state) and half mitigation (restart, reload). */
function longRunbook(n: number): Runbook {
  const steps: Step[] = Array.from({ length: n }, (_, i) => {
    const section = i < n / 2 ? 'diagnosis' : 'mitigation';
    const number = section === 'diagnosis' ? i + 1 : i - Math.ceil(n / 2) + 1;
    return {
      id: `${section}-${number}`,
      section,
      number,
      title: `Step ${number}: check the pool and its servers in detail before acting on them`,
      text: `Step ${number}: check the pool and its servers in detail before acting on them. ${LONG}`,
      kind: i % 5 === 4 ? 'checklist' : 'action',
      actions: i % 5 === 4 ? [] : section === 'diagnosis' ? ['backend-state'] : ['restart', 'reload'],
    };
  });
  return {
    doc: {
      alertname: 'HaproxyServerDown',
      meaning: 'A server is down.',
      impact: 'Less capacity.',
      diagnosis: [],
      mitigation: [],
    },
    steps,
    file: 'long.md',
  };
}

const incident = openIncident({
  channel: 'C1',
  threadTs: '1.1',
  alert: firingAlert({
    labels: {
      alertname: 'HaproxyServerDown',
      instance: 'lb-1:9101',
      backend: 'web',
      server: 'web2',
      severity: 'critical',
    },
  }),
});
const ctx = (runbook: Runbook) => ({
  runbook,
  action: (id: string) => builtinActions.find((a) => a.id === id),
  hostConfigured: true,
  hostLabel: 'instance',
});

function buttons(blocks: KnownBlock[]): Button[] {
  return blocks.flatMap((b) => {
    if (b.type === 'section' && (b as SectionBlock).accessory?.type === 'button')
      return [(b as SectionBlock).accessory as Button];
    if (b.type === 'actions') return (b as ActionsBlock).elements.filter((e): e is Button => e.type === 'button');
    return [];
  });
}

describe('a long runbook’s incident message', () => {
  it('a 40-step runbook with long steps: compact, under 12,000 characters, every step’s buttons, Steps in full', () => {
    // given a runbook whose full layout carries far more than Slack takes
    const runbook = longRunbook(40);
    const fullText = runbook.steps.reduce((n, s) => n + s.text.length, 0);
    expect(fullText).toBeGreaterThan(30_000);
    // when
    const { blocks } = renderIncidentMessage(incident, ctx(runbook));
    // then within Slack's limits, counted by the bot and by the stand-in's own counter
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blockTextLength(blocks)).toBeLessThanOrEqual(MESSAGE_TEXT_LIMIT);
    expect(textInBlocks(blocks)).toBe(blockTextLength(blocks));
    // every step keeps its line and its buttons
    const text = JSON.stringify(blocks);
    for (const s of runbook.steps) expect(text).toContain(`*${s.number}.*`);
    const stepButtons = buttons(blocks).filter((b) => b.action_id?.startsWith('step.'));
    for (const s of runbook.steps)
      expect(stepButtons.filter((b) => decodeStepValue(b.value)?.stepId === s.id)).toHaveLength(
        s.kind === 'checklist' ? 1 : s.actions.length,
      );
    // and the full text one click away
    expect(buttons(blocks).map((b) => b.text.text)).toContain('Steps in full');
    // the figures for the note: the full layout would carry several times what Slack takes
    const fullLayout = runbook.steps.reduce((n, s) => n + Math.min(s.text.length, 3000), 0);
    process.stdout.write(
      `40 steps: ${fullText} characters of step text; full layout ≥ ${fullLayout}, compact ${blockTextLength(blocks)} in ${blocks.length} blocks\n`,
    );
  });

  it('a short runbook keeps the full layout (a section per step) and no Steps in full button', () => {
    const runbook = longRunbook(4);
    const { blocks } = renderIncidentMessage(incident, ctx(runbook));
    expect(blocks.filter((b) => b.block_id === 'diagnosis-1')).toHaveLength(1);
    expect(buttons(blocks).map((b) => b.text.text)).not.toContain('Steps in full');
  });

  it.each([
    [60, false],
    [200, false],
    [800, true],
  ])('%i steps: still within 50 blocks and 12,000 characters (more than fit: said so)', (n, cut) => {
    const { blocks } = renderIncidentMessage(incident, ctx(longRunbook(n)));
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blockTextLength(blocks)).toBeLessThanOrEqual(MESSAGE_TEXT_LIMIT);
    expect(buttons(blocks).map((b) => b.text.text)).toContain('Steps in full');
    expect(JSON.stringify(blocks).includes('more steps than one message can hold')).toBe(cut);
  });

  it('posts on the Slack stand-in, which refuses the full layout with msg_blocks_too_long', async () => {
    const slack = new SlackStandIn({ channels: { C1: 'alerts' } });
    const { apiUrl } = await slack.start();
    try {
      const client = new WebClient(slack.botToken, { slackApiUrl: apiUrl, retryConfig: { retries: 0 } });
      const runbook = longRunbook(40);
      const { blocks, text } = renderIncidentMessage(incident, ctx(runbook));
      await expect(client.chat.postMessage({ channel: 'C1', text, blocks })).resolves.toMatchObject({ ok: true });
      // the layout before this change: one section per step, each within its 3000 characters
      const naive: KnownBlock[] = runbook.steps
        .slice(0, 45)
        .map((s) => ({ type: 'section', text: { type: 'mrkdwn', text: s.text.slice(0, 3000) } }));
      await expect(client.chat.postMessage({ channel: 'C1', text, blocks: naive })).rejects.toMatchObject({
        data: { ok: false, error: 'msg_blocks_too_long' },
      });
    } finally {
      await slack.stop();
    }
  });
});

describe('Steps in full', () => {
  it('lists every step within the limits, the whole text in a markdown file when it cannot all show', () => {
    const runbook = longRunbook(40);
    const { message, file } = renderRunbookSteps(
      incident,
      runbook,
      (id) => builtinActions.find((a) => a.id === id)?.title,
    );
    expect(message.blocks?.length).toBeLessThanOrEqual(50);
    expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(MESSAGE_TEXT_LIMIT);
    expect(file?.filename).toBe(`incident-${incident.id}-steps.md`);
    for (const s of runbook.steps) expect(file?.content).toContain(s.text);
    expect(JSON.stringify(message.blocks)).toContain('more step(s): every step in full is in the attached file');
  });

  it('a short runbook: every step in the message, no file', () => {
    const runbook = longRunbook(4);
    const { message, file } = renderRunbookSteps(incident, runbook, () => 'Backend state');
    expect(file).toBeUndefined();
    for (const s of runbook.steps) expect(JSON.stringify(message.blocks)).toContain(s.text.slice(0, 100));
  });
});

describe('fitBlockText', () => {
  it('cuts the longest texts first and never inside an entity or a mention', () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: `${'a'.repeat(95)}&amp;<@U0123ONCALL> tail` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'short' }] },
    ];
    fitBlockText(blocks, 100);
    expect(blockTextLength(blocks)).toBeLessThanOrEqual(100);
    expect(blocks[1].elements?.[0].text).toBe('short');
    expect(blocks[0].text?.text).toMatch(/^a+…$/);
  });
});

describe('the stand-in marks an ephemeral answer with the message clicked (#21 item 12)', () => {
  it('after_ts is the message the user had just clicked in that channel', async () => {
    const slack = new SlackStandIn({ channels: { C1: 'alerts' } });
    const { apiUrl } = await slack.start();
    try {
      const client = new WebClient(slack.botToken, { slackApiUrl: apiUrl, retryConfig: { retries: 0 } });
      const posted = await client.chat.postMessage({
        channel: 'C1',
        text: 'x',
        blocks: [
          {
            type: 'actions',
            elements: [{ type: 'button', action_id: 'a.b', text: { type: 'plain_text', text: 'B' }, value: 'v' }],
          },
        ],
      });
      // no bot endpoint is configured: the click is recorded, its delivery fails, which does not matter here
      await slack
        .clickButton({ user: 'U0ALICE001', channel: 'C1', messageTs: posted.ts as string, actionId: 'a.b' })
        .catch(() => undefined);
      await client.chat.postEphemeral({ channel: 'C1', user: 'U0ALICE001', text: 'answer' });
      await client.chat.postEphemeral({ channel: 'C1', user: 'U0BOB00001', text: 'someone else' });
      expect(slack.ephemerals().map((e) => [e.user, e.after_ts])).toEqual([
        ['U0ALICE001', posted.ts],
        ['U0BOB00001', undefined],
      ]);
    } finally {
      await slack.stop();
    }
  });
});
