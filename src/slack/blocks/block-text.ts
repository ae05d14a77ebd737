/**
 * The text a message's blocks carry in all. Slack documents limits per block (3000 characters of section text, 50
 * blocks) but has answered `msg_blocks_too_long` for messages whose blocks held about 12–13k characters of text in
 * all, each block within its limit (bolt-js #2509, #2867): a message that would never show. The bot keeps every message
 * it builds under MESSAGE_TEXT_LIMIT. Pure.
 */

/** The most characters of text the bot puts into one message's blocks (below where Slack was seen to refuse). */
export const MESSAGE_TEXT_LIMIT = 12_000;

/** The characters of every `text` string inside `blocks` (section and header texts, fields, context, buttons, options). */
export function blockTextLength(blocks: unknown): number {
  let total = 0;
  for (const ref of textRefs(blocks)) total += ref.get().length;
  return total;
}

/**
 * Cuts the longest texts (with `…`) until the blocks hold at most `limit` characters: the last guard, after a layout
 * chose what to show; the shorter texts (buttons, state lines) are kept whole as long as possible. Mutates `blocks`.
 */
export function fitBlockText<T>(blocks: T, limit = MESSAGE_TEXT_LIMIT): T {
  const refs = textRefs(blocks);
  const lengths = refs.map((r) => r.get().length);
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total <= limit) return blocks;
  // The largest cap every text may keep so that all of them fit (a binary search over it): the short texts stay
  // whole, the long ones share the cut. One `…` per cut text counts within its cap.
  const fits = (cap: number) => lengths.reduce((n, len) => n + Math.min(len, cap), 0) <= limit;
  let lo = 1;
  let hi = Math.max(...lengths);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  for (const ref of refs) {
    const text = ref.get();
    if (text.length <= lo) continue;
    // Never end inside an entity (`&amp;`) or a mention/link (`<@U…>`): that half would show as typed.
    const cut = [...text]
      .slice(0, Math.max(0, lo - 1))
      .join('')
      .replace(/&[a-z]*$|<[^>]*$/, '');
    ref.set(`${cut}…`);
  }
  return blocks;
}

interface TextRef {
  get(): string;
  set(v: string): void;
}

function textRefs(node: unknown, out: TextRef[] = []): TextRef[] {
  if (Array.isArray(node)) {
    for (const n of node) textRefs(n, out);
  } else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'text' && typeof v === 'string')
        out.push({
          get: () => obj[k] as string,
          set: (s) => {
            obj[k] = s;
          },
        });
      else if (typeof v === 'object') textRefs(v, out);
    }
  }
  return out;
}
