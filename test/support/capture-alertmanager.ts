/**
 * Regenerates the Alertmanager fixtures from a real Alertmanager.
 *
 *   npx ts-node --transpile-only test/support/capture-alertmanager.ts
 *
 * Needs the Debian package prometheus-alertmanager (binary prometheus-alertmanager). For each scenario it starts
 * Alertmanager on loopback with its own config and temp storage, fires HaproxyServerDown alerts through
 * POST /api/v2/alerts, waits for what Alertmanager POSTs to a local capture server (three Slack integrations and
 * one webhook), resolves the alerts, waits again, and stops Alertmanager. Every captured body is saved verbatim
 * under test/fixtures/alertmanager/; the Slack ones are also wrapped in Slack message events under
 * test/fixtures/slack/ (see test/support/slack-envelope.ts and test/fixtures/slack/README.md).
 *
 * Ports: AM_PORT (default 19093) and CAPTURE_PORT (default 19094), loopback only.
 * `--only a,b` captures just those scenarios and writes just their Slack events (the others' files stay as they are).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type SlackPayload, slackEventFromPayload } from './slack-envelope';

const AM_BIN = process.env.AM_BIN ?? 'prometheus-alertmanager';
const AM_PORT = Number(process.env.AM_PORT ?? 19093);
const CAPTURE_PORT = Number(process.env.CAPTURE_PORT ?? 19094);
const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const CHANNEL = 'C0123ALERTS';

/** The three Slack integrations and the webhook, by the path they POST to. */
const INTEGRATIONS = ['slack-default', 'slack-community', 'slack-kps', 'webhook'] as const;
type Integration = (typeof INTEGRATIONS)[number];

const RUNBOOK =
  'https://github.com/srerun/prometheus-alerts/blob/main/content/runbooks/haproxy-exporter-v1/HaproxyServerDown.md';

/** Labels as Prometheus would send them for the rule in runbooks/HaproxyServerDown.md. */
function haproxyAlert(labels: Record<string, string>): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const all: Record<string, string> = {
    alertname: 'HaproxyServerDown',
    job: 'haproxy',
    severity: 'critical',
    ...labels,
  };
  // What Prometheus renders for `{{ $labels }}` in the rule's description: the series labels as a Go map.
  const series = Object.entries({ __name__: 'haproxy_server_up', ...all })
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  return {
    labels: all,
    annotations: {
      summary: `HAProxy server down (instance ${all.instance})`,
      description: `HAProxy server is down\n  VALUE = 0\n  LABELS = map[${series}]`,
      runbook: RUNBOOK,
    },
  };
}

const lb1 = { instance: '127.0.0.1:9101', backend: 'web', server: 'web2' };
const lb2 = { instance: 'lb-1:9101', backend: 'web', server: 'web2' };

const SCENARIOS: Array<{ name: string; groupBy: string[]; alerts: Array<Record<string, string>> }> = [
  { name: 'single', groupBy: ['alertname'], alerts: [lb1] },
  { name: 'grouped', groupBy: ['alertname'], alerts: [lb1, lb2] },
  { name: 'by-instance', groupBy: ['alertname', 'instance'], alerts: [lb2] },
  // Shell metacharacters in label values must pass through parsing unchanged.
  {
    name: 'metachar',
    groupBy: ['alertname'],
    alerts: [{ instance: 'lb-1:9101', backend: 'web;id', server: '$(touch${IFS}/tmp/pwned)' }],
  },
  // Groupings teams use (issue #11): every label, a grouped notification of three servers of one backend, and a
  // grouping without alertname.
  { name: 'all-labels', groupBy: ["'...'"], alerts: [lb1] },
  {
    name: 'grouped-three',
    groupBy: ['alertname'],
    alerts: ['web1', 'web2', 'web3'].map((server) => ({ ...lb1, server })),
  },
  { name: 'by-server', groupBy: ['backend', 'server'], alerts: [lb1] },
];

