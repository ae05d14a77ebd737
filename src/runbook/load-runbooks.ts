/**
 * Loads the runbook folder at start-up, recursively (the srerun collection keeps one sub-folder per exporter): every
 * `*.md`, and every binding `*.yml` — beside its runbook, or naming it with `runbook: <path>`. The only I/O of the
 * runbook module; parsing and resolving are pure.
 *
 * A real collection is uneven (empty files, templates never filled in, one alert name in two exporters' folders), so
 * one unusable file never stops the bot: it is skipped and reported as a problem naming the file and the fix. Only a
 * folder that cannot be read at all stops start-up.
 *
 * The folder may be writable by more people than the config (issue #19 §5): a file whose real path (after symbolic
 * links) leaves the folder is not read at all, a file over MAX_RUNBOOK_BYTES is not read past that, and no problem
 * quotes a file's content beyond a short, escaped excerpt of a key (see `excerpt`), since problems reach the start-up
 * log and `runbook-pilot check`.
 */
import { closeSync, type Dirent, fstatSync, openSync, readdirSync, readSync, realpathSync } from 'node:fs';
import { join, normalize, posix, sep } from 'node:path';
import type { ActionSpec } from '../actions/types';
import { PilotError } from '../errors';
import { parseRunbookBinding } from './binding-schema';
import { guardedBindingAction, type TrustedReadActions } from './non-catalog-commands';
import { parseRunbookMarkdown } from './parse-runbook-markdown';
import { resolveSteps } from './resolve-steps';
import type { Runbook, RunbookBinding, RunbookDoc } from './types';

export interface RunbookRegistry {
  /** The runbook of an alert, by its exact alert name. */
  get(alertname: string): Runbook | undefined;
  list(): Runbook[];
  /**
   * An action a runbook may run: the binding's own actions first (as the bot treats them: host-changing unless the
   * config trusts them as read, see guardedBindingAction), then the catalog (alone without a runbook).
   */
  action(runbook: Runbook | undefined, actionId: string): ActionSpec | undefined;
}

/**
 * A file that was skipped or a choice the loader made for the operator. `error`: something meant to work does not
 * (broken front matter, a binding that does not validate); `warning`: nothing is broken but something is left out
 * (an empty file, a second runbook for one alert). The bot starts either way; `runbook-pilot check` fails on errors.
 */
export interface RunbookProblem {
  level: 'error' | 'warning';
  /** The file, as `<folder given>/<path inside it>`. */
  file: string;
  problem: string;
  fix: string;
}

export interface LoadedRunbooks {
  registry: RunbookRegistry;
  problems: RunbookProblem[];
  /** Runbook markdown files found (loaded or not). */
  files: number;
}

export interface LoadRunbooksOptions {
  /** How the folder is named in problems (e.g. `./runbooks` as the config says); default `dir`. */
  displayDir?: string;
  /** `mitigation.readActions`: the binding actions the config trusts as read-only (none by default). */
  readActions?: TrustedReadActions;
}

/** One problem as one line: `<file>: <problem>; <fix>`. */
export function formatRunbookProblem(p: RunbookProblem): string {
  return `${p.file}: ${p.problem}; ${p.fix}`;
}

/**
 * Reads `dir` (sync, at start-up) and returns the registry; every skipped file is passed to `onProblem`. Throws
 * PilotError RUNBOOK_INVALID only when the folder itself cannot be read.
 */
export function loadRunbooks(
  dir: string,
  catalog: readonly ActionSpec[],
  onProblem?: (p: RunbookProblem) => void,
  opts: LoadRunbooksOptions = {},
): RunbookRegistry {
  const loaded = loadRunbookCollection(dir, catalog, opts);
  for (const p of loaded.problems) onProblem?.(p);
  return loaded.registry;
}

/**
 * The largest runbook or binding file read. The srerun collection's largest runbook is 3.5 KB and a binding a few
 * hundred bytes; a 16.9 MB binding took 2.1 GB to parse in `check`.
 */
export const MAX_RUNBOOK_BYTES = 64 * 1024;

/** A file's text, or why it was not read. */
type Read = { text: string } | { problem: string; fix: string };

interface DocEntry {
  rel: string;
  doc: RunbookDoc;
}

