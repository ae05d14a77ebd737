import {
  type ChannelRenderContext,
  localSlackHref,
  renderChannel,
  renderModal,
} from '../../support/demo-page/render-channel';
import type { SlackMessage } from '../../support/slack-standin';
import { onlyAllowedMarkup } from './allowed-markup';

const ctx: ChannelRenderContext = {
  userName: (id) => ({ U0ONCALL01: 'olivia.oncall' })[id],
  channelName: () => undefined,
  botId: 'B0PILOTBOT',
  botName: 'runbook-pilot',
  file: (id) =>
    ({
      F0TEXT0001: {
        filename: 'out.txt',
        title: 'Full output',
        url: '/demo/files/F0TEXT0001',
        image: false,
        text: 'line <1>',
        size: 8,
      },
      F0PNG00001: { filename: 'graph.png', url: '/demo/files/F0PNG00001', image: true, size: 2048 },
    })[id],
  time: (ts) => `t${ts}`,
};
const msg = (ts: string, fields: Partial<SlackMessage>): SlackMessage => ({
  type: 'message',
  ts,
  channel: 'C0DEMOINC1',
  ...fields,
});
const order = (html: string) =>
  [...html.matchAll(/<article class="message( ephemeral)?" data-ts="([^"]+)"/g)].map(
    (m) => `${m[2]}${m[1] ? ' (ephemeral)' : ''}`,
  );

describe('renderChannel', () => {
  it('puts each thread under its parent and ephemerals where Slack shows them, in ts order', () => {
    // given
    const alert = msg('100.000100', {
      subtype: 'bot_message',
      username: 'Alertmanager',
      bot_id: 'B0ALERTMGR',
      text: 'alert',
    });
    const incident = msg('100.000200', { bot_id: 'B0PILOTBOT', thread_ts: '100.000100', text: 'incident' });
    const result = msg('100.000400', {
      bot_id: 'B0PILOTBOT',
      thread_ts: '100.000100',
      text: 'result',
      edited: { user: 'U0PILOTBOT', ts: '100.000500' },
    });
    const later = msg('100.000600', { user: 'U0ONCALL01', text: 'hello' });
    // when
    const html = renderChannel(
      {
        id: 'C0DEMOINC1',
        name: 'incidents',
        messages: [
          { message: alert, replies: [incident, result] },
          { message: later, replies: [] },
        ],
        ephemerals: [
          {
            channel: 'C0DEMOINC1',
            user: 'U0INTERN01',
            message_ts: '100.000300',
            text: 'not allowed',
            thread_ts: '100.000100',
          },
          { channel: 'C0DEMOINC1', user: 'U0INTERN01', message_ts: '100.000700', text: 'No open incidents' },
        ],
      },
      ctx,
    );
    // then
    expect(order(html)).toEqual([
      '100.000100',
      '100.000200',
      '100.000300 (ephemeral)',
      '100.000400',
      '100.000600',
      '100.000700 (ephemeral)',
    ]);
    expect(html).toContain('<div class="thread"><div class="thread-count">2 replies</div>');
    expect(html).toContain('<span class="author">Alertmanager</span><span class="badge">APP</span>');
    expect(html).toContain('<span class="author">runbook-pilot</span>');
    expect(html).toContain('<span class="author">olivia.oncall</span><time>t100.000600</time>');
    expect(html).toContain('<span class="edited">(edited)</span>');
    expect(html.match(/Only visible to you/g)).toHaveLength(2);
    expect(onlyAllowedMarkup(html)).toBe(true);
  });

  it('shows the answer to a click right after the message clicked, even with replies after it (#21 item 12)', () => {
    // given an incident message (a reply) clicked, a reply posted after it, then the click's ephemeral answer
    const alert = msg('100.000100', { bot_id: 'B0ALERTMGR', text: 'alert' });
    const incident = msg('100.000200', { bot_id: 'B0PILOTBOT', thread_ts: '100.000100', text: 'incident' });
    const result = msg('100.000300', { bot_id: 'B0PILOTBOT', thread_ts: '100.000100', text: 'result' });
    const html = renderChannel(
      {
        id: 'C0DEMOINC1',
        name: 'incidents',
        messages: [{ message: alert, replies: [incident, result] }],
        ephemerals: [
          {
            channel: 'C0DEMOINC1',
            user: 'U0INTERN01',
            message_ts: '100.000400',
            text: 'not allowed',
            thread_ts: '100.000100',
            after_ts: '100.000200',
          },
        ],
      },
      ctx,
    );
    // then next to the incident message, not at the thread's end; the conversation is marked for the page's scroll
    expect(order(html)).toEqual(['100.000100', '100.000200', '100.000400 (ephemeral)', '100.000300']);
    expect(html).toContain('<div class="conversation" data-conversation="100.000100">');
    expect(onlyAllowedMarkup(html)).toBe(true);
  });

  it('shows text files inline and images as images, escaped', () => {
    const html = renderChannel(
      {
        id: 'C0DEMOINC1',
        name: 'incidents',
        messages: [
          {
            message: msg('1.000001', {
              bot_id: 'B0PILOTBOT',
              text: '',
              files: [{ id: 'F0TEXT0001' }, { id: 'F0PNG00001' }, { id: 'F0GONE0001' }],
            }),
            replies: [],
          },
        ],
        ephemerals: [],
      },
      ctx,
    );
    expect(html).toContain('<pre class="code file-text">line &lt;1&gt;</pre>');
    expect(html).toContain('<img class="file-image" src="/demo/files/F0PNG00001" alt="graph.png">');
    expect(html).toContain('[file F0GONE0001]');
  });

  it('links a permalink to a message to that message on the page', () => {
    // given: the bot's /incident list links the thread with chat.getPermalink's URL
    const linked = { ...ctx, localHref: (url: string) => localSlackHref(url, 'runbook-pilot-test') };
    const alert = msg('1795611627.170000', { username: 'Alertmanager', bot_id: 'B0ALERTMGR', text: 'alert' });
    const list = msg('1795611700.000100', {
      bot_id: 'B0PILOTBOT',
      text: '#1 — <https://runbook-pilot-test.slack.com/archives/C0DEMOINC1/p1795611627170000|thread>',
    });
    // when
    const html = renderChannel(
      {
        id: 'C0DEMOINC1',
        name: 'incidents',
        messages: [
          { message: alert, replies: [] },
          { message: list, replies: [] },
        ],
        ephemerals: [],
      },
      linked,
    );
    // then
    expect(html).toContain('<article class="message" data-ts="1795611627.170000" id="msg-1795611627-170000">');
    expect(html).toContain('#1 — <a href="#msg-1795611627-170000">thread</a>');
    expect(onlyAllowedMarkup(html)).toBe(true);
  });

  it('says what to do in an empty channel', () => {
    expect(renderChannel({ id: 'C0DEMOINC1', name: 'incidents', messages: [], ephemerals: [] }, ctx)).toContain(
      'Fire an alert',
    );
  });
});

