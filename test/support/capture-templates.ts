/**
 * Renders the Slack templates real teams publish with a real Alertmanager and saves what it POSTs, per template, as
 * test/fixtures/templates/<template>.json (see the README there for the templates and where each comes from).
 *
 *   npx ts-node --transpile-only test/support/capture-templates.ts
 *
 * Needs the Debian package prometheus-alertmanager. For each scenario (a route group_by and a set of alerts) it starts
 * Alertmanager on loopback with one receiver holding every template's slack_config plus a webhook (the alerts' exact
 * labels and fingerprints: the truth each message is checked against), fires the alerts through POST /api/v2/alerts,
 * waits for every integration's firing notification, resolves them, waits again and stops Alertmanager.
 *
 * Ports: AM_PORT (default 19193) and CAPTURE_PORT (default 19194), loopback only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TEMPLATES } from './published-templates';
import { haproxyAlert, type ScenarioAlert, withAlertmanager } from './real-alertmanager';

const AM_PORT = Number(process.env.AM_PORT ?? 19193);
const CAPTURE_PORT = Number(process.env.CAPTURE_PORT ?? 19194);
const OUT = path.resolve(__dirname, '..', 'fixtures', 'templates');

const lb1 = { instance: '127.0.0.1:9101', backend: 'web', server: 'web2' };
const three = ['web1', 'web2', 'web3'].map((server) => ({ ...lb1, server }));

/** Route groupings teams use, one alert each, then three alerts in one notification (rule annotations and plain). */
export const SCENARIOS: Array<{ name: string; groupBy: string[]; alerts: ScenarioAlert[] }> = [
  { name: 'single', groupBy: ['alertname'], alerts: [haproxyAlert(lb1)] },
  { name: 'by-instance', groupBy: ['alertname', 'instance'], alerts: [haproxyAlert(lb1)] },
  { name: 'all-labels', groupBy: ["'...'"], alerts: [haproxyAlert(lb1)] },
  { name: 'by-server', groupBy: ['backend', 'server'], alerts: [haproxyAlert(lb1)] },
  // Two of the three first: what Alertmanager sends before the third joins the group ([FIRING:2], then [FIRING:3]).
  { name: 'grouped-two', groupBy: ['alertname'], alerts: three.slice(0, 2).map((l) => haproxyAlert(l)) },
  { name: 'grouped-three', groupBy: ['alertname'], alerts: three.map((l) => haproxyAlert(l)) },
  // Annotations without Prometheus's `LABELS = map[…]`: nothing in them names a label.
  { name: 'grouped-three-plain', groupBy: ['alertname'], alerts: three.map((l) => haproxyAlert(l, { plain: true })) },
];

interface Message {
  scenario: string;
  groupBy: string[];
  status: 'firing' | 'resolved';
  /** The alerts of this notification as the webhook beside it received them (exact labels, Alertmanager's fingerprint). */
  alerts: unknown[];
  /** The body Alertmanager POSTed to the template's Slack api_url, verbatim. */
  body: unknown;
}

async function main(): Promise<void> {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : [];
  const byTemplate = new Map<string, Message[]>(TEMPLATES.map((t) => [t.id, []]));
  for (const s of SCENARIOS.filter((x) => only.length === 0 || only.includes(x.name))) {
    const got = await withAlertmanager(
      { amPort: AM_PORT, capturePort: CAPTURE_PORT, groupBy: s.groupBy, templates: TEMPLATES },
      async (am) => {
        const firing = await am.fire(s.alerts);
        const resolved = await am.resolve(s.alerts);
        return { firing, resolved };
      },
    );
    for (const status of ['firing', 'resolved'] as const) {
      const bodies = got[status];
      const alerts = (bodies.webhook as { alerts: Array<Record<string, unknown>> }).alerts.map((a) => ({
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        generatorURL: a.generatorURL,
        fingerprint: a.fingerprint,
      }));
      for (const t of TEMPLATES)
        byTemplate.get(t.id)?.push({ scenario: s.name, groupBy: s.groupBy, status, alerts, body: bodies[t.id] });
    }
    console.log(`captured ${s.name}`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  for (const t of TEMPLATES) {
    const file = path.join(OUT, `${t.id}.json`);
    const before =
      only.length > 0 && fs.existsSync(file)
        ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { messages: Message[] }).messages
        : [];
    const messages = [...before.filter((m) => !only.includes(m.scenario)), ...(byTemplate.get(t.id) ?? [])];
    const { id, source, adapted } = t;
    fs.writeFileSync(file, `${JSON.stringify({ template: id, source, adapted, messages }, null, 1)}\n`);
    console.log(`wrote test/fixtures/templates/${id}.json (${messages.length} messages)`);
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
