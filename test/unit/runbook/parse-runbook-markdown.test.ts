import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PilotError } from '../../../src/errors';
import { parseRunbookMarkdown } from '../../../src/runbook/parse-runbook-markdown';

const srerun = join(__dirname, '../../fixtures/runbooks/srerun');
const written = readdirSync(srerun).filter((f) => f.endsWith('.md'));
const templates = readdirSync(join(srerun, 'templates')).filter((f) => f.endsWith('.md'));
const read = (...p: string[]): string => readFileSync(join(srerun, ...p), 'utf8');

describe('parseRunbookMarkdown on the srerun/prometheus-alerts sample', () => {
  it('has a varied sample', () => {
    expect(written.length + templates.length).toBeGreaterThanOrEqual(20);
  });

  it.each(written)('%s parses into diagnosis and mitigation steps', (file) => {
    const doc = parseRunbookMarkdown(read(file), file);
    expect(doc.alertname).toBe(file.replace(/\.md$/, ''));
    expect(doc.diagnosis.length + doc.mitigation.length).toBeGreaterThan(0);
    expect(doc.diagnosis.length).toBeGreaterThan(0);
    expect(doc.mitigation.length).toBeGreaterThan(0);
    expect(doc.meaning).not.toBe('');
    expect(doc.expr).toBeTruthy();
    expect(doc.url).toMatch(/^https:\/\/github\.com\/srerun\/prometheus-alerts\//);
    for (const item of [...doc.diagnosis, ...doc.mitigation]) {
      expect(item.text).not.toMatch(/^\s|\s$|\*\*|`|\{\{%/);
      expect(item.text.length).toBeGreaterThan(10);
    }
    // numbers are positions: 1..n without gaps
    expect(doc.diagnosis.map((i) => i.number)).toEqual(doc.diagnosis.map((_, i) => i + 1));
  });

  it.each(templates)('%s (an unwritten template) gives empty lists, not an error', (file) => {
    const doc = parseRunbookMarkdown(read('templates', file), file);
    expect(doc.alertname).toBe(file.replace(/\.md$/, ''));
    expect(doc.diagnosis).toEqual([]);
    expect(doc.mitigation).toEqual([]);
    expect(doc.expr).toBeTruthy();
  });

  it('reads HaproxyServerDown as the bot uses it', () => {
    const doc = parseRunbookMarkdown(read('HaproxyServerDown.md'), 'HaproxyServerDown.md');
    expect(doc).toMatchObject({
      alertname: 'HaproxyServerDown',
      description: 'Troubleshooting for alert HaproxyServerDown',
      expr: 'haproxy_server_up == 0',
      url: 'https://github.com/srerun/prometheus-alerts/blob/main/content/runbooks/haproxy-exporter-v1/HaproxyServerDown.md',
    });
    expect(doc.meaning).toMatch(/^The HaproxyServerDown alert is triggered/);
    expect(doc.impact).toContain('• Loss of traffic routing and load balancing capabilities');
    expect(doc.diagnosis).toEqual([
      { number: 1, text: 'Check the HAProxy server logs for any errors or warnings' },
      { number: 2, text: 'Verify the HAProxy server process is running and listening on the expected port' },
      { number: 3, text: 'Check the network connectivity to the HAProxy server' },
      { number: 4, text: 'Verify the HAProxy server configuration is correct and up-to-date' },
      { number: 5, text: 'Check for any recent changes or deployments that may have caused the issue' },
    ]);
    expect(doc.mitigation).toHaveLength(6);
    expect(doc.mitigation[5].text).toMatch(/^Consider implementing additional monitoring/);
  });

  it('keeps bold lead-ins as the item lead and plain text', () => {
    const doc = parseRunbookMarkdown(read('ClickhouseMemoryUsageCritical.md'), 'x');
    expect(doc.mitigation[0]).toEqual({
      number: 1,
      lead: 'Adjust ClickHouse configuration',
      text: 'Adjust ClickHouse configuration: Review and adjust the ClickHouse configuration to optimize memory usage, such as reducing buffer sizes or altering merge settings.',
    });
  });

  it('attaches code blocks to their item and numbers a second list after the first', () => {
    const doc = parseRunbookMarkdown(read('HostSystemdServiceCrashed.md'), 'x');
    expect(doc.diagnosis[0].text).toBe(
      'Check the systemd service status using the systemctl command: systemctl status <service_name> Replace <service_name> with the name of the failed service.',
    );
    expect(doc.mitigation.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(doc.mitigation[5].text).toBe('Disable the service: systemctl disable <service_name>');
  });

  it('reads the older layout (rule inside Meaning, HTML comment instead of shortcode)', () => {
    const old = parseRunbookMarkdown(read('templates', 'MysqlDown.md'), 'x');
    expect(old).toMatchObject({ meaning: 'MySQL instance is down on {{ $labels.instance }}', expr: 'mysql_up == 0' });
    const html = parseRunbookMarkdown(read('templates', 'HostHighCpuLoad.md'), 'x');
    expect(html.meaning).toBe('CPU load is > 80%');
    expect(html.url).toBe(
      'https://github.com/srerun/prometheus-alerts/blob/main/content/runbooks/node-exporter/HostHighCpuLoad.md',
    );
  });
});

describe('parseRunbookMarkdown on layouts the sample lacks', () => {
  // Minimal documents in the same format, for variants seen across the collection.
  const doc = (diagnosis: string, mitigation = ''): string =>
    `---\ntitle: SomeAlert\n---\n\n# SomeAlert\n\n## Meaning\n\nx\n\n## Diagnosis\n\n${diagnosis}\n\n## Mitigation\n\n${mitigation}\n`;

  it('takes bullets as steps when a section has no numbers', () => {
    const d = parseRunbookMarkdown(
      doc('Steps:\n\n* Check the logs\n* Check the `config`\n  with more detail\n- Check disk'),
      'x',
    );
    expect(d.diagnosis).toEqual([
      { number: 1, text: 'Check the logs' },
      { number: 2, text: 'Check the config with more detail' },
      { number: 3, text: 'Check disk' },
    ]);
  });

  it('joins nested bullets into their numbered item', () => {
    const d = parseRunbookMarkdown(
      doc('1. **Check logs**: look at\n   - the HAProxy log\n   - the journal\n2. Check config'),
      'x',
    );
    expect(d.diagnosis).toEqual([
      { number: 1, lead: 'Check logs', text: 'Check logs: look at the HAProxy log the journal' },
      { number: 2, text: 'Check config' },
    ]);
  });

  it('turns ### sub-headings into steps, or numbers items under them', () => {
    const d = parseRunbookMarkdown(
      doc(
        '### Check the logs\n\nLook at `journalctl -u haproxy`.\n\n### Step 2: Check the network\n\n* ping the server\n* trace the route',
      ),
      'x',
    );
    expect(d.diagnosis).toEqual([
      { number: 1, lead: 'Check the logs', text: 'Check the logs: Look at journalctl -u haproxy.' },
      { number: 2, lead: 'Check the network', text: 'Check the network: ping the server trace the route' },
    ]);
    const m = parseRunbookMarkdown(
      doc('x', '### Short term\n\n1. Restart\n2. Drain\n\n### Long term\n\n1. Add capacity'),
      'x',
    );
    expect(m.mitigation.map((i) => [i.number, i.text])).toEqual([
      [1, 'Restart'],
      [2, 'Drain'],
      [3, 'Add capacity'],
    ]);
  });

  it('gives empty lists for missing sections and takes the title from the heading without front matter', () => {
    const d = parseRunbookMarkdown('# LonelyAlert\n\nNothing else.\n', 'x');
    expect(d).toEqual({
      alertname: 'LonelyAlert',
      description: undefined,
      meaning: '',
      impact: '',
      diagnosis: [],
      mitigation: [],
      url: undefined,
      expr: undefined,
    });
  });

  it('accepts CRLF line ends', () => {
    expect(parseRunbookMarkdown(doc('1. One\n2. Two').replace(/\n/g, '\r\n'), 'x').diagnosis).toHaveLength(2);
  });

  it.each([
    ['no alert name at all', 'Just some text\n\n## Diagnosis\n\n1. Check', 'no alert name'],
    ['an unclosed front matter', '---\ntitle: X\n\n# X\n', 'never closed'],
    ['broken front matter YAML', '---\ntitle: [X\n---\n# X\n', 'not valid YAML'],
    ['binary content', '# X\u0000\u0001', 'not a text file'],
  ])('refuses %s with RUNBOOK_INVALID naming the file', (_n, md, words) => {
    let caught: unknown;
    try {
      parseRunbookMarkdown(md, 'runbooks/Broken.md');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PilotError);
    expect((caught as PilotError).code).toBe('RUNBOOK_INVALID');
    expect((caught as PilotError).message).toContain('runbooks/Broken.md');
    expect((caught as PilotError).message).toContain(words);
  });
});
