/**
 * One zod issue of the config → one sentence an operator can act on: the key's path, what was found, what is expected,
 * and for an unknown key the known one it most likely meant. Pure: the caller adds the file, line and column.
 *
 * zod 4 leaves `issue.input` empty unless asked (reportInput) and says "expected number, received string" in its own
 * words; so the value found is read from the parsed YAML by the issue's path, and the expectation from the issue's
 * code and the schema at that path (an integer, not "number"; a boolean, not "boolean").
 */
import type { z } from 'zod';

export interface DescribedIssue {
  /** The key's path as the config spells it: `limits.perHost.concurrency`, `hosts[0].ssh.port`. */
  key: string;
  /** What is wrong, with the value found: `expected an integer, got "two"`. */
  message: string;
  /** What to do, when the message does not already say it. */
  fix?: string;
  /** For an unknown key: the known key it most likely meant. */
  meant?: string;
  /** Where to point: the value, or the key itself (an unknown key), or the map that lacks the key (a missing one). */
  at: { path: ReadonlyArray<PropertyKey>; target: 'value' | 'key' | 'parent' };
}

type Schema = z.core.$ZodType;

/** Describes `issue` (an unknown-keys issue gives one per key); `input` is the config as parsed from YAML, `schema` the root schema (for expectations and keys). */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown, schema: Schema): DescribedIssue[] {
  const one = describeOne(issue, input, schema);
  return Array.isArray(one) ? one : [one];
}

function describeOne(issue: z.core.$ZodIssue, input: unknown, schema: Schema): DescribedIssue | DescribedIssue[] {
  const path = issue.path;
  const key = formatPath(path);
  const found = lookup(input, path);
  const at = { path, target: 'value' as const };
  switch (issue.code) {
    case 'unrecognized_keys':
      // One problem per key, each at its own line, each with its own guess.
      return issue.keys.map((name) => {
        const known = objectKeys(schemaAt(schema, path));
        const guess = known.length ? closest(name, known) : undefined;
        return {
          key: formatPath([...path, name]),
          message: 'unknown key',
          fix: guess
            ? `did you mean \`${guess}\`?`
            : known.length
              ? `remove it; the keys here are ${known.join(', ')}`
              : 'remove it, or check its spelling against the configuration reference in README.md',
          ...(guess ? { meant: formatPath([...path, guess]) } : {}),
          at: { path: [...path, name], target: 'key' as const },
        };
      });
    case 'invalid_type': {
      if (found.present === false)
        return {
          key,
          message: 'missing',
          fix: `add it: ${expectation(issue.expected, schemaAt(schema, path))}`,
          at: { path: path.slice(0, -1), target: 'parent' },
        };
      const expected = expectation(issue.expected, schemaAt(schema, path));
      return {
        key,
        message: `expected ${expected}, got ${shown(found.value)}`,
        fix: typeFix(issue.expected, found.value),
        at,
      };
    }
    case 'too_big':
    case 'too_small': {
      const bound = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
      const word = issue.code === 'too_big' ? 'at most' : 'at least';
      const limit = issue.inclusive === false ? (issue.code === 'too_big' ? 'less than' : 'more than') : word;
      const what =
        issue.origin === 'array'
          ? `${limit} ${bound} item${bound === 1 ? '' : 's'}`
          : issue.origin === 'string'
            ? `${limit} ${bound} character${bound === 1 ? '' : 's'}`
            : `${limit} ${bound}`;
      const got =
        issue.origin === 'array' && Array.isArray(found.value) ? `${found.value.length} item(s)` : shown(found.value);
      const own = ownMessage(issue.message);
      return { key, message: own ? `${own} (${what}, got ${got})` : `must be ${what}, got ${got}`, at };
    }
    case 'invalid_format': {
      const own = ownMessage(issue.message);
      const format = issue.format === 'url' ? 'a URL such as http://alertmanager:9093' : `a ${issue.format}`;
      return { key, message: `${own ?? `must be ${format}`}, got ${shown(found.value)}`, at };
    }
    case 'not_multiple_of':
      return { key, message: `must be a multiple of ${String(issue.divisor)}, got ${shown(found.value)}`, at };
    case 'invalid_value':
      return {
        key,
        message: `must be one of ${issue.values.map((v) => shown(v)).join(', ')}, got ${shown(found.value)}`,
        at,
      };
    case 'invalid_union': {
      // Each alternative failed; say what each would have taken, from their first issues.
      const options = issue.errors
        .map((branch) => branch[0])
        .filter((i): i is z.core.$ZodIssue => i !== undefined)
        .map(expectedBy);
      return { key, message: `must be ${[...new Set(options)].join(', or ')}; got ${shown(found.value)}`, at };
    }
    case 'invalid_key':
      return {
        key,
        message: `has a key that is not allowed: it must be ${issue.issues[0] ? expectedBy(issue.issues[0]) : issue.message}`,
        at,
      };
    case 'invalid_element':
      return {
        key,
        message: `has an element that is not allowed: it must be ${issue.issues[0] ? expectedBy(issue.issues[0]) : issue.message}`,
        at,
      };
    default:
      // custom (refinements): their messages are written for operators already.
      return { key: key || '(top level)', message: issue.message, at };
  }
}

