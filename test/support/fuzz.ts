/**
 * A small seeded fuzzer: a PRNG (mulberry32, so a failing case is reproduced from its seed), hostile strings, and
 * mutators for JSON values and text. No dependency: the properties tested are simple ("never crashes, never runs")
 * and the inputs start from real captured payloads, which matters more than shrinking.
 */

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** A seeded PRNG (mulberry32). */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)], chance: (p) => next() < p };
}

/** The command a hostile value tries to run; tests put a program of this name first in PATH and watch for it. */
export const CANARY = 'rbp-canary';

/** Values an attacker would put in a label, a button or a form field. */
export const HOSTILE_STRINGS: readonly string[] = [
  `$(${CANARY})`,
  `\`${CANARY}\``,
  `;${CANARY}`,
  `web2;${CANARY}`,
  `web2 && ${CANARY}`,
  `web2 | ${CANARY}`,
  `web2 & ${CANARY}`,
  `web2\n${CANARY}`,
  `web2\r\n${CANARY}`,
  `'; ${CANARY}; '`,
  `"; ${CANARY}; "`,
  `'$(${CANARY})'`,
  `"$(${CANARY})"`,
  `\\'; ${CANARY} #`,
  `$(/usr/bin/touch /tmp/${CANARY}-abs)`,
  `\${IFS}${CANARY}`,
  `$IFS$(${CANARY})`,
  `>(${CANARY})`,
  `<(${CANARY})`,
  `{${CANARY},x}`,
  `web2\u0000;${CANARY}`,
  '\u0000',
  '-rf',
  '--help',
  '../../etc/passwd',
  '/etc/../etc/shadow',
  '*',
  '~root',
  '$HOME',
  '{backend}',
  '{server?x}',
  'web\u202e2', // right-to-left override
  'ｗｅｂ２；rbp-canary', // fullwidth
  'we\u0301b2', // combining mark
  '🔥web2🔥',
  '\ud800', // lone surrogate
  'A'.repeat(10_000),
  `${'x'.repeat(5000)}$(${CANARY})`,
  '',
  ' ',
  '\t\n',
  "it's",
  '\\',
  '%00',
  `%0a${CANARY}`,
  '<script>alert(1)</script>',
  '<!channel>',
  '<@U0ONCALL01>',
  '*bold* _it_ `code`',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '1e309',
  '-1',
  '0x41',
];

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyz0123456789',
  ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  '\n\r\t\u0000\u0007\u001b\u007f',
  'éßøåЖж中文日本語한국어עבריתالعربية',
  '\u200b\u200d\u202e\ufeff\ufffd',
];

/** A random string of up to `max` characters mixing letters, shell metacharacters, controls and unicode. */
export function randomString(r: Rng, max = 40): string {
  if (r.chance(0.2)) return r.pick(HOSTILE_STRINGS);
  const len = r.int(max + 1);
  let s = '';
  for (let i = 0; i < len; i++) {
    const alphabet = r.pick(ALPHABETS);
    s += alphabet[r.int(alphabet.length)];
  }
  if (r.chance(0.05)) s += String.fromCodePoint(0x1f300 + r.int(200));
  return s;
}

/** A random JSON value. */
export function randomJson(r: Rng, depth = 3): unknown {
  const kind = r.int(depth > 0 ? 9 : 6);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1, 2 ** 53, -(2 ** 53), 1.5, 1e308, -0]);
    case 3:
    case 4:
    case 5:
      return randomString(r);
    case 6:
    case 7:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth - 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(5) }, () => [
          r.chance(0.5)
            ? randomString(r, 12)
            : r.pick(['type', 'text', 'labels', 'alerts', 'status', 'event', 'blocks', 'value', '__proto__']),
          randomJson(r, depth - 1),
        ]),
      );
  }
}

/** A deep copy of `value` with 1..`edits` random edits: a node replaced, retyped, removed, added or made hostile. */
export function mutateJson<T>(r: Rng, value: T, edits = 3): unknown {
  let out: unknown = structuredClone(value);
  const n = 1 + r.int(edits);
  for (let i = 0; i < n; i++) out = mutateOnce(r, out);
  return out;
}

function mutateOnce(r: Rng, root: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(root, []);
  const path = r.pick(paths);
  if (path.length === 0) return r.chance(0.1) ? randomJson(r) : root;
  const parent = path
    .slice(0, -1)
    .reduce<unknown>((cur, k) => (cur as Record<string | number, unknown>)[k], root) as Record<
    string | number,
    unknown
  >;
  const key = path[path.length - 1];
  const cur = parent[key];
  switch (r.int(6)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1:
      parent[key] = typeof cur === 'string' ? mutateText(r, cur) : randomJson(r, 2);
      break;
    case 2:
      parent[key] = r.pick(HOSTILE_STRINGS);
      break;
    case 3:
      parent[key] = randomJson(r, 2);
      break;
    case 4:
      if (Array.isArray(parent)) parent.push(structuredClone(cur));
      else
        Object.defineProperty(parent, randomString(r, 10), {
          value: randomJson(r, 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      break;
    default:
      parent[key] = typeof cur === 'string' ? `${cur}${r.pick(HOSTILE_STRINGS)}` : [cur, cur];
  }
  return root;
}

/** `text` with 1..`edits` random edits: characters inserted, deleted or replaced, a hostile value spliced in, a cut. */
export function mutateText(r: Rng, text: string, edits = 4): string {
  let s = text;
  const n = 1 + r.int(edits);
  for (let i = 0; i < n; i++) {
    const at = r.int(s.length + 1);
    switch (r.int(6)) {
      case 0:
        s = s.slice(0, at) + randomString(r, 8) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + r.int(20));
        break;
      case 2:
        s = s.slice(0, at) + r.pick(HOSTILE_STRINGS) + s.slice(at);
        break;
      case 3:
        s = s.slice(0, at);
        break;
      case 4: {
        const from = r.int(s.length + 1);
        s = s.slice(0, at) + s.slice(from, from + r.int(200)) + s.slice(at);
        break;
      }
      default:
        s = s.slice(0, at) + String.fromCharCode(r.int(0x3000)) + s.slice(at + 1);
    }
  }
  return s;
}
