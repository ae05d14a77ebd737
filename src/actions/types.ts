/** The action catalog's shapes. Actions are data: a command template and typed, validated parameters. */

/**
 * Where a parameter's value comes from:
 * - `label:<name>`: the alert's label; `label:<a>|<b>`: the first of them the alert has (v1 `backend`, v2 `proxy`);
 * - `host:<path>`: the host's config, e.g. `host:haproxy.socket`;
 * - `server:<field>`: the alert's server as HAProxy knows it (`addr`, `port`), looked up at run time;
 * - `const:<value>`: a fixed value;
 * - `input`: chosen by the user from bounded options (e.g. the number of log lines).
 */
export type ParamSource = string;

import type { VerdictSpec } from './verdicts';

/** Validation types. Every value is checked against its type before it reaches a command. */
export type ParamType =
  | 'name' // HAProxy proxy/server names, service names: [A-Za-z0-9._:-]{1,64}
  | 'host' // host names and IP addresses
  | 'port' // 1..65535
  | 'path' // absolute path, no `..`, safe characters only
  | 'int' // integer within [min, max]
  | 'enum'; // one of `values`

export interface ParamSpec {
  from: ParamSource;
  type: ParamType;
  optional?: boolean;
  default?: string | number;
  min?: number;
  max?: number;
  values?: string[];
}

export type Risk = 'read' | 'change';

export interface ActionSpec {
  id: string;
  title: string;
  description: string;
  risk: Risk;
  params: Record<string, ParamSpec>;
  /**
   * A shell command template. `{name}` is replaced by the validated, single-quoted value of parameter `name`;
   * `{name?...}` keeps the text `...` only when the optional parameter has a value. Nothing else is substituted.
   */
  command: string;
  timeoutMs: number;
  /** Bytes of stdout and of stderr kept (head and tail). */
  outputCap: number;
  /**
   * How a mitigation is verified: `haproxy` (default) reads HAProxy back over its runtime API; `command`: the command
   * checks its own result and exits non-zero when it did not work (restart-unit: the unit is active).
   */
  verify?: 'haproxy' | 'command';
  /** How the result is shown: plain text, or a parser that turns output into a table. */
  render?: 'text' | 'backend-state';
  /** A read action the bot runs by itself when an incident opens (the binding may choose others or none). */
  triage?: boolean;
  /** Rules that turn its output into a verdict (ok, warn, problem and one line): see verdicts.ts. */
  verdicts?: VerdictSpec;
}

/** A command ready to run: the final shell string and the validated parameter values that went into it. */
export interface BuiltCommand {
  actionId: string;
  command: string;
  params: Record<string, string>;
}
