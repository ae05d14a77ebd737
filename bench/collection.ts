/**
 * Writes a runbook collection with the size and traits of the real srerun/prometheus-alerts one (1,004 files in about
 * 100 exporter folders; 7 empty files; 51 alert names in two folders; names with `>`, `%`, `(` and spaces; Hugo
 * `_index.md` pages; bindings beside some runbooks), built from the runbooks in this repository: every source text
 * is reused with its alert name replaced, so parsing costs what the real files cost.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunbookMarkdown } from '../src/runbook/parse-runbook-markdown';

const REPO = join(__dirname, '..');

export interface CollectionShape {
  files: number;
  folders: number;
  empty: number;
  duplicates: number;
}

/** The real collection (srerun/prometheus-alerts, content/runbooks) as counted for issue #14. */
export const REAL_COLLECTION: CollectionShape = { files: 1004, folders: 100, empty: 7, duplicates: 51 };

function sources(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.md') && n !== 'README.md' && !n.startsWith('_')) {
        const text = readFileSync(p, 'utf8');
        try {
          out.push({ name: parseRunbookMarkdown(text, p).alertname, text });
        } catch {
          // Broken fixtures are left out: the generated collection's broken files are made on purpose below.
        }
      }
    }
  };
  walk(join(REPO, 'runbooks'));
  walk(join(REPO, 'test', 'fixtures', 'runbooks'));
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Writes the collection into `dir` (which must exist and be empty); returns what it wrote. */
export function writeCollection(
  dir: string,
  shape: CollectionShape = REAL_COLLECTION,
): { files: number; alerts: number } {
  const src = sources();
  const perFolder = Math.ceil(shape.files / shape.folders);
  let written = 0;
  const names: string[] = [];
  for (let f = 0; written < shape.files; f++) {
    const folder = join(dir, f % 10 === 3 ? `exporter ${f} (legacy)` : `exporter-${String(f).padStart(3, '0')}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, '_index.md'), `---\ntitle: exporter ${f}\n---\n`);
    for (let i = 0; i < perFolder && written < shape.files; i++, written++) {
      const n = written;
      if (n < shape.empty) {
        writeFileSync(join(folder, `EmptyRunbook${n}.md`), '');
        continue;
      }
      // The first `duplicates` alert names come back once more in a later folder, as in the real collection.
      const dup = n >= shape.files - shape.duplicates;
      const alert = dup
        ? names[n - (shape.files - shape.duplicates)]
        : `Gen${String(n).padStart(4, '0')}${n % 17 === 0 ? '>80%' : n % 19 === 0 ? '(High)' : ''}Alert`;
      if (!dup) names.push(alert);
      const s = src[n % src.length];
      const text = s.text.replace(new RegExp(escapeRegExp(s.name), 'g'), alert);
      const file = n % 23 === 0 ? `${alert.replace(/Alert$/, ' alert')}.md` : `${alert}.md`;
      writeFileSync(join(folder, file), text);
    }
  }
  return { files: written, alerts: names.length };
}
