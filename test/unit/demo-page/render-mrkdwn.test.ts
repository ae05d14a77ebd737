import { renderMrkdwn, renderSlackPlain } from '../../support/demo-page/render-mrkdwn';
import { onlyAllowedMarkup } from './allowed-markup';

const ctx = {
  userName: (id: string) => ({ U0ONCALL01: 'olivia.oncall' })[id],
  channelName: (id: string) => ({ C0DEMOINC1: 'incidents' })[id],
};
const LINK = 'target="_blank" rel="noopener noreferrer"';

describe('renderMrkdwn', () => {
  it.each([
    ['plain text, Slack-escaped', 'a &amp; b &lt; c', 'a &amp; b &lt; c'],
    ['bold, italic, strike', '*bold* and _italic_ and ~gone~', '<b>bold</b> and <i>italic</i> and <s>gone</s>'],
    ['nested bold in italic', '_*both*_', '<i><b>both</b></i>'],
    ['no formatting inside words', 'snake_case_name and 2*3*4', 'snake_case_name and 2*3*4'],
    ['inline code keeps its stars', 'run `echo *x*` now', 'run <code>echo *x*</code> now'],
    ['code block, fences on their own lines', '```\nweb  web2 DOWN\n```', '<pre class="code">web  web2 DOWN</pre>'],
    [
      'code block shows escaped text literally',
      '```&lt;b&gt;x&lt;/b&gt;```',
      '<pre class="code">&lt;b&gt;x&lt;/b&gt;</pre>',
    ],
    [
      'link with text',
      '<https://example.org/a?b=1&amp;c=2|the runbook>',
      `<a href="https://example.org/a?b=1&amp;c=2" ${LINK}>the runbook</a>`,
    ],
    ['bare link', '<https://example.org>', `<a href="https://example.org" ${LINK}>https://example.org</a>`],
    ['bold link', '*<https://example.org|docs>*', `<b><a href="https://example.org" ${LINK}>docs</a></b>`],
    ['user mention by name', 'by <@U0ONCALL01>', 'by <span class="mention">@olivia.oncall</span>'],
    ['unknown user shows the id', '<@U0NOBODY01>', '<span class="mention">@U0NOBODY01</span>'],
    ['channel mention', '<#C0DEMOINC1>', '<span class="mention">#incidents</span>'],
    ['channel mention with name', '<#C0OTHER001|ops>', '<span class="mention">#ops</span>'],
    ['special mention', '<!here>', '<span class="mention">@here</span>'],
    ['user group', '<!subteam^S0123SRE>', '<span class="mention">@S0123SRE</span>'],
    ['mention inside code is text', '`<@U0ONCALL01>`', '<code>@olivia.oncall</code>'],
    ['quote', '&gt; quoted\nnext', '<blockquote>quoted</blockquote>next'],
    ['line breaks', 'a\nb', 'a<br>b'],
    ['emoji shortcodes stay text', ':white_check_mark: ok', ':white_check_mark: ok'],
  ])('%s', (_name, input, html) => {
    expect(renderMrkdwn(input, ctx)).toBe(html);
  });

  it.each([
    ['a raw tag the sender forgot to escape', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['an escaped tag', '&lt;img src=x onerror=alert(1)&gt;', '&lt;img src=x onerror=alert(1)&gt;'],
    ['a javascript: link', '<javascript:alert(1)|click me>', '&lt;javascript:alert(1)|click me&gt;'],
    [
      'a link breaking out of href',
      '<https://x.org/"onmouseover="alert(1)|x>',
      `<a href="https://x.org/&quot;onmouseover=&quot;alert(1)" ${LINK}>x</a>`,
    ],
    [
      'a mention label with markup',
      '<@U0ONCALL01|&lt;script&gt;alert(1)&lt;/script&gt;>',
      '<span class="mention">@&lt;script&gt;alert(1)&lt;/script&gt;</span>',
    ],
    ['placeholder characters in the input', '\uE0000\uE001 *x*', '\uFFFD0\uFFFD <b>x</b>'],
    [
      'a script in a code block (raw <…> are control sequences, as in Slack)',
      '```</pre><script>alert(1)</script>```',
      '<pre class="code">/prescriptalert(1)/script</pre>',
    ],
  ])('XSS: %s renders as text', (_name, input, html) => {
    const out = renderMrkdwn(input, ctx);
    expect(out).toBe(html);
    expect(onlyAllowedMarkup(out)).toBe(true);
  });
});

describe('renderMrkdwn with local links', () => {
  const local = {
    ...ctx,
    localHref: (url: string) =>
      ({
        'https://ws.slack.com/archives/C1/p1000000000000100': '#msg-1000000000-000100',
        'https://ws.slack.com/bad': 'javascript:alert(1)',
      })[url],
  };

  it('points a link into the stand-in workspace at the page, in the same tab', () => {
    expect(renderMrkdwn('<https://ws.slack.com/archives/C1/p1000000000000100|thread>', local)).toBe(
      '<a href="#msg-1000000000-000100">thread</a>',
    );
  });

  it('ignores a local href that is neither an anchor nor a file', () => {
    expect(renderMrkdwn('<https://ws.slack.com/bad|x>', local)).toBe(
      `<a href="https://ws.slack.com/bad" ${LINK}>x</a>`,
    );
  });
});

describe('renderSlackPlain', () => {
  it('undoes Slack escaping, then escapes for HTML', () => {
    expect(renderSlackPlain('[FIRING:1] X (&lt;img src=x onerror=alert(1)&gt; &amp; "q")')).toBe(
      '[FIRING:1] X (&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;)',
    );
  });
});
