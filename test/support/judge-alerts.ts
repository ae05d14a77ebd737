/**
 * Judges what the bot read from an alert message against the alerts the message was rendered from: a value shown
 * that is not the alert's is wrong (the worst outcome: the on-call engineer acts on the wrong server); a label left
 * missing is not. Used by the published-template tests and the property test over generated templates.
 */
import type { Alert } from '../../src/ingest/alert';

export type Verdict = { kind: 'exact' } | { kind: 'partial' } | { kind: 'wrong'; why: string };

function common(truth: ReadonlyArray<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(truth[0] ?? {}).filter(([k, v]) => truth.every((t) => t[k] === v)));
}

/** The labels the bot shows for an alert: every label it holds that is not marked missing. */
export function shownLabels(alert: Alert): Record<string, string> {
  const missing = new Set(alert.missingLabels);
  return Object.fromEntries(Object.entries(alert.labels).filter(([k]) => !missing.has(k)));
}

function within(shown: Record<string, string>, labels: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(shown))
    if (labels[k] !== v) return `${k}=${JSON.stringify(v)} (true: ${JSON.stringify(labels[k])})`;
  return undefined;
}

/**
 * `exact`: one alert per true alert, each with exactly its labels. `wrong`: some shown value belongs to none of the
 * alerts it stands for, i.e. an incident standing for one alert shows a value that alert lacks, or an incident
 * standing for several (fewer incidents than alerts) shows a value they do not all share.
 */
export function judgeAlerts(read: readonly Alert[], truth: ReadonlyArray<Record<string, string>>): Verdict {
  if (read.length === 0) return { kind: 'partial' };
  if (read.length > truth.length) return { kind: 'wrong', why: `${read.length} incidents for ${truth.length} alerts` };
  if (read.length === truth.length) {
    const free = [...truth];
    let exact = true;
    for (const a of read) {
      const shown = shownLabels(a);
      const i = free.findIndex((t) => within(shown, t) === undefined);
      if (i < 0) {
        const why = truth.map((t) => within(shown, t)).join(' / ');
        return { kind: 'wrong', why: `incident ${JSON.stringify(shown)} is no alert's: ${why}` };
      }
      if (Object.keys(shown).length !== Object.keys(free[i]).length) exact = false;
      free.splice(i, 1);
    }
    return exact ? { kind: 'exact' } : { kind: 'partial' };
  }
  const shared = common(truth);
  for (const a of read) {
    const bad = within(shownLabels(a), shared);
    if (bad) return { kind: 'wrong', why: `an incident for several alerts shows ${bad}, which they do not share` };
  }
  return { kind: 'partial' };
}