/** `limits.perHost.concurrency`, `hosts[0].ssh.port`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** A value as the operator wrote it: strings quoted, lists and maps named rather than dumped. */
export function shown(value: unknown): string {
  if (value === null) return 'nothing (an empty value)';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}…` : value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a map (key: value)';
  return String(value);
}

/** The closest of `known` to a misspelt `name` (case-insensitive; a swap of two letters counts once), if close enough. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { key: k, d };
  }
  // One edit in a short name, up to a third of a longer one: `chanels` → channels, not `url` → uri-like guesses.
  return best && best.d <= Math.max(1, Math.floor(Math.max(name.length, best.key.length) / 3)) ? best.key : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost one each. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** What an inner issue (of a union's branch, a map's key or element) asks for, in the words used above. */
function expectedBy(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_value') return i.values.map((v) => shown(v)).join(' or ');
  if (i.code === 'invalid_type') return expectation(i.expected, undefined);
  return ownMessage(i.message)?.replace(/^must be /, '') ?? i.message;
}

/** zod's own English ("Too small: …", "Invalid input: …") is replaced; a message the schema wrote is kept. */
function ownMessage(message: string): string | undefined {
  return /^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(message) ? undefined : message;
}

function lookup(input: unknown, path: ReadonlyArray<PropertyKey>): { present: boolean; value?: unknown } {
  let cur: unknown = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return { present: false };
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return { present: true, value: cur };
}

function expectation(expected: string, schema: Schema | undefined): string {
  if (expected === 'number' || expected === 'int') return isInteger(schema) ? 'an integer' : 'a number';
  const words: Record<string, string> = {
    boolean: 'true or false',
    string: 'a text',
    array: 'a list ([a, b] or lines starting with "- ")',
    object: 'a map of keys (key: value)',
    record: 'a map of keys (key: value)',
  };
  return words[expected] ?? `a ${expected}`;
}

function typeFix(expected: string, value: unknown): string | undefined {
  if (
    (expected === 'number' || expected === 'int') &&
    typeof value === 'string' &&
    value.trim() !== '' &&
    !Number.isNaN(Number(value))
  )
    return 'write the number without quotes';
  if (expected === 'int' && typeof value === 'number') return `write a whole number such as ${Math.round(value)}`;
  if (expected === 'boolean' && typeof value === 'string')
    return 'write true or false, without quotes (yes/no are text in YAML 1.2)';
  if (expected === 'object' && typeof value === 'string' && /^[A-Za-z]\w*:\S/.test(value))
    return 'put a space after the colon (`key: value`)';
  return undefined;
}

type Def = {
  type: string;
  innerType?: Schema;
  in?: Schema;
  element?: Schema;
  valueType?: Schema;
  shape?: Record<string, Schema>;
  checks?: Array<{ _zod: { def: { check?: string; format?: string } } }>;
};
const def = (s: Schema): Def => s._zod.def as unknown as Def;

/** The schema at a path, through defaults, optionals, pipes, lists and records; undefined where it cannot tell. */
function schemaAt(root: Schema, path: ReadonlyArray<PropertyKey>): Schema | undefined {
  let cur: Schema | undefined = unwrap(root);
  for (const p of path) {
    if (!cur) return undefined;
    const d = def(cur);
    if (d.type === 'object' && typeof p === 'string') cur = d.shape?.[p];
    else if (d.type === 'array') cur = d.element;
    else if (d.type === 'record') cur = d.valueType;
    else return undefined;
    cur = cur && unwrap(cur);
  }
  return cur;
}

function unwrap(s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const d = def(cur);
    const next =
      d.type === 'pipe'
        ? d.in
        : ['default', 'optional', 'nullable', 'prefault', 'readonly'].includes(d.type)
          ? d.innerType
          : undefined;
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

function objectKeys(s: Schema | undefined): string[] {
  return s && def(s).type === 'object' ? Object.keys(def(s).shape ?? {}) : [];
}

function isInteger(s: Schema | undefined): boolean {
  return (s && def(s).checks?.some((c) => c._zod.def.format === 'safeint' || c._zod.def.format === 'int32')) ?? false;
}
