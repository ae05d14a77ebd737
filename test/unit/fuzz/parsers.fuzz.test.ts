/**
 * Issue #6: thousands of random and mutated inputs into every parser. Each either returns a well-formed value or
 * throws a PilotError with a code from the catalog (never a TypeError, never a hang); label values stay strings.
 * Inputs start from the real captured fixtures; a failure names the seed to reproduce it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinActions } from '../../../src/actions/catalog';
import { parseServersState } from '../../../src/actions/parse-servers-state';
import { parseShowStat } from '../../../src/actions/parse-show-stat';
import { parseConfigText } from '../../../src/config/load-config';
import { ErrorCatalog, PilotError } from '../../../src/errors';
import type { Alert } from '../../../src/ingest/alert';
import { parseAlertmanagerWebhook } from '../../../src/ingest/parse-alertmanager-webhook';
import { parseSlackAlertMessage } from '../../../src/ingest/parse-slack-alert';
import { parseRunbookBinding } from '../../../src/runbook/binding-schema';
import { loadRunbooks } from '../../../src/runbook/load-runbooks';
import { parseRunbookMarkdown } from '../../../src/runbook/parse-runbook-markdown';
import { decodeStepValue, encodeStepValue } from '../../../src/slack/action-ids';
import { alertParseOptions } from '../../../src/slack/alerts';
import { mutateJson, mutateText, type Rng, randomJson, randomString, rng } from '../../support/fuzz';

const REPO = join(__dirname, '..', '..', '..');
const FIXTURES = join(REPO, 'test', 'fixtures');
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1000);
/** A parser call slower than this on inputs of this size is a backtracking regex or a loop gone wrong. */
const SLOW_MS = 250;

const read = (...p: string[]) => readFileSync(join(...p), 'utf8');
const jsonFiles = (dir: string) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(read(FIXTURES, dir, f)) as unknown);
const textFiles = (dir: string, ext: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => read(dir, f));

const slackEvents = jsonFiles('slack');
const webhooks = readdirSync(join(FIXTURES, 'alertmanager'))
  .filter((f) => f.includes('.webhook.'))
  .map((f) => JSON.parse(read(FIXTURES, 'alertmanager', f)) as unknown);
const runbookDocs = [
  ...textFiles(join(FIXTURES, 'runbooks', 'srerun'), '.md'),
  ...textFiles(join(REPO, 'runbooks'), '.md'),
];
const bindings = textFiles(join(REPO, 'runbooks'), '.yml');
const haproxyOutputs = readdirSync(join(FIXTURES, 'haproxy'))
  .filter((f) => f.endsWith('.txt'))
  .map((f) => read(FIXTURES, 'haproxy', f));
const configText = read(REPO, 'config.example.yml');

const registry = loadRunbooks(join(REPO, 'runbooks'), builtinActions);
const config = parseConfigText(configText, 'config.example.yml', { env: { ALERTMANAGER_TOKEN: 'example-token' } });
const slackOptions = alertParseOptions(registry, config.hosts);

