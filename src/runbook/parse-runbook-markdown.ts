/**
 * Parses a runbook in the srerun/prometheus-alerts format: YAML front matter (`title` is the alert name), `# Title`,
 * a `<details>` block holding the alert rule as YAML, then `## Meaning`, `## Impact`, `## Diagnosis`, `## Mitigation`.
 * The collection is machine-written and uneven, so the parser is lenient: missing sections give empty lists; only a
 * file with no alert name at all, or broken front matter, is refused.
 */
import { parse as parseYaml } from 'yaml';
import { PilotError } from '../errors';
import type { RunbookDoc, RunbookItem } from './types';

/** Parses `markdown` (read from `file`, named in errors); pure. Throws PilotError RUNBOOK_INVALID when unusable. */
export function parseRunbookMarkdown(markdown: string, file: string): RunbookDoc {
  if (typeof markdown !== 'string' || markdown.includes('\u0000')) {
    throw new PilotError('RUNBOOK_INVALID', `${file}: not a text file`);
  }
  const text = markdown.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { front, body } = splitFrontMatter(text, file);
  const rule = extractRule(body);
  const clean = stripNoise(body);
  const sections = splitSections(clean);

  const heading = firstHeading(clean);
  const alertname = (typeof front.title === 'string' && front.title.trim()) || heading || rule.alert;
  if (!alertname)
    throw new PilotError(
      'RUNBOOK_INVALID',
      `${file}: no alert name (front matter \`title\`, a \`# \` heading or the rule's \`alert\`)`,
    );

  return {
    alertname,
    description: typeof front.description === 'string' ? front.description : undefined,
    meaning: plainParagraphs(sections.meaning ?? ''),
    impact: plainParagraphs(sections.impact ?? ''),
    diagnosis: parseItems(sections.diagnosis ?? ''),
    mitigation: parseItems(sections.mitigation ?? ''),
    url: rule.runbook,
    expr: rule.expr,
  };
}

/**
 * The text of an ATX heading of `min`–`max` hashes (`## Diagnosis ##` → `Diagnosis`), or undefined when the line is
 * not one. Written as a scan rather than a regex: `/^#[ \t]+(.+?)[ \t#]*$/` backtracks quadratically on a line of
 * many ` #` not ending in one (`# a` + ` #`×40,000 + `x` took 7.9 s, issue #19 §5); this is linear in the line.
 */
export function atxHeading(line: string, min: number, max: number): string | undefined {
  let level = 0;
  while (level < line.length && line[level] === '#') level++;
  if (level < min || level > max) return undefined;
  const gap = line[level];
  if (gap !== ' ' && gap !== '\t') return undefined;
  let end = line.length;
  while (end > level && ' \t#'.includes(line[end - 1])) end--;
  const text = line.slice(level, end).trim();
  if (text) return text;
  // Only blanks and hashes follow: the regex still matched when one character followed the gap (`# #` is "#",
  // `##  ` is an empty heading), and kept that character.
  const rest = line.slice(level);
  return rest.length >= 2 ? rest.trim().slice(0, 1) : undefined;
}

/** The first `# ` heading's text, line by line. */
function firstHeading(text: string): string | undefined {
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const h = atxHeading(text.slice(start, end), 1, 1);
    if (h !== undefined) return h;
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  return undefined;
}

