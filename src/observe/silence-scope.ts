/**
 * How wide a silence may be (#12 §7). It always matches at least the alert's name and its host label, so a message
 * that lost labels cannot silence every host's alerts; when Alertmanager says the matchers cover more than this one
 * alert, the user must say "silence all N", and a submission that would now cover more than they confirmed is refused.
 */
import { PilotError } from '../errors';

/** Throws PARAM_INVALID unless `labels` (the silence's matchers) name the alert and its host. */
export function assertSilenceScope(labels: Readonly<Record<string, string>>, hostLabel: string): void {
  const missing = [...new Set(['alertname', hostLabel])].filter((name) => !labels[name]);
  if (!missing.length) return;
  throw new PilotError(
    'PARAM_INVALID',
    `the alert's ${missing.map((m) => `\`${m}\``).join(' and ')} label${missing.length > 1 ? 's are' : ' is'} not known, and a silence without ${missing.length > 1 ? 'them' : 'it'} could match other hosts' alerts: nothing was silenced`,
    {
      hint: 'silence it in Alertmanager itself, or open the incident from the webhook, which carries every label',
    },
  );
}

/**
 * Whether a submission may create the silence: `matched` is how many alerts Alertmanager says the matchers cover now
 * (undefined: it did not say), `confirmed` the number the user ticked "silence all" for (undefined: none shown).
 * Returns the refusal, or undefined when it may go ahead.
 */
export function silenceCoverageRefusal(
  matched: number | undefined,
  confirmed: number | undefined,
): PilotError | undefined {
  if (matched === undefined || matched <= 1) return undefined;
  if (confirmed !== undefined && matched <= confirmed) return undefined;
  return new PilotError(
    'PARAM_INVALID',
    `these matchers now cover ${matched} alerts in Alertmanager${confirmed ? `, more than the ${confirmed} you confirmed` : ''}: nothing was silenced`,
    {
      hint: 'click Silence again: the form will show how many alerts it covers and ask you to confirm all of them',
    },
  );
}
