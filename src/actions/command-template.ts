/**
 * The command template language: `{name}` and `{name?text}`, where `name` is a declared parameter. Braces that do not
 * name a declared parameter (awk's `{ print }`, curl's `%{http_code}`) and `${…}` are shell text and stay as they are,
 * so templates can hold ordinary shell code. Nothing else is substituted.
 */

export interface Placeholder {
  name: string;
  optional: boolean;
}

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'param'; name: string }
  | { kind: 'optional'; name: string; body: Part[] };

/** Lists the placeholders of a template (outer and nested), given the declared parameter names. */
export function templatePlaceholders(template: string, params: readonly string[]): Placeholder[] {
  const out: Placeholder[] = [];
  const walk = (parts: Part[]): void => {
    for (const p of parts) {
      if (p.kind === 'param') out.push({ name: p.name, optional: false });
      if (p.kind === 'optional') {
        out.push({ name: p.name, optional: true });
        walk(p.body);
      }
    }
  };
  walk(parseTemplate(template, new Set(params)));
  return out;
}

/**
 * Fills a template: `{name}` becomes `quoted[name]`; `{name?text}` becomes `text` (itself filled) when `quoted` has
 * `name`, else nothing. Throws when a plain `{name}` has no value: the caller validates parameters first.
 */
export function fillTemplate(template: string, params: readonly string[], quoted: Record<string, string>): string {
  const render = (parts: Part[]): string =>
    parts
      .map((p) => {
        if (p.kind === 'text') return p.text;
        if (p.kind === 'param') {
          const v = quoted[p.name];
          if (v === undefined) throw new Error(`no value for {${p.name}}`);
          return v;
        }
        return quoted[p.name] === undefined ? '' : render(p.body);
      })
      .join('');
  return render(parseTemplate(template, new Set(params)));
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

function parseTemplate(src: string, names: ReadonlySet<string>): Part[] {
  const [parts] = parseParts(src, 0, names, false);
  return parts;
}

/** Parses from `i` until the end, or until the `}` closing an optional body when `nested`. Returns the index after. */
function parseParts(src: string, start: number, names: ReadonlySet<string>, nested: boolean): [Part[], number] {
  const parts: Part[] = [];
  let text = '';
  let depth = 0; // literal braces opened inside an optional body, so `{x?awk '{ print }'}` closes at the right `}`
  let i = start;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '{' && src[i - 1] !== '$') {
      const m = IDENT.exec(src.slice(i + 1));
      const name = m?.[0];
      const after = name === undefined ? '' : src[i + 1 + name.length];
      if (name !== undefined && names.has(name) && (after === '}' || after === '?')) {
        if (text) parts.push({ kind: 'text', text });
        text = '';
        if (after === '}') {
          parts.push({ kind: 'param', name });
          i += name.length + 2;
        } else {
          const [body, next] = parseParts(src, i + name.length + 2, names, true);
          parts.push({ kind: 'optional', name, body });
          i = next;
        }
        continue;
      }
      depth++;
    } else if (ch === '}' && nested) {
      if (depth === 0) {
        if (text) parts.push({ kind: 'text', text });
        return [parts, i + 1];
      }
      depth--;
    } else if (ch === '}') {
      depth = Math.max(0, depth - 1);
    }
    text += ch;
    i++;
  }
  if (nested) throw new Error('unclosed {name?…} in command template');
  if (text) parts.push({ kind: 'text', text });
  return [parts, i];
}
