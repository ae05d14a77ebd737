/**
 * POSIX shell quoting. Single quotes keep every byte literal except the single quote itself, which cannot appear
 * inside them at all, so it is closed, escaped and reopened: `it's` becomes `'it'\''s'`.
 */

/** Returns `s` as one single-quoted shell word; any string, including empty, newlines and `$(…)`, stays literal. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