// The classic community text, as it is pasted into slack_configs with YAML folding (`>-`).
const COMMUNITY_TEXT = `>-
          {{ range .Alerts }}
             *Alert:* {{ .Annotations.summary }} - \`{{ .Labels.severity }}\`
            *Description:* {{ .Annotations.description }}
            *Graph:* <{{ .GeneratorURL }}|:chart_with_upwards_trend:> *Runbook:* <{{ .Annotations.runbook }}|:spiral_note_pad:>
            *Details:*
            {{ range .Labels.SortedPairs }} • *{{ .Name }}:* \`{{ .Value }}\`
            {{ end }}
          {{ end }}`;

// kube-prometheus-stack's example template (values.yaml, alertmanager.templateFiles).
const KPS_TEMPLATE = `{{ define "cluster" }}{{ .ExternalURL | reReplaceAll ".*alertmanager\\\\.(.*)" "$1" }}{{ end }}

{{ define "slack.myorg.text" }}
{{- $root := . -}}
{{ range .Alerts }}
  *Alert:* {{ .Annotations.summary }} - \`{{ .Labels.severity }}\`
  *Cluster:* {{ template "cluster" $root }}
  *Description:* {{ .Annotations.description }}
  *Graph:* <{{ .GeneratorURL }}|:chart_with_upwards_trend:>
  *Runbook:* <{{ .Annotations.runbook }}|:spiral_note_pad:>
  *Details:*
    {{ range .Labels.SortedPairs }} - *{{ .Name }}:* \`{{ .Value }}\`
    {{ end }}
{{ end }}
{{ end }}
`;

function config(dir: string, groupBy: string[]): string {
  const url = (p: string) => `http://127.0.0.1:${CAPTURE_PORT}/${p}`;
  fs.writeFileSync(path.join(dir, 'kps.tmpl'), KPS_TEMPLATE);
  return `global:
  resolve_timeout: 1m
templates:
  - '${path.join(dir, 'kps.tmpl')}'
route:
  receiver: haproxy-oncall
  group_by: [${groupBy.join(', ')}]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: haproxy-oncall
    slack_configs:
      - api_url: '${url('slack-default')}'
        channel: '#alerts'
        send_resolved: true
      - api_url: '${url('slack-community')}'
        channel: '#alerts'
        send_resolved: true
        title: '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] Prometheus Event Notification'
        text: ${COMMUNITY_TEXT}
      - api_url: '${url('slack-kps')}'
        channel: '#alerts'
        send_resolved: true
        text: '{{ template "slack.myorg.text" . }}'
    webhook_configs:
      - url: '${url('webhook')}'
        send_resolved: true
`;
}

interface Captured {
  integration: Integration;
  body: unknown;
}