interface BindingEntry {
  rel: string;
  binding: RunbookBinding;
  /** The runbook it binds (path inside the folder). */
  target: string;
  /** Named with `runbook:` rather than found beside it: an explicit choice among runbooks of one alert. */
  explicit: boolean;
}

/** Loads the folder and reports every skipped file and every choice made between runbooks of one alert. */
export function loadRunbookCollection(
  dir: string,
  catalog: readonly ActionSpec[],
  opts: LoadRunbooksOptions = {},
): LoadedRunbooks {
  const shown = opts.displayDir ?? dir;
  const problems: RunbookProblem[] = [];
  const report = (level: RunbookProblem['level'], rel: string, problem: string, fix: string): void => {
    problems.push({ level, file: shownPath(shown, rel), problem, fix });
  };

  const { docs: docFiles, bindings: bindingFiles } = listFiles(dir);
  const root = realFolder(dir);

  const docs = new Map<string, DocEntry>();
  for (const rel of docFiles) {
    const read = readInside(root, join(dir, rel));
    if (!('text' in read)) {
      report('error', rel, read.problem, read.fix);
      continue;
    }
    const { text } = read;
    if (!text.replace(/^\uFEFF/, '').trim()) {
      report(
        'warning',
        rel,
        'empty file, skipped',
        'write the runbook (front matter `title: <AlertName>`, then ## Diagnosis and ## Mitigation) or delete the file',
      );
      continue;
    }
    try {
      docs.set(rel, { rel, doc: parseRunbookMarkdown(text, rel) });
    } catch (err) {
      report('error', rel, `${reason(err, rel)}, skipped`, docFix(err));
    }
  }

  // Each binding is matched to its runbook; a second binding of the same runbook is a mistake worth naming.
  const bindingOf = new Map<string, BindingEntry>();
  for (const rel of bindingFiles) {
    const read = readInside(root, join(dir, rel));
    if (!('text' in read)) {
      report('error', rel, read.problem, read.fix);
      continue;
    }
    const { text } = read;
    let binding: RunbookBinding;
    try {
      binding = parseRunbookBinding(text, rel);
    } catch (err) {
      report(
        'error',
        rel,
        `invalid binding (${reason(err, rel)}), skipped`,
        `fix it; until then ${shownPath(shown, besideDoc(rel))} is served as a checklist`,
      );
      continue;
    }
    const explicit = binding.runbook !== undefined;
    const target = explicit ? insideFolder(posix.join(posix.dirname(rel), binding.runbook as string)) : besideDoc(rel);
    if (target === undefined) {
      report(
        'error',
        rel,
        `runbook: ${excerpt(binding.runbook as string)} points outside the runbook folder, skipped`,
        'give a path relative to this binding file, inside the folder',
      );
      continue;
    }
    const entry = docs.get(target);
    if (!entry) {
      const why = docFiles.includes(target)
        ? `its runbook ${target} was skipped (see above)`
        : explicit
          ? `runbook: ${excerpt(binding.runbook as string)} does not exist`
          : `no runbook ${posix.basename(target)} beside it`;
      report(
        'error',
        rel,
        `binding without a runbook: ${why}, skipped`,
        explicit
          ? 'fix the runbook: path (relative to this binding file)'
          : `put ${posix.basename(target)} beside it, or name the runbook with runbook: <path>`,
      );
      continue;
    }
    if (binding.alert !== entry.doc.alertname) {
      report(
        'error',
        rel,
        `alert is ${excerpt(binding.alert)} but ${target} is the runbook of ${excerpt(entry.doc.alertname)}, skipped`,
        `set alert: ${entry.doc.alertname}, or bind the right runbook`,
      );
      continue;
    }
    const clash = binding.actions?.find((a) => catalog.some((c) => c.id === a.id));
    if (clash) {
      // Replacing a built-in from one runbook would change it silently for that alert only: use a new id instead.
      report(
        'error',
        rel,
        `actions: "${clash.id}" is already a built-in action, skipped`,
        'give the action another id',
      );
      continue;
    }
    const other = bindingOf.get(target);
    if (other && (other.explicit || !explicit)) {
      report(
        'warning',
        rel,
        `${target} already has the binding ${shownPath(shown, other.rel)}; this one is ignored`,
        'keep one binding per runbook',
      );
      continue;
    }
    if (other)
      report(
        'warning',
        other.rel,
        `${target} is bound by ${shownPath(shown, rel)} (runbook:); this one is ignored`,
        'keep one binding per runbook',
      );
    bindingOf.set(target, { rel, binding, target, explicit });
  }

  // One runbook per alert name: the one a binding names with `runbook:`, else the first by path.
  const byAlert = new Map<string, DocEntry[]>();
  for (const entry of docs.values()) {
    const list = byAlert.get(entry.doc.alertname) ?? [];
    list.push(entry);
    byAlert.set(entry.doc.alertname, list);
  }
  const runbooks: Runbook[] = [];
  for (const [alertname, entries] of byAlert) {
    const chosen = entries.filter((e) => bindingOf.get(e.rel)?.explicit);
    const pool = chosen.length ? chosen : entries;
    const winner = pool[0]; // entries are in path order
    if (entries.length > 1 && chosen.length !== 1) {
      const others = entries.filter((e) => e !== winner).map((e) => shownPath(shown, e.rel));
      report(
        'warning',
        winner.rel,
        `alert ${alertname} also has a runbook in ${others.join(', ')}; using ${shownPath(shown, winner.rel)} (first by path)`,
        `to choose, name the runbook in the alert's binding with runbook: <path>, or delete the other file`,
      );
    }
    const bound = bindingOf.get(winner.rel);
    let steps: ReturnType<typeof resolveSteps>;
    let binding = bound?.binding;
    try {
      steps = resolveSteps(winner.doc, binding, catalog, bound?.rel ?? winner.rel);
    } catch (err) {
      report(
        'error',
        bound?.rel ?? winner.rel,
        `${reason(err, bound?.rel ?? winner.rel)}; binding skipped`,
        `fix the binding; until then ${shownPath(shown, winner.rel)} is served as a checklist`,
      );
      binding = undefined;
      steps = resolveSteps(winner.doc, undefined, catalog, winner.rel);
    }
    runbooks.push({
      doc: winner.doc,
      binding,
      steps,
      file: join(dir, winner.rel),
      ...(binding && bound ? { bindingFile: join(dir, bound.rel) } : {}),
    });
  }
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return {
    registry: createRunbookRegistry(runbooks, catalog, { readActions: opts.readActions }),
    problems,
    files: docFiles.length,
  };
}

