import { attachmentColor, renderAttachment, renderBlocks } from '../../support/demo-page/render-blocks';
import { onlyAllowedMarkup } from './allowed-markup';

const names = { userName: () => undefined, channelName: () => undefined };
const inMessage = { ...names, target: { channel: 'C0DEMOINC1', messageTs: '1732542800.000200' } };
const HOSTILE = '<img src=x onerror=alert(1)>';

describe('renderBlocks', () => {
  it('renders header, section fields, accessory button, context, divider and actions with button styles', () => {
    // given: the shape of the bot's incident message
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'HaproxyServerDown <firing>' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Host*\n`lb-1`' },
          { type: 'plain_text', text: 'web / web2' },
        ],
      },
      {
        type: 'section',
        block_id: 'diagnosis-1',
        text: { type: 'mrkdwn', text: '*1.* Check' },
        accessory: { type: 'button', action_id: 'step.run', value: 'v1', text: { type: 'plain_text', text: 'Run' } },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: '_not run_' }] },
      { type: 'divider' },
      {
        type: 'actions',
        block_id: 'incident',
        elements: [
          {
            type: 'button',
            action_id: 'a.danger',
            text: { type: 'plain_text', text: 'Restart' },
            style: 'danger',
            value: 'x',
          },
          { type: 'button', action_id: 'a.primary', text: { type: 'plain_text', text: 'Timeline' }, style: 'primary' },
          { type: 'overflow', action_id: 'a.more', options: [] },
        ],
      },
    ];
    // when
    const html = renderBlocks(blocks, inMessage);
    // then
    expect(html).toContain('<h3 class="bk-header">HaproxyServerDown &lt;firing&gt;</h3>');
    expect(html).toContain(
      '<div class="bk-fields"><div><b>Host</b><br><code>lb-1</code></div><div>web / web2</div></div>',
    );
    expect(html).toContain(
      '<button type="button" class="bk-button" data-channel="C0DEMOINC1" data-message-ts="1732542800.000200" data-action-id="step.run" data-block-id="diagnosis-1" data-value="v1">Run</button>',
    );
    expect(html).toContain('<div class="bk-context"><span><i>not run</i></span></div>');
    expect(html).toContain('<hr class="bk-divider">');
    expect(html).toMatch(
      /<button type="button" class="bk-button danger"[^>]*data-action-id="a.danger"[^>]*>Restart<\/button>/,
    );
    expect(html).toMatch(/<button type="button" class="bk-button primary"[^>]*>Timeline<\/button>/);
    expect(html).toContain('[overflow]');
    expect(onlyAllowedMarkup(html)).toBe(true);
  });

  it('shows buttons disabled where a click cannot be delivered (in modals)', () => {
    const html = renderBlocks(
      [{ type: 'actions', elements: [{ type: 'button', action_id: 'x', text: { type: 'plain_text', text: 'Go' } }] }],
      names,
    );
    expect(html).toBe('<div class="bk-actions"><button type="button" class="bk-button" disabled>Go</button></div>');
  });

  it('escapes everything the bot or an alert put in: texts, ids, values, styles, image URLs', () => {
    // given
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: HOSTILE } },
      {
        type: 'section',
        text: { type: 'plain_text', text: HOSTILE },
        accessory: {
          type: 'button',
          action_id: `"${HOSTILE}`,
          value: `'><script>alert(1)</script>`,
          style: 'danger" onclick="alert(1)',
          text: { type: 'plain_text', text: HOSTILE },
        },
      },
      { type: 'image', image_url: 'javascript:alert(1)', alt_text: HOSTILE },
      { type: 'image', image_url: 'https://example.org/g.png" onerror="alert(1)', alt_text: 'graph' },
      { type: `x${HOSTILE}` },
    ];
    // when
    const html = renderBlocks(blocks, inMessage);
    // then
    expect(onlyAllowedMarkup(html)).toBe(true);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('onclick="');
    expect(html).toContain('[image: &lt;img src=x onerror=alert(1)&gt;]');
    expect(html).toContain('src="https://example.org/g.png&quot; onerror=&quot;alert(1)"');
  });

  it('renders rich_text as people type it', () => {
    const blocks = [
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [
              { type: 'text', text: 'web2 is ' },
              { type: 'text', text: 'DOWN', style: { bold: true } },
              { type: 'emoji', name: 'fire', unicode: '1f525' },
            ],
          },
          { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'show servers state' }] },
          {
            type: 'rich_text_list',
            style: 'bullet',
            elements: [
              { type: 'rich_text_section', elements: [{ type: 'link', url: 'javascript:alert(1)', text: 'bad' }] },
            ],
          },
        ],
      },
    ];
    expect(renderBlocks(blocks, names)).toBe(
      '<div class="bk-rich"><div>web2 is <b>DOWN</b>🔥</div><pre class="code">show servers state</pre><ul><li>bad</li></ul></div>',
    );
  });

  it('renders input blocks as form fields named by block index, with their constraints', () => {
    // given: the confirmation modal's inputs
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: 'Confirm' } },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Why?' },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 3, max_length: 500 },
      },
      {
        type: 'input',
        block_id: 'options',
        optional: true,
        label: { type: 'plain_text', text: 'Options' },
        element: {
          type: 'checkboxes',
          action_id: 'options',
          options: [{ text: { type: 'plain_text', text: 'Dry run' }, value: 'dry-run' }],
        },
      },
      {
        type: 'input',
        block_id: 'mode',
        label: { type: 'plain_text', text: 'Mode' },
        element: {
          type: 'static_select',
          action_id: 'mode',
          initial_option: { text: { type: 'plain_text', text: 'drain' }, value: 'drain' },
          options: [
            { text: { type: 'plain_text', text: 'maint' }, value: 'maint' },
            { text: { type: 'plain_text', text: 'drain' }, value: 'drain' },
          ],
        },
      },
      {
        type: 'input',
        label: { type: 'plain_text', text: 'Who' },
        element: { type: 'radio_buttons', options: [{ text: { type: 'plain_text', text: 'me' }, value: 'me' }] },
      },
    ];
    // when
    const html = renderBlocks(blocks, names);
    // then
    expect(html).toContain(
      '<textarea id="input-1" name="input-1" rows="3" minlength="3" maxlength="500" required></textarea>',
    );
    expect(html).toContain('<label class="bk-choice"><input type="checkbox" name="input-2" value="0"> Dry run</label>');
    expect(html).toContain(
      '<select id="input-3" name="input-3" required><option value="">Choose…</option><option value="0">maint</option><option value="1" selected>drain</option></select>',
    );
    expect(html).toContain('<input type="radio" name="input-4" value="0"> me');
    expect(html).toContain('(optional)');
    expect(onlyAllowedMarkup(html)).toBe(true);
  });
});