function splitFrontMatter(text: string, file: string): { front: Record<string, unknown>; body: string } {
  if (!text.startsWith('---\n')) return { front: {}, body: text };
  const end = text.indexOf('\n---', 3);
  if (end < 0) throw new PilotError('RUNBOOK_INVALID', `${file}: front matter opened with --- is never closed`);
  let front: unknown;
  try {
    front = parseYaml(text.slice(4, end + 1));
  } catch (err) {
    throw new PilotError(
      'RUNBOOK_INVALID',
      `${file}: front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const rest = text.slice(end + 4);
  return {
    front: front && typeof front === 'object' ? (front as Record<string, unknown>) : {},
    body: rest.replace(/^[^\n]*\n/, ''),
  };
}

/** The alert rule: the first fenced YAML block naming an `alert:` (inside `<details>`, a comment shortcode or not). */
function extractRule(body: string): { alert?: string; expr?: string; runbook?: string } {
  const fence = /^[ \t]*```ya?ml[ \t]*\n([\s\S]*?)^[ \t]*```/gm;
  for (let m = fence.exec(body); m; m = fence.exec(body)) {
    const src = m[1];
    if (!/^\s*alert:/m.test(src)) continue;
    try {
      const rule = parseYaml(src) as Record<string, unknown> | null;
      const ann = (rule?.annotations ?? {}) as Record<string, unknown>;
      return {
        alert: str(rule?.alert),
        expr: str(rule?.expr),
        runbook: str(ann.runbook) ?? str(ann.runbook_url),
      };
    } catch {
      // A rule that is not valid YAML still tells us its expr and link line by line.
      return {
        alert: /^\s*alert:\s*(.+)$/m.exec(src)?.[1]?.trim(),
        expr: /^\s*expr:\s*(.+)$/m.exec(src)?.[1]?.trim(),
        runbook: /^\s*runbook(?:_url)?:\s*(\S+)/m.exec(src)?.[1],
      };
    }
  }
  return {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
}

/** Drops what is not runbook text: the rule block, HTML comments, Hugo shortcodes, `[//]: #` comments. */
function stripNoise(body: string): string {
  return removeBetween(
    removeBetween(removeBetween(body, '<details>', '</details>', true), '<!--', '-->'),
    '{{%',
    '%}}',
  ).replace(/^\[\/\/\]: #.*$/gm, '');
}

/**
 * `text` without every `open`…`close` span, scanning once: a lazy `open[\s\S]*?close` regex rescans to the end from
 * every unclosed `open` (quadratic, issue #19 §5); here an unclosed one ends the scan and the rest is kept as it is.
 */
function removeBetween(text: string, open: string, close: string, ignoreCase = false): string {
  const hay = ignoreCase ? text.toLowerCase() : text;
  let out = '';
  let from = 0;
  for (;;) {
    const start = hay.indexOf(open, from);
    if (start < 0) break;
    const end = hay.indexOf(close, start + open.length);
    if (end < 0) break;
    out += text.slice(from, start);
    from = end + close.length;
  }
  return out + text.slice(from);
}

type SectionName = 'meaning' | 'impact' | 'diagnosis' | 'mitigation';

/** Splits on `## ` headings; a heading counts when it starts with a section's name (`## Diagnosis steps`). */
function splitSections(body: string): Partial<Record<SectionName, string>> {
  const out: Partial<Record<SectionName, string>> = {};
  let current: SectionName | undefined;
  let inFence = false;
  for (const line of body.split('\n')) {
    if (/^[ \t]*```/.test(line)) inFence = !inFence;
    const h = inFence ? undefined : atxHeading(line, 2, 2);
    if (h !== undefined) {
      const name = h
        .toLowerCase()
        .replace(/[*_`:]/g, '')
        .trim();
      current = (['meaning', 'impact', 'diagnosis', 'mitigation'] as const).find((s) => name.startsWith(s));
      if (current && out[current] !== undefined) out[current] += '\n'; // a repeated heading continues the section
      continue;
    }
    if (current) out[current] = `${out[current] ?? ''}${line}\n`;
  }
  return out;
}

interface Block {
  /** The `### ` heading this block sits under; undefined for text before any sub-heading. */
  heading?: string;
  lines: string[];
}

interface RawItem {
  lead?: string;
  parts: string[];
}

const NUMBERED = /^( {0,3})(\d{1,3})[.)][ \t]+(.*)$/;
const BULLET = /^( *)[-*+][ \t]+(.*)$/;

/**
 * The steps of a section. Each `### ` block is read on its own: its numbered items if it has any, else its top-level
 * bullets, else (under a sub-heading) the whole block as one step titled by the heading. Items are numbered by their
 * position in the section, so a list that restarts at 1 after a paragraph still gets unique numbers.
 */
function parseItems(section: string): RunbookItem[] {
  const items: RawItem[] = [];
  for (const block of splitBlocks(section)) {
    const numbered = listItems(block.lines, 'numbered');
    if (numbered.length) {
      items.push(...numbered);
      continue;
    }
    const bullets = listItems(block.lines, 'bullet');
    if (bullets.length && !block.heading) {
      items.push(...bullets);
      continue;
    }
    if (block.heading) {
      const body = [...bullets.map((b) => joinParts(b)), ...proseOf(block.lines)].filter(Boolean);
      items.push({ lead: block.heading, parts: [block.heading + (body.length ? ':' : ''), ...body] });
    }
  }
  return items
    .map((it) => ({ text: joinParts(it), lead: it.lead }))
    .filter((it) => it.text.length > 0)
    .map((it, i) => (it.lead ? { number: i + 1, text: it.text, lead: it.lead } : { number: i + 1, text: it.text }));
}

function splitBlocks(section: string): Block[] {
  const blocks: Block[] = [{ lines: [] }];
  let inFence = false;
  for (const line of section.split('\n')) {
    if (/^[ \t]*```/.test(line)) inFence = !inFence;
    const h = inFence ? undefined : atxHeading(line, 3, 6);
    if (h !== undefined)
      blocks.push({
        heading:
          plain(h)
            .replace(/^(step\s+)?\d+[.:)]\s*/i, '')
            .trim() || plain(h),
        lines: [],
      });
    else blocks[blocks.length - 1].lines.push(line);
  }
  return blocks;
}

/**
 * Collects list items of one kind. An item runs on over continuation lines, nested lists and fenced code (even
 * after a blank line); a non-indented paragraph after a blank line ends it.
 */
function listItems(lines: string[], kind: 'numbered' | 'bullet'): RawItem[] {
  const items: RawItem[] = [];
  let cur: RawItem | undefined;
  let blank = false;
  let fence: string[] | undefined;
  for (const line of lines) {
    if (fence) {
      if (/^[ \t]*```/.test(line)) {
        if (cur && fence.length) cur.parts.push(fence.join(' ; '));
        fence = undefined;
      } else if (line.trim()) fence.push(line.trim());
      continue;
    }
    if (/^[ \t]*```/.test(line)) {
      fence = [];
      continue;
    }
    if (!line.trim()) {
      blank = true;
      continue;
    }
    const n = kind === 'numbered' ? NUMBERED.exec(line) : null;
    const b = BULLET.exec(line);
    const top = kind === 'numbered' ? n : b && b[1].length <= 1 ? b : null;
    if (top) {
      const content = kind === 'numbered' ? top[3] : top[2];
      const lead = /^\*\*(.+?)\*\*\s*[:.\-–—]?/.exec(content)?.[1] ?? /^__(.+?)__\s*[:.\-–—]?/.exec(content)?.[1];
      cur = { lead: lead ? plain(lead).replace(/[:.]$/, '') : undefined, parts: [content] };
      items.push(cur);
    } else if (cur && (!blank || /^[ \t]+\S/.test(line) || b || NUMBERED.exec(line))) {
      // Nested bullets, nested numbers and indented or adjacent lines belong to the open item.
      cur.parts.push((b ? b[2] : n ? n[3] : line).trim());
    } else {
      cur = undefined; // a paragraph after a blank line closes the list
    }
    blank = false;
  }
  return items;
}

/** Non-list, non-code text of a block, for sub-headed steps written as paragraphs. */
function proseOf(lines: string[]): string[] {
  const out: string[] = [];
  let inFence = false;
  for (const line of lines) {
    if (/^[ \t]*```/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence || !line.trim() || BULLET.test(line) || NUMBERED.test(line)) continue;
    out.push(line.trim());
  }
  return out;
}

function joinParts(item: RawItem): string {
  return item.parts
    .map((p) => plain(p))
    .filter(Boolean)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function plainParagraphs(section: string): string {
  return section
    .split(/\n{2,}/)
    .map((para) =>
      para
        .split('\n')
        .map((l) => plain(l.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '• ')))
        .filter(Boolean)
        .join(para.split('\n').some((l) => /^\s*(?:[-*+]|\d+[.)])\s+/.test(l)) ? '\n' : ' '),
    )
    .filter(Boolean)
    .join('\n\n')
    .trim();
}

/** Markdown inline syntax to plain text: links keep their text, emphasis and code marks go, HTML tags go. */
export function plain(s: string): string {
  return (
    s
      // Bounded repetitions: an unbounded `[^)]*` rescans to the end of the line from every unclosed `](` (quadratic).
      .replace(/!\[([^\]]{0,500})\]\([^)]{0,1000}\)/g, '$1')
      .replace(/\[([^\]]{1,500})\]\([^)]{0,1000}\)/g, '$1')
      .replace(/<\/?(?:a|b|i|em|strong|code|kbd|span|p|br|sup|sub|details|summary)\b[^>]{0,500}>/gi, '') // `<service_name>` stays
      .replace(/(\*\*|__)(.+?)\1/g, '$2')
      .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s.,;:)!?]|$)/g, '$1$2')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/\s+/g, ' ')
      .trim()
  );
}
