/** The published-template fixtures (test/fixtures/templates, captured by capture-templates.ts). */
import fs from 'node:fs';
import path from 'node:path';
import type { HeldAlert } from '../../src/ingest/complete-alerts';

export interface TemplateMessage {
  scenario: string;
  groupBy: string[];
  status: 'firing' | 'resolved';
  alerts: Array<HeldAlert & { status: string; endsAt: string }>;
  body: { attachments?: Array<Record<string, unknown>>; [k: string]: unknown };
}

export interface TemplateFixture {
  template: string;
  source: { repository: string; path: string; commit?: string; note?: string };
  adapted?: string;
  messages: TemplateMessage[];
}

const DIR = path.resolve(__dirname, '..', 'fixtures', 'templates');

/** Every captured template, in file order. */
export function templateFixtures(): TemplateFixture[] {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as TemplateFixture);
}
