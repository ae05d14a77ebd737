/**
 * Issue #12 §5: alert text never becomes Slack markup. A table of hostile strings goes into every label, annotation,
 * runbook_url, generatorURL expression, error and user-supplied name, through every pure renderer; what comes out is
 * read the way Slack reads it (mrkdwn: `<…>` control sequences and bare mentions; plain_text as shown) and must hold
 * no mention, no channel or group ping and no link whose words differ from where it leads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { parseConfigText } from '../../../src/config/load-config';
import { PilotError } from '../../../src/errors';
import type { Incident, IncidentSilence, TimelineEvent } from '../../../src/incident/types';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import type { Runbook } from '../../../src/runbook/types';
import { escapeErrorText, escapeSlackText, safeLink } from '../../../src/slack/blocks/format';
import { fallbackText, renderIncidentMessage } from '../../../src/slack/blocks/incident-message';
import { confirmationView } from '../../../src/slack/blocks/mitigation';
import {
  alertStateText,
  renderGraphUpload,
  renderSilenceCreated,
  renderSilenceExpired,
  silenceModal,
} from '../../../src/slack/blocks/observe';
import { renderResolution, renderStillFiring, renderWebhookAlert } from '../../../src/slack/blocks/replies';
import { renderQueued, renderRunning, renderStepResult } from '../../../src/slack/blocks/step-result';
import { renderTimeline, timelineMarkdown } from '../../../src/slack/blocks/timeline';
import { firingAlert, openIncident } from '../../support/domain-fixtures';
import { blockFindings, type Finding, mrkdwnFindings, plainFindings } from '../../support/slack-markup-findings';

const REPO = join(__dirname, '../../..');
const config = parseConfigText(readFileSync(join(REPO, 'config.example.yml'), 'utf8'), 'config.example.yml', {
  env: { ALERTMANAGER_TOKEN: 'example-token' },
});
const registry = loadRunbooks(join(REPO, 'runbooks'), builtinActions);
const runbook = registry.get('HaproxyServerDown') as Runbook;
/** The only user the renderers may mention: the one who clicked (the checker's allowed mention). */
const CLICKER = 'U0ONCALL01';

/** Strings an attacker (or a careless template) puts into alert labels and annotations. */
export const HOSTILE: string[] = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!here|here>',
  '<!channel|@channel> wake up',
  '<@UEVIL0001>',
  '<@UEVIL0001|olivia.oncall>',
  '<#CEVIL0001>',
  '<#CEVIL0001|incidents>',
  '<!subteam^SEVIL0001>',
  '<!subteam^SEVIL0001|@sre>',
  '<https://evil.example/login|https://runbooks.example.com/haproxy>',
  '<mailto:ceo@evil.example|Runbook>',
  '@here the LB is down',
  '@channel',
  '@everyone',
  'ping @olivia.oncall now',
  '#general',
  '&lt;!channel&gt;',
  '&amp;lt;!here&amp;gt;',
  '< !channel >',
  '<<!channel>>',
  'web2>\n<!channel',
  '`<!here>` ```<!channel>``` *<!everyone>*',
  'a\u0000b\u202e<!channel>\u202c',
  '<!date^1392734382^{date}|<!channel>>',
];

/** Where a hostile runbook_url must not turn into a disguised link. */
const HOSTILE_URLS = [
  'https://evil.example/x|<!channel>',
  'https://runbooks.example.com/haproxy|Runbook>',
  'javascript:alert(1)//<!here>',
  'slack://channel?id=CEVIL0001',
  '<https://evil.example|https://good.example>',
  'http://good.example/a?b=<!here>&c=1',
];

function messageFindings(msg: { text: string; blocks?: unknown }, where: string): Finding[] {
  return [...mrkdwnFindings(msg.text, `${where}.text`), ...blockFindings(msg.blocks ?? [], `${where}.blocks`)];
}

function hostileIncident(s: string, url: string): Incident {
  const labels = {
    alertname: `HaproxyServerDown${s}`,
    instance: s,
    backend: s,
    server: s,
    severity: s,
    job: s,
    x: s,
  };
  return openIncident({
    alertname: `HaproxyServerDown${s}`,
    hostName: undefined,
    alert: firingAlert({
      alertname: `HaproxyServerDown${s}`,
      labels,
      annotations: { summary: s, description: s, runbook_url: url },
      generatorURL: `http://prometheus:9090/graph?g0.expr=${encodeURIComponent(`up{x="${s}"} == 0`)}`,
      missingLabels: [s],
    }),
    steps: {
      'diagnosis-1': { state: 'failed', actionId: 'log-tail', error: s, by: CLICKER, at: '2026-11-25T03:13:00.000Z' },
    } as Incident['steps'],
  });
}