/**
 * A registry over runbooks already loaded (tests and tools build one without a folder). A binding's own action
 * declared read is host-changing unless `readActions` trusts it (a binding cannot lower a guard).
 */
export function createRunbookRegistry(
  runbooks: readonly Runbook[],
  catalog: readonly ActionSpec[],
  opts: { readActions?: TrustedReadActions } = {},
): RunbookRegistry {
  const trusted = opts.readActions ?? {};
  // Each binding action judged once: the same object on every lookup.
  const guarded = new Map<Runbook, Map<string, ActionSpec>>(
    runbooks.map((rb) => [
      rb,
      new Map((rb.binding?.actions ?? []).map((a) => [a.id, guardedBindingAction(a, trusted)] as const)),
    ]),
  );
  const byName = new Map<string, Runbook>();
  for (const rb of runbooks) {
    const other = byName.get(rb.doc.alertname);
    if (other)
      throw new PilotError(
        'RUNBOOK_INVALID',
        `${rb.file}: alert ${rb.doc.alertname} already has a runbook in ${other.file}`,
      );
    byName.set(rb.doc.alertname, rb);
  }
  const builtin = new Map(catalog.map((a) => [a.id, a]));
  return {
    get: (alertname) => byName.get(alertname),
    list: () => [...byName.values()],
    action: (runbook, actionId) =>
      (runbook &&
        (guarded.get(runbook)?.get(actionId) ??
          // a runbook this registry was not built with: judged now, the same way
          maybeGuarded(
            runbook.binding?.actions?.find((a) => a.id === actionId),
            trusted,
          ))) ??
      builtin.get(actionId),
  };
}

function maybeGuarded(action: ActionSpec | undefined, trusted: TrustedReadActions): ActionSpec | undefined {
  return action && guardedBindingAction(action, trusted);
}

const isDoc = (n: string): boolean => n.endsWith('.md') && n.toLowerCase() !== 'readme.md';
const isBinding = (n: string): boolean => /\.ya?ml$/.test(n);

