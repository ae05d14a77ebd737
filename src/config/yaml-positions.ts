/**
 * Where in the YAML text a config key is, for messages that say `config.yml:12:18`: from the document's node ranges,
 * and for a syntax error the place the mistake was made rather than where the parser gave up (an unclosed quote or
 * bracket is reported by the parser at the line after, often at the end of the file).
 */
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';

export interface LineCol {
  line: number;
  col: number;
}

/**
 * The position of a path in a parsed document: of the value (`target: 'value'`), of the key itself (an unknown key),
 * or of the map a missing key belongs in (`'parent'`: its first line). Undefined when the path leads nowhere.
 */
export function positionOf(
  doc: Document,
  lines: LineCounter,
  path: ReadonlyArray<PropertyKey>,
  target: 'value' | 'key' | 'parent',
): LineCol | undefined {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  // The nearest node found on the way: a value whose path ends early still points at its closest ancestor.
  let nearest: unknown = node;
  for (const p of path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = (node.items as Pair[]).find((it) => (isScalar(it.key) ? it.key.value : it.key) === p);
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof p === 'number') {
      node = node.items[p];
    } else break;
    if (node === undefined || node === null) break;
    nearest = node;
  }
  const pick = target === 'key' && keyNode ? keyNode : target === 'parent' ? nearest : (node ?? keyNode ?? nearest);
  const range = (pick as Node | undefined)?.range;
  if (!range) return undefined;
  return lines.linePos(range[0]);
}

/**
 * The start of the construct a syntax error leaves open: an unclosed quote or an unclosed `[`/`{` before `offset`.
 * Undefined when nothing is left open there (the parser's own position is then the right one).
 */
export function openedBefore(text: string, offset: number, kind: 'quote' | 'bracket'): number | undefined {
  let quote: { ch: string; at: number } | undefined;
  const brackets: number[] = [];
  let lastNonSpace = '\n';
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    const c = text[i];
    if (quote) {
      if (quote.ch === '"' && c === '\\') i++;
      else if (c === quote.ch) {
        if (quote.ch === "'" && text[i + 1] === "'") i++;
        else quote = undefined;
      }
      if (!quote) lastNonSpace = c;
      continue;
    }
    if (c === '#' && /[\s]/.test(text[i - 1] ?? '\n')) {
      while (i < text.length && text[i] !== '\n') i++;
      lastNonSpace = '\n';
      continue;
    }
    // A quote opens a scalar only where a scalar may start: `it's` in a plain value is an apostrophe.
    if ((c === '"' || c === "'") && /[\n:\-[{,?]/.test(lastNonSpace)) quote = { ch: c, at: i };
    else if (c === '[' || c === '{') brackets.push(i);
    else if ((c === ']' || c === '}') && brackets.length) brackets.pop();
    if (c === '\n') lastNonSpace = '\n';
    else if (c !== ' ' && c !== '\t') lastNonSpace = c;
  }
  return kind === 'quote' ? quote?.at : brackets[0];
}
