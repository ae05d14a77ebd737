/** Loading the captured fixtures for the ingest tests. */
import fs from 'node:fs';
import path from 'node:path';

export const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures');

export function fixtureFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadFixture<T = unknown>(dir: string, file: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, dir, file), 'utf8')) as T;
}

export interface WebhookAlertFixture {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Every alert Alertmanager sent to the webhook, by scenario and status, as captured. */
export function webhookAlerts(scenario: string, status: 'firing' | 'resolved'): WebhookAlertFixture[] {
  return loadFixture<{ alerts: WebhookAlertFixture[] }>('alertmanager', `${scenario}.webhook.${status}.json`).alerts;
}

export const HAPROXY_LABEL_NAMES = ['alertname', 'backend', 'instance', 'job', 'server', 'severity'];