describe('renderAttachment', () => {
  it("renders Alertmanager's attachment: colour bar, linked title with Slack escapes undone", () => {
    // given: as in test/fixtures/slack/single.slack-default.firing.event.json, with a hostile label value
    const attachment = {
      id: 1,
      title: '[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy &lt;img src=x onerror=alert(1)&gt; critical)',
      title_link: 'http://alertmanager.example.org:9093/#/alerts?receiver=haproxy-oncall',
      fallback: '[FIRING:1] HaproxyServerDown',
      color: 'a30200',
      mrkdwn_in: ['fallback', 'pretext', 'text'],
    };
    // when
    const html = renderAttachment(attachment, names);
    // then
    expect(html).toBe(
      '<div class="attachment" style="border-left-color:#a30200"><div class="att-title"><a href="http://alertmanager.example.org:9093/#/alerts?receiver=haproxy-oncall" target="_blank" rel="noopener noreferrer">[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy &lt;img src=x onerror=alert(1)&gt; critical)</a></div></div>',
    );
  });

  it.each([
    ['danger', '#e01e5a'],
    ['a30200', '#a30200'],
    ['#2eb886', '#2eb886'],
    ['red;background:url(x)', '#dddddd'],
    [undefined, '#dddddd'],
  ])('colour %s → %s', (color, css) => {
    expect(attachmentColor(color)).toBe(css);
  });
});