function timelineOf(s: string): TimelineEvent[] {
  const at = '2026-11-25T03:14:00.000Z';
  const ev = (type: TimelineEvent['type'], actor: string, details: Record<string, unknown>): TimelineEvent =>
    ({ id: 1, incidentId: 7, type, actor, details, at }) as TimelineEvent;
  return [
    ev('alert.fired', 'alertmanager', { host: s, source: s }),
    ev('step.failed', CLICKER, { stepId: 'diagnosis-1', actionId: 'log-tail', error: s }),
    ev('note.added', CLICKER, { text: s }),
    ev('mitigation.confirmed', CLICKER, { actionId: 'restart', host: s, reason: s }),
    ev('mitigation.not-verified', 'bot', { actionId: 'restart', why: s }),
    ev('incident.resolved', s, { reason: s }),
  ];
}

function silenceOf(s: string): IncidentSilence {
  return {
    id: s,
    createdBy: CLICKER,
    createdByName: s,
    matchers: { alertname: s, server: s },
    startsAt: '2026-11-25T03:14:00.000Z',
    endsAt: '2026-11-25T04:14:00.000Z',
    comment: `Note: ${s}`,
    keep: false,
    createdAt: '2026-11-25T03:14:00.000Z',
  };
}

/** Every renderer that shows alert text, with the hostile string in every slot it reads. */
function renderAll(s: string, url: string): Finding[] {
  const incident = hostileIncident(s, url);
  const resolved = { ...incident, status: 'resolved' as const, resolvedAt: '2026-11-25T04:00:00.000Z', resolvedBy: s };
  const ctx = {
    runbook,
    action: (id: string) => registry.action(runbook, id),
    hostConfigured: false,
    hostLabel: 'instance',
    alertState: { kind: 'unknown' as const, detail: s },
  };
  const step = runbook.steps.find((x) => x.actions.includes('log-tail'))!;
  const action = { ...registry.action(runbook, 'log-tail')!, title: `Tail ${s}` };
  const view = { step, action, hostName: s, user: CLICKER };
  const timeline = renderTimeline(incident, Array.from({ length: 40 }, () => timelineOf(s)).flat(), runbook);
  const silence = silenceOf(s);
  const restart = registry.action(runbook, 'restart')!;
  const restartStep = runbook.steps.find((x) => x.actions.includes('restart'))!;
  const modal = confirmationView({
    plan: {
      incident,
      request: { step: restartStep, action: restart },
      host: config.hosts[0],
      commands: { action: { actionId: 'restart', command: `echo '${s}'`, params: {} } },
      digest: 'd',
    },
    alertActive: false,
    dryRunOnly: false,
  });
  const graph = renderGraphUpload(incident, {
    exprs: [`up{x="${s}"} == 0`],
    text: `\`up{x="${s}"}\` over the last 60 min (3 series). ${s} is down.`,
  });
  return [
    ...messageFindings(renderIncidentMessage(incident, ctx), 'incident message'),
    ...messageFindings(renderIncidentMessage(resolved, ctx), 'resolved incident message'),
    ...mrkdwnFindings(fallbackText(incident), 'fallback text'),
    ...messageFindings(renderStillFiring(incident, '2026-11-25T03:20:00.000Z'), 'still firing'),
    ...messageFindings(renderResolution(resolved, timelineOf(s), runbook), 'resolution'),
    ...messageFindings(renderWebhookAlert(incident.alert), 'webhook alert'),
    ...messageFindings(timeline.message, 'timeline'),
    ...plainFindings(timeline.file?.title ?? '', 'timeline file title'),
    ...plainFindings(timelineMarkdown(incident, timelineOf(s), runbook), 'timeline file'),
    ...messageFindings(renderQueued(view, 2), 'queued'),
    ...messageFindings(renderRunning(view, `tail -n 200 '${s}'`), 'running'),
    ...messageFindings(
      renderStepResult(view, { kind: 'refused', error: new PilotError('PARAM_INVALID', `label server is ${s}`) })
        .message,
      'step refused',
    ),
    ...mrkdwnFindings(alertStateText({ kind: 'silenced', detail: s }), 'alert state'),
    ...blockFindings(
      silenceModal({
        incident,
        labels: incident.alert.labels,
        channel: 'C1',
        now: new Date('2026-11-25T03:14:00.000Z'),
      }),
      'silence modal',
    ),
    ...messageFindings(renderSilenceCreated(incident, silence), 'silence created'),
    ...messageFindings(renderSilenceExpired(silence, s, 'button'), 'silence expired'),
    ...blockFindings(modal, 'confirmation modal'),
    ...plainFindings(graph.title, 'graph title'),
    ...mrkdwnFindings(graph.comment, 'graph comment'),
  ];
}