/**
 * The folder's runbooks and bindings, as `/`-separated paths inside it, in path order (plain code-unit order, so
 * "first by path" is the same on every machine). Hidden and `_`-prefixed entries (Hugo's `_index.md`) are left out;
 * symbolic links to folders are not followed, so a loop cannot hang start-up.
 */
function listFiles(dir: string): { docs: string[]; bindings: string[] } {
  const docs: string[] = [];
  const bindings: string[] = [];
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch (err) {
      if (rel === '')
        throw new PilotError('RUNBOOK_INVALID', `cannot read the runbook folder ${dir}: ${(err as Error).message}`, {
          cause: err,
        });
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (e.isFile() || e.isSymbolicLink()) {
        if (isDoc(e.name)) docs.push(path);
        else if (isBinding(e.name)) bindings.push(path);
      }
    }
  };
  walk('');
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { docs: docs.sort(byPath), bindings: bindings.sort(byPath) };
}

/** The folder's real path (symbolic links resolved), which every file's real path must stay inside. */
function realFolder(dir: string): string {
  try {
    return realpathSync(dir);
  } catch (err) {
    throw new PilotError('RUNBOOK_INVALID', `cannot read the runbook folder ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Reads a file of the folder: only when its real path is inside `root` (a symbolic link may point anywhere, such as
 * /etc/shadow), and only up to MAX_RUNBOOK_BYTES (the size is checked on the open file, and no more is read).
 */
function readInside(root: string, file: string): Read {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return { problem: 'cannot be read (a broken link?)', fix: 'check the file, or remove it' };
  }
  if (!real.startsWith(root + sep))
    return {
      problem: 'is a link to a file outside the runbook folder, not read',
      fix: 'copy the file into the folder, or link only to files inside it',
    };
  let fd: number | undefined;
  try {
    fd = openSync(real, 'r');
    const size = fstatSync(fd).size;
    if (size > MAX_RUNBOOK_BYTES)
      return {
        problem: `is ${size} bytes, larger than the ${MAX_RUNBOOK_BYTES} a runbook or binding may be, not read`,
        fix: 'shorten it (a runbook is a few KB of steps)',
      };
    const buf = Buffer.alloc(size);
    const n = size === 0 ? 0 : readSync(fd, buf, 0, size, 0);
    return { text: buf.subarray(0, n).toString('utf8') };
  } catch {
    return { problem: 'cannot be read', fix: 'check the file permissions' };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A value from a file, as a problem may show it: JSON-quoted (control characters and quotes escaped) and cut to 40
 * characters, so a problem line never carries the content of whatever file the folder holds.
 */
export function excerpt(value: string): string {
  const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(cut);
}

function besideDoc(rel: string): string {
  return rel.replace(/\.ya?ml$/, '.md');
}

/** A `/`-separated path inside the folder, or undefined when it leaves it. */
function insideFolder(rel: string): string | undefined {
  const n = posix.normalize(rel);
  return n.startsWith('../') || n === '..' || n.startsWith('/') ? undefined : n;
}

function shownPath(shown: string, rel: string): string {
  const joined = normalize(join(shown, ...rel.split('/')));
  return sep === '/' ? joined : joined.split(sep).join('/');
}

/**
 * The parser's message without the file name it starts with (the problem line names the file once), on one line of
 * at most 300 characters: the parsers quote only excerpts of keys, and this bounds what any other message could carry.
 */
function reason(err: unknown, rel: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const own = msg.startsWith(`${rel}: `) ? msg.slice(rel.length + 2) : msg;
  const line = own.replace(/[:\s]+$/, '').replace(/\p{Cc}+/gu, ' ');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function docFix(err: unknown): string {
  const msg = err instanceof Error ? err.message : '';
  if (msg.includes('no alert name')) return 'add front matter `title: <AlertName>` (or a `# <AlertName>` heading)';
  if (msg.includes('never closed')) return 'close the front matter with a line of three dashes (---)';
  if (msg.includes('front matter')) return 'fix the YAML between the --- lines (quote values holding : [ ] { } # or %)';
  if (msg.includes('not a text file')) return 'remove the binary file from the runbook folder';
  return 'fix the file or delete it';
}