function startCaptureServer(sink: Captured[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const integration = (req.url ?? '').replace(/^\//, '') as Integration;
      if (INTEGRATIONS.includes(integration))
        sink.push({ integration, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); // what Slack's incoming webhooks answer
    });
  });
  return new Promise((resolve) => server.listen(CAPTURE_PORT, '127.0.0.1', () => resolve(server)));
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startAlertmanager(dir: string, groupBy: string[]): Promise<ChildProcess> {
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), config(dir, groupBy));
  const child = spawn(
    AM_BIN,
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${AM_PORT}`,
      `--web.external-url=http://alertmanager.example.org:9093`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const until = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited with ${child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${AM_PORT}/-/ready`);
      if (r.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error('alertmanager did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function postAlerts(alerts: unknown[]): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${AM_PORT}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  if (!r.ok) throw new Error(`POST /api/v2/alerts: ${r.status} ${await r.text()}`);
}

function write(rel: string, value: unknown): void {
  const file = path.join(FIXTURES, rel);
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote test/fixtures/${rel}`);
}

async function runScenario(s: (typeof SCENARIOS)[number], sink: Captured[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'am-capture-'));
  let child: ChildProcess | undefined;
  try {
    child = await startAlertmanager(dir, s.groupBy);
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alerts = s.alerts.map((l) => ({
      ...haproxyAlert(l),
      startsAt,
      generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=haproxy_server_up+%3D%3D+0&g0.tab=1',
    }));
    sink.length = 0;
    await postAlerts(alerts);
    await waitFor(() => sink.length >= INTEGRATIONS.length, `${s.name}: firing notifications`);
    const firing = sink.splice(0);
    await postAlerts(alerts.map((a) => ({ ...a, endsAt: new Date(Date.now() - 1000).toISOString() })));
    await waitFor(() => sink.length >= INTEGRATIONS.length, `${s.name}: resolved notifications`);
    const resolved = sink.splice(0);
    for (const [status, got] of [
      ['firing', firing],
      ['resolved', resolved],
    ] as const) {
      for (const c of got) write(`alertmanager/${s.name}.${c.integration}.${status}.json`, c.body);
    }
  } finally {
    if (child) await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Wraps the captured Slack payloads of some scenarios only, with their own ts range (the others keep theirs). */
function buildScenarioEvents(names: string[]): void {
  let n = 0;
  const ts = () => `${1732600000 + 100 * n++}.000100`;
  for (const f of fs
    .readdirSync(path.join(FIXTURES, 'alertmanager'))
    .filter((x) => x.includes('.slack-') && names.includes(x.split('.')[0]))
    .sort()) {
    const payload = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'alertmanager', f), 'utf8')) as SlackPayload;
    write(
      `slack/${f.replace(/\.json$/, '.event.json')}`,
      slackEventFromPayload(payload, { kind: 'incoming-webhook', channel: CHANNEL, ts: ts(), botId: 'B0ALERTMGR' }),
    );
  }
}

/** Wraps every captured Slack payload (and the Grafana ones) in the Slack message event it becomes. */
function buildSlackEvents(): void {
  let n = 0;
  const ts = () => `${1732540800 + 100 * n++}.000100`;
  const read = (dir: string, f: string) =>
    JSON.parse(fs.readFileSync(path.join(FIXTURES, dir, f), 'utf8')) as SlackPayload;
  const amFiles = fs
    .readdirSync(path.join(FIXTURES, 'alertmanager'))
    .filter((f) => f.includes('.slack-'))
    .sort();
  for (const f of amFiles) {
    const payload = read('alertmanager', f);
    write(
      `slack/${f.replace(/\.json$/, '.event.json')}`,
      slackEventFromPayload(payload, { kind: 'incoming-webhook', channel: CHANNEL, ts: ts(), botId: 'B0ALERTMGR' }),
    );
  }
  // The same default-template message posted with a bot token, and its resolution as an edit (message_changed).
  const firing = read('alertmanager', 'single.slack-default.firing.json');
  const resolved = read('alertmanager', 'single.slack-default.resolved.json');
  write(
    'slack/single.slack-default.firing.bot-token.event.json',
    slackEventFromPayload(firing, { kind: 'bot-token', channel: CHANNEL, ts: ts(), botId: 'B0ALERTBOT' }),
  );
  write(
    'slack/single.slack-default.resolved.changed.event.json',
    slackEventFromPayload(resolved, {
      kind: 'message-changed',
      channel: CHANNEL,
      ts: ts(),
      botId: 'B0ALERTBOT',
      previous: firing,
    }),
  );
  for (const f of fs
    .readdirSync(path.join(FIXTURES, 'grafana'))
    .filter((x) => x.endsWith('.slack.json'))
    .sort()) {
    const payload = read('grafana', f);
    write(
      `slack/grafana.${f.replace(/\.slack\.json$/, '.event.json')}`,
      slackEventFromPayload(payload, {
        kind: 'bot-token',
        channel: CHANNEL,
        ts: ts(),
        botId: 'B0GRAFANA1',
        appId: 'A0GRAFANA1',
      }),
    );
  }
}

async function main(): Promise<void> {
  const sink: Captured[] = [];
  const server = await startCaptureServer(sink);
  try {
    const only = process.argv.indexOf('--only');
    if (only >= 0) {
      const names = (process.argv[only + 1] ?? '').split(',');
      for (const s of SCENARIOS.filter((x) => names.includes(x.name))) await runScenario(s, sink);
      buildScenarioEvents(names);
      return;
    }
    if (!process.argv.includes('--events-only')) for (const s of SCENARIOS) await runScenario(s, sink);
    buildSlackEvents();
  } finally {
    server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