describe('renderModal', () => {
  it('renders title, blocks and the submit and close buttons, escaped', () => {
    const html = renderModal(
      {
        id: 'V0MODAL001',
        title: { type: 'plain_text', text: 'Confirm <x>' },
        submit: { type: 'plain_text', text: 'Run' },
        close: { type: 'plain_text', text: 'Cancel' },
        blocks: [{ type: 'divider' }],
      },
      ctx,
    );
    expect(html).toContain('<form class="modal" data-view-id="V0MODAL001">');
    expect(html).toContain('<header class="modal-title">Confirm &lt;x&gt;</header>');
    expect(html).toContain('<button type="submit" class="bk-button primary">Run</button>');
    expect(html).toContain('data-modal-close>Cancel</button>');
  });
});

describe('localSlackHref', () => {
  it.each([
    ['a message', 'https://ws.slack.com/archives/C0DEMOINC1/p1795611627170000', '#msg-1795611627-170000'],
    [
      'a reply in a thread',
      'https://ws.slack.com/archives/C0DEMOINC1/p1795611628000100?thread_ts=1795611627.170000&cid=C0DEMOINC1',
      '#msg-1795611628-000100',
    ],
    ['a file', 'https://ws.slack.com/files/U0PILOTBOT/F0TEXT0001/incident-1-timeline.md', '/demo/files/F0TEXT0001'],
    ['another workspace', 'https://other.slack.com/archives/C0DEMOINC1/p1795611627170000', undefined],
    ['a look-alike host', 'https://ws.slack.com.evil.org/archives/C0DEMOINC1/p1795611627170000', undefined],
    ['any other page', 'https://github.com/srerun/prometheus-alerts', undefined],
  ])('%s', (_name, url, href) => {
    expect(localSlackHref(url, 'ws')).toBe(href);
  });
});