/** Runs `n` seeded cases; collects failures with their seeds instead of stopping at the first. */
function fuzz(name: string, n: number, input: (r: Rng) => unknown, check: (input: unknown) => void): void {
  const failures: string[] = [];
  let slowest = 0;
  for (let seed = 1; seed <= n; seed++) {
    const value = input(rng(seed * 7919 + name.length));
    const started = performance.now();
    try {
      check(value);
    } catch (err) {
      failures.push(`seed ${seed}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    slowest = Math.max(slowest, performance.now() - started);
  }
  expect(failures.slice(0, 5)).toEqual([]);
  expect(slowest).toBeLessThan(SLOW_MS);
}

/** Calls `fn`; a thrown error must be a PilotError with a catalog code (the parser's own, expected refusal). */
function refusesCleanly<T>(fn: () => T, allowed: readonly string[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof PilotError))
      throw new Error(
        `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} instead of a PilotError`,
      );
    if (!(err.code in ErrorCatalog) || !allowed.includes(err.code))
      throw new Error(`threw PilotError ${err.code}, expected one of ${allowed.join(', ')}`);
    return undefined;
  }
}

function expectWellFormedAlert(a: Alert): void {
  if (typeof a.alertname !== 'string' || !a.alertname) throw new Error('alert without an alertname');
  if (a.status !== 'firing' && a.status !== 'resolved') throw new Error(`status ${String(a.status)}`);
  for (const [k, v] of Object.entries(a.labels))
    if (typeof v !== 'string') throw new Error(`label ${k} is ${typeof v}`);
  for (const [k, v] of Object.entries(a.annotations))
    if (typeof v !== 'string') throw new Error(`annotation ${k} is ${typeof v}`);
  if (typeof a.fingerprint !== 'string' || !a.fingerprint) throw new Error('alert without a fingerprint');
  if (!Array.isArray(a.missingLabels)) throw new Error('missingLabels is not an array');
}

describe('parser fuzzing', () => {
  it('parseSlackAlertMessage: mutated captured events and random values', () => {
    fuzz(
      'slack',
      ITERATIONS * 2,
      (r) => (r.chance(0.85) ? mutateJson(r, r.pick(slackEvents), 4) : randomJson(r, 4)),
      (event) => {
        const parsed = parseSlackAlertMessage(event, slackOptions);
        if (parsed === null) return;
        if (!Array.isArray(parsed.alerts) || parsed.alerts.length === 0)
          throw new Error('non-null result without alerts');
        parsed.alerts.forEach(expectWellFormedAlert);
        if (typeof parsed.ref.ts !== 'string') throw new Error('ref.ts is not a string');
      },
    );
  });

  it('parseSlackAlertMessage: hostile text in an attachment still parses to string labels or nothing', () => {
    fuzz(
      'slack-text',
      ITERATIONS,
      (r) => {
        const event = structuredClone(r.pick(slackEvents)) as {
          attachments?: { text?: string; title?: string }[];
          text?: string;
        };
        for (const a of event.attachments ?? []) {
          if (a.text !== undefined) a.text = mutateText(r, a.text, 6);
          if (a.title !== undefined && r.chance(0.5)) a.title = mutateText(r, a.title, 3);
        }
        if (typeof event.text === 'string' && r.chance(0.5)) event.text = mutateText(r, event.text);
        return event;
      },
      (event) => {
        parseSlackAlertMessage(event, slackOptions)?.alerts.forEach(expectWellFormedAlert);
      },
    );
  });

  it('parseAlertmanagerWebhook: alerts or PARAM_INVALID', () => {
    fuzz(
      'webhook',
      ITERATIONS * 2,
      (r) => (r.chance(0.85) ? mutateJson(r, r.pick(webhooks), 4) : randomJson(r, 4)),
      (body) => {
        const alerts = refusesCleanly(() => parseAlertmanagerWebhook(body), ['PARAM_INVALID']);
        alerts?.forEach(expectWellFormedAlert);
      },
    );
  });

  it('parseRunbookMarkdown: a document or RUNBOOK_INVALID', () => {
    fuzz(
      'markdown',
      ITERATIONS,
      (r) => (r.chance(0.9) ? mutateText(r, r.pick(runbookDocs), 8) : randomString(r, 2000)),
      (md) => {
        const doc = refusesCleanly(() => parseRunbookMarkdown(md as string, 'fuzz.md'), ['RUNBOOK_INVALID']);
        if (doc && (typeof doc.alertname !== 'string' || !doc.alertname))
          throw new Error('document without an alertname');
      },
    );
  });

  it('parseRunbookBinding: a binding or RUNBOOK_INVALID', () => {
    fuzz(
      'binding',
      ITERATIONS,
      (r) => (r.chance(0.9) ? mutateText(r, r.pick(bindings), 6) : randomString(r, 500)),
      (yaml) => {
        refusesCleanly(() => parseRunbookBinding(yaml as string, 'fuzz.yml'), ['RUNBOOK_INVALID']);
      },
    );
  });

  it('parseConfigText: a frozen config or CONFIG_INVALID / CONFIG_INVALID_YAML', () => {
    fuzz(
      'config',
      ITERATIONS,
      (r) => (r.chance(0.9) ? mutateText(r, configText, 6) : randomString(r, 500)),
      (text) => {
        const parsed = refusesCleanly(
          () => parseConfigText(text as string, 'fuzz.yml'),
          ['CONFIG_INVALID', 'CONFIG_INVALID_YAML'],
        );
        if (parsed && !Object.isFrozen(parsed)) throw new Error('config not frozen');
      },
    );
  });

  it('parseServersState and parseShowStat: rows of strings, never a throw', () => {
    fuzz(
      'haproxy',
      ITERATIONS * 2,
      (r) => (r.chance(0.9) ? mutateText(r, r.pick(haproxyOutputs), 8) : randomString(r, 2000)),
      (text) => {
        for (const rows of [parseServersState(text as string), parseShowStat(text as string)] as unknown[][]) {
          if (!Array.isArray(rows)) throw new Error('not an array of rows');
        }
      },
    );
  });

  it('decodeStepValue: a well-typed value or undefined', () => {
    const real = encodeStepValue({ incidentId: 12, stepId: 'diagnosis-backend-state', actionId: 'backend-state' });
    fuzz(
      'button',
      ITERATIONS * 2,
      (r) =>
        r.chance(0.5)
          ? mutateText(r, real, 4)
          : r.chance(0.5)
            ? JSON.stringify(mutateJson(r, JSON.parse(real) as unknown, 3))
            : randomJson(r, 2),
      (value) => {
        const v = decodeStepValue(value);
        if (v === undefined) return;
        if (
          !Number.isInteger(v.incidentId) ||
          typeof v.stepId !== 'string' ||
          (v.actionId !== undefined && typeof v.actionId !== 'string')
        ) {
          throw new Error(`ill-typed value ${JSON.stringify(v)}`);
        }
      },
    );
  });
});
