/**
 * One catalog of error codes. Each code has a hint that tells the reader what to do, and whether the text may be
 * shown to a Slack user. Anything not user-facing reaches Slack only as "internal error, see logs (id …)". Each code
 * means one thing, is thrown somewhere in src/ and is listed in README.md's error table with its fix
 * (test/unit/errors-catalog.test.ts checks both). A command that runs past its timeout is not an error: its result
 * says `timedOut` and the step reports "timed out after N s".
 */
import { randomBytes } from 'node:crypto';

export const ErrorCatalog = {
  CONFIG_MISSING_ENV: { userFacing: false, hint: 'set it in the environment or in .env (see .env.example)' },
  CONFIG_INVALID_ENV: {
    userFacing: false,
    hint: 'give the variable a value of the kind the message names (see .env.example)',
  },
  CONFIG_UNREADABLE: { userFacing: false, hint: 'check RUNBOOK_PILOT_CONFIG and the file permissions' },
  CONFIG_INVALID_YAML: { userFacing: false, hint: 'fix the YAML syntax at the given line' },
  CONFIG_INVALID: { userFacing: false, hint: 'see the configuration reference in README.md' },
  RUNBOOK_INVALID: { userFacing: false, hint: 'fix the runbook or its binding file' },
  STORE_UNAVAILABLE: { userFacing: false, hint: 'check store.path: its folder must exist and be writable' },
  PORT_UNAVAILABLE: {
    userFacing: false,
    hint: 'choose a free port (another process listens on this one), or unset the variable for its default',
  },
  SLACK_CONNECT_FAILED: {
    userFacing: false,
    hint: "set SLACK_APP_TOKEN to the app's app-level token (xapp-…, Basic Information → App-Level Tokens) with the connections:write scope, and turn Socket Mode on for the app",
  },

  SLACK_AUTH_FAILED: {
    userFacing: false,
    hint: "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into SLACK_BOT_TOKEN",
  },
  SLACK_UNREACHABLE: {
    userFacing: false,
    hint: "check this machine's network path to slack.com (DNS, firewall, HTTPS_PROXY) or SLACK_API_URL",
  },

  HOST_PICK_REFUSED: { userFacing: true, hint: 'pick one of the hosts the incident message offers' },
  LABELS_MISSING: {
    userFacing: true,
    hint: 'use *Complete labels* on the incident message to give them, then click the step again',
  },
  HOST_NOT_CONFIGURED: {
    userFacing: true,
    hint: 'add the host under `hosts:` in the config with a `match` on this label value',
  },
  PARAM_INVALID: {
    userFacing: true,
    hint: 'the value came from the alert or the config; fix the label or the config, nothing was run',
  },
  ACTION_UNKNOWN: { userFacing: true, hint: 'the runbook binding names an action the catalog does not have' },
  STEP_UNKNOWN: { userFacing: true, hint: 'the button is out of date; use the buttons on the incident message' },
  INCIDENT_UNKNOWN: { userFacing: true, hint: 'use `/incident list` to see open incidents' },
  INCIDENT_CLOSED: {
    userFacing: true,
    hint: 'the incident is resolved; diagnosis still runs, mitigation needs a new incident',
  },
  RATE_LIMITED: { userFacing: true, hint: 'wait a minute and click again' },
  QUEUE_FULL: { userFacing: true, hint: 'too many actions are waiting on this host; wait for them to finish' },
  LIMITS_UNAVAILABLE: {
    userFacing: true,
    hint: 'the replicas share their limits through Redis and it did not answer, so nothing runs without them: try again in a moment, and tell the bot’s operators if it persists',
  },
  NOT_ALLOWED: { userFacing: true, hint: 'ask someone listed under access.mitigate to run it' },
  HOST_BUSY: { userFacing: true, hint: 'another mitigation is running on this host; wait for its result' },
  COOLDOWN: {
    userFacing: true,
    hint: 'wait for the cooldown to end, and use the diagnosis steps meanwhile to see why the last restart did not help',
  },
  RESTART_BUDGET: {
    userFacing: true,
    hint: 'too many restarts this hour; the problem is not fixed by restarting, look at the diagnosis',
  },
  ALERT_RESOLVED: {
    userFacing: true,
    hint: 'if it is still needed, click the mitigation again and tick “I know the alert is resolved; run anyway”',
  },
  CONFIRMATION_CHANGED: {
    userFacing: true,
    hint: 'click the button again: the new confirmation shows what would run now',
  },
  CONFIRMATION_REPLAYED: {
    userFacing: true,
    hint: 'a confirmation runs once; to run it again, click the button again and confirm anew',
  },
  PRECHECK_FAILED: { userFacing: true, hint: 'fix what the check reports, then try again' },

  SSH_UNREACHABLE: {
    userFacing: true,
    hint: 'check that the host is up, that sshd listens on the configured port, and the network path from the bot',
  },
  SSH_AUTH_FAILED: {
    userFacing: true,
    hint: "check the user and that the bot's public key is in the user's authorized_keys",
  },
  SSH_HOST_KEY_MISMATCH: {
    userFacing: true,
    hint: 'the host key differs from the pinned one: verify the host, then update ssh.hostKey or known_hosts',
  },
  SSH_HOST_KEY_UNKNOWN: {
    userFacing: true,
    hint: 'pin the host key with ssh.hostKey (SHA256:…) or add it to ssh.knownHostsPath',
  },
  SSH_KEY_NOT_PRIVATE: {
    userFacing: true,
    hint: "nothing was run; the bot's operators must make the key private again (chmod 600, owned by the bot's user)",
  },
  SSH_TIMEOUT: { userFacing: true, hint: 'the host did not answer in time: check its load and the network' },
  SSH_CONNECTION_LOST: {
    userFacing: true,
    hint: 'the connection dropped during the command: check sshd on the host, then run the step again',
  },
  SHUTTING_DOWN: { userFacing: true, hint: 'the bot is restarting; click the step again once it is back' },
  STEP_INTERRUPTED: {
    userFacing: true,
    hint: 'look at the host with a diagnosis step before you run it again: the command may or may not have taken effect',
  },

  GRAPH_TIMEOUT: {
    userFacing: true,
    hint: 'the chart had too much to draw in time: lower prometheus.maxSeries or narrow the runbook binding’s query',
  },
  EXTERNAL_UNAVAILABLE: {
    userFacing: true,
    hint: 'the service did not answer; check its URL in the config and that it is up',
  },
  INTERNAL: { userFacing: false, hint: 'see the logs' },
} as const satisfies Record<string, { userFacing: boolean; hint: string }>;

