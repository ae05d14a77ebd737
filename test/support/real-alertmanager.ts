/**
 * A real Alertmanager (Debian `prometheus-alertmanager`) on loopback, configured with one receiver that holds a
 * slack_config per template (each POSTing to its own path of a local capture server) and a webhook (the exact
 * alerts of each notification). Used by the template capture script and by tests that render live.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const AM_BIN = process.env.AM_BIN ?? 'prometheus-alertmanager';

export interface ScenarioAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** One template as a slack_config (YAML lines after `- api_url: …`) and the named templates it uses. */
export interface SlackTemplate {
  id: string;
  /** YAML keys of the slack_config, indented by 8 spaces, without api_url/channel/send_resolved. */
  config: string;
  /** Template file content (`{{ define … }}`), if any. */
  defines?: string;
}

const RUNBOOK =
  'https://github.com/srerun/prometheus-alerts/blob/main/content/runbooks/haproxy-exporter-v1/HaproxyServerDown.md';

/**
 * An alert of the HaproxyServerDown rule (runbooks/HaproxyServerDown.md) as Prometheus sends it: the rule's
 * annotations render `{{ $labels }}` as Go's map (series labels only), unless `plain`.
 */
export function haproxyAlert(labels: Record<string, string>, opts: { plain?: boolean } = {}): ScenarioAlert {
  const all: Record<string, string> = {
    alertname: 'HaproxyServerDown',
    job: 'haproxy',
    severity: 'critical',
    ...labels,
  };
  const series = Object.entries({ __name__: 'haproxy_server_up', ...all })
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  return {
    labels: all,
    annotations: opts.plain
      ? { summary: 'HAProxy server down', description: 'An HAProxy backend server is down.', runbook: RUNBOOK }
      : {
          summary: `HAProxy server down (instance ${all.instance})`,
          description: `HAProxy server is down\n  VALUE = 0\n  LABELS = map[${series}]`,
          runbook: RUNBOOK,
        },
  };
}

function config(dir: string, capturePort: number, groupBy: string[], templates: readonly SlackTemplate[]): string {
  const url = (p: string) => `http://127.0.0.1:${capturePort}/${p}`;
  fs.writeFileSync(path.join(dir, 'published.tmpl'), templates.map((t) => t.defines ?? '').join('\n'));
  const slack = templates
    .map(
      (t) => `      - api_url: '${url(t.id)}'
        channel: '#alerts'
        send_resolved: true
${t.config}`,
    )
    .join('\n');
  return `global:
  resolve_timeout: 1m
templates:
  - '${path.join(dir, 'published.tmpl')}'
route:
  receiver: oncall
  group_by: [${groupBy.join(', ')}]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: oncall
    slack_configs:
${slack}
    webhook_configs:
      - url: '${url('webhook')}'
        send_resolved: true
`;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
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

export interface RunningAlertmanager {
  url: string;
  /** Posts the alerts (firing) and returns each integration's body (by template id, and `webhook`). */
  fire(alerts: ScenarioAlert[]): Promise<Record<string, unknown>>;
  /** Posts the alerts ended and returns each integration's resolved body. */
  resolve(alerts: ScenarioAlert[]): Promise<Record<string, unknown>>;
}

/** Runs `fn` with an Alertmanager rendering `templates` under `groupBy`; stops it and its capture server after. */
export async function withAlertmanager<T>(
  opts: { amPort: number; capturePort: number; groupBy: string[]; templates: readonly SlackTemplate[] },
  fn: (am: RunningAlertmanager) => Promise<T>,
): Promise<T> {
  const received = new Map<string, unknown>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.set((req.url ?? '').replace(/^\//, ''), JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); // what Slack's incoming webhooks answer
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.capturePort, '127.0.0.1', resolve));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'am-templates-'));
  let child: ChildProcess | undefined;
  let stderr = '';
  try {
    fs.writeFileSync(path.join(dir, 'alertmanager.yml'), config(dir, opts.capturePort, opts.groupBy, opts.templates));
    child = spawn(
      AM_BIN,
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${opts.amPort}`,
        '--web.external-url=http://alertmanager.example.org:9093',
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const base = `http://127.0.0.1:${opts.amPort}`;
    const proc = child;
    const until = Date.now() + 10000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`alertmanager exited with ${proc.exitCode}: ${stderr}`);
      const ok = await fetch(`${base}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > until) throw new Error(`alertmanager did not become ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const want = [...opts.templates.map((t) => t.id), 'webhook'];
    const post = async (alerts: ScenarioAlert[], ended: boolean, what: string) => {
      received.clear();
      // Firing alerts start now: Alertmanager then waits group_wait for the group's first notification, so it holds
      // every alert of this one POST. An alert older than group_wait flushes its new group at once (dispatch.go,
      // aggrGroup.insert), racing the insertion of the POST's other alerts: on a loaded machine the first
      // notification named only the first alert. Ended alerts need a start before their end.
      const startsAt = new Date(ended ? Date.now() - 60_000 : Date.now()).toISOString();
      const body = alerts.map((a) => ({
        ...a,
        startsAt,
        generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=haproxy_server_up+%3D%3D+0&g0.tab=1',
        ...(ended ? { endsAt: new Date(Date.now() - 1000).toISOString() } : {}),
      }));
      const r = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`POST /api/v2/alerts: ${r.status} ${await r.text()}`);
      await waitFor(() => want.every((k) => received.has(k)), `${what} notifications (${stderr})`);
      // The webhook beside the templates shows which alerts this notification holds: a test given a part of them
      // would fail far from the cause.
      const named = (received.get('webhook') as { alerts?: unknown[] } | undefined)?.alerts?.length;
      if (named !== alerts.length)
        throw new Error(`the ${what} notification named ${named} of the ${alerts.length} alerts posted together`);
      return Object.fromEntries(received);
    };
    return await fn({
      url: base,
      fire: (alerts) => post(alerts, false, 'firing'),
      resolve: (alerts) => post(alerts, true, 'resolved'),
    });
  } finally {
    if (child) await stop(child);
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