describe('hostile alert text through every renderer', () => {
  it.each(HOSTILE.map((s, i) => [s, HOSTILE_URLS[i % HOSTILE_URLS.length]]))(
    '%j renders without a ping or a disguised link',
    (s, url) => {
      expect(renderAll(s, url)).toEqual([]);
    },
  );

  it('the checker itself finds what Slack would ping (a test that cannot fail is a defect)', () => {
    expect(mrkdwnFindings('<!channel> <@UEVIL0001> <https://evil.example|good.example> @here', 'raw')).toHaveLength(4);
    expect(plainFindings('<!here> @everyone', 'raw')).toHaveLength(2);
    expect(mrkdwnFindings(`<@${CLICKER}> <https://good.example/x|good.example>`, 'ours')).toEqual([]);
    expect(
      messageFindings(
        { text: 'ok', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '<!here>' } }] },
        'nested',
      ),
    ).toHaveLength(1);
  });

  it('reads the same: the hostile text is shown, not dropped', () => {
    const { blocks } = renderIncidentMessage(hostileIncident('<!channel> @here', 'https://runbooks.example.com/x'), {
      runbook,
      action: (id: string) => registry.action(runbook, id),
      hostConfigured: true,
      hostLabel: 'instance',
    });
    const shown = JSON.stringify(blocks).replace(/\u2060/g, '');
    expect(shown).toContain('&lt;!channel&gt; @here');
  });
});

describe('escapeSlackText', () => {
  it.each([
    ['<!channel>', 'mrkdwn', '&lt;!channel&gt;'],
    ['a & b', 'mrkdwn', 'a &amp; b'],
    ['&lt;', 'mrkdwn', '&amp;lt;'],
    ['@here', 'mrkdwn', '@\u2060here'],
    ['user@host and #12', 'mrkdwn', 'user@host and #12'],
    ['#general', 'mrkdwn', '#\u2060general'],
    ['<!channel> & @everyone', 'plain_text', '<\u2060!channel> & @\u2060everyone'],
    ['<https://x.example|y>', 'plain_text', '<\u2060https://x.example|y>'],
    ['a < b', 'plain_text', 'a < b'],
    ['bell\u0007 rtl\u202e', 'mrkdwn', 'bell rtl'],
  ] as const)('%j in %s → %j', (input, context, expected) => {
    expect(escapeSlackText(input, context)).toBe(expected);
  });
});

describe('escapeErrorText', () => {
  const access = { mitigate: ['S0123SRE'], hosts: { 'lb-1': ['U0LEAD0001'] } };
  it('keeps plain mentions of the people the config names, and only those', () => {
    expect(escapeErrorText('only <!subteam^S0123SRE>, <@U0LEAD0001> may', access)).toBe(
      'only <!subteam^S0123SRE>, <@U0LEAD0001> may',
    );
    expect(escapeErrorText('got "<!subteam^SEVIL0001>" <@UEVIL0001> <@U0LEAD0001|boss> <!channel>', access)).toBe(
      'got "&lt;!subteam^SEVIL0001&gt;" &lt;@\u2060UEVIL0001&gt; &lt;@\u2060U0LEAD0001|boss&gt; &lt;!channel&gt;',
    );
    expect(escapeErrorText('<@U0LEAD0001>')).toBe('&lt;@\u2060U0LEAD0001&gt;');
  });
});

describe('safeLink', () => {
  it.each([
    ['https://runbooks.example.com/haproxy#down', '<https://runbooks.example.com/haproxy#down|runbooks.example.com>'],
    ['http://wiki.example:8080/x?a=1&b=2', '<http://wiki.example:8080/x?a=1&amp;b=2|wiki.example:8080>'],
    ['https://evil.example/x|<!channel>', '<https://evil.example/x%7C%3C!channel%3E|evil.example>'],
    ['javascript:alert(1)', '`javascript:alert(1)` (not a link: only http and https are)'],
    ['ftp://files.example/x', '`ftp://files.example/x` (not a link: only http and https are)'],
    ['runbooks/haproxy.md', '`runbooks/haproxy.md` (not a link)'],
    ['<!here>', '`&lt;!here&gt;` (not a link)'],
  ])('%j → %j', (url, expected) => {
    expect(safeLink(url)).toBe(expected);
  });

  it('names the link after a label, the host after it; a hostile label stays text and the host still shows', () => {
    expect(safeLink('https://wiki.example.com/rb/HaproxyServerDown', 'HaproxyServerDown')).toBe(
      '<https://wiki.example.com/rb/HaproxyServerDown|HaproxyServerDown> (wiki.example.com)',
    );
    expect(safeLink('https://evil.example/x', 'Runbook> <!channel> <https://good.example|good')).toBe(
      '<https://evil.example/x|Runbook&gt; &lt;!channel&gt; &lt;https://good.example|good> (evil.example)',
    );
  });

  it('is undefined without a URL', () => {
    expect(safeLink(undefined)).toBeUndefined();
    expect(safeLink('')).toBeUndefined();
  });
});