export type ErrorCode = keyof typeof ErrorCatalog;

/** An error with a code from the catalog, a message that says what went wrong, and a hint that says what to do. */
export class PilotError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly userFacing: boolean;
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PilotError';
    this.code = code;
    this.hint = opts.hint ?? ErrorCatalog[code].hint;
    this.userFacing = ErrorCatalog[code].userFacing;
    this.details = opts.details;
  }
}

/** Turns anything thrown into a PilotError; unknown errors become INTERNAL (not user-facing). */
export function asPilotError(err: unknown): PilotError {
  if (err instanceof PilotError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PilotError('INTERNAL', message, { cause: err });
}

/**
 * The text a Slack user may see for an error: the message and hint when user-facing, otherwise a reference id. With
 * a `logger`, an internal error is logged under that id, so an operator can find the stack trace from what the user
 * was shown; pure callers (Block Kit builders) leave the logging to theirs.
 */
export function userText(
  err: unknown,
  logger?: { error(obj: object, msg: string): void },
): { text: string; logId?: string } {
  const e = asPilotError(err);
  if (e.userFacing) return { text: `${e.message}. ${capitalise(e.hint)}.` };
  const logId = randomBytes(4).toString('hex');
  logger?.error({ logId, err }, 'internal error shown to the user');
  return { text: `Internal error, see logs (id ${logId}).`, logId };
}

function capitalise(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}
