/**
 * The error catalog stays honest (as fastify's does): every code is thrown somewhere in src/ (a code nobody throws is
 * a promise the bot does not keep), and every code is listed in README.md's error table with its fix, which lists no
 * code the catalog lacks.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCatalog, type ErrorCode } from '../../src/errors';

const REPO = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const codes = Object.keys(ErrorCatalog) as ErrorCode[];
// Every source file but the catalog itself, where each code is only declared.
const sources = sourceFiles(join(REPO, 'src'))
  .filter((f) => !f.endsWith(join('src', 'errors.ts')))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const table = readme.slice(readme.indexOf('\n## Errors\n'));
/** The README's error table: code → the row's cells (what happened, shown in Slack, what to do). */
const rows = new Map(
  [...table.slice(0, table.indexOf('\n## ', 1)).matchAll(/^\| `([A-Z_]+)` \|(.*)\|\s*$/gm)].map((m) => [
    m[1],
    m[2].split('|').map((c) => c.trim()),
  ]),
);

describe('the error catalog', () => {
  it('has a README section with the table', () => {
    expect(readme).toContain('\n## Errors\n');
    expect(rows.size).toBeGreaterThan(0);
  });

  it.each(codes)('%s is thrown somewhere in src/', (code) => {
    // A PilotError built with it (`new PilotError('CODE'`, or a helper handed the code as a string literal).
    expect(sources).toMatch(new RegExp(`'${code}'`));
  });

  it.each(codes)('%s is in the README’s table with what happened and its fix', (code) => {
    const cells = rows.get(code);
    expect(cells).toBeDefined();
    const [what, shown, fix] = cells as string[];
    expect(what.length).toBeGreaterThan(10);
    expect(shown).toBe(ErrorCatalog[code].userFacing ? 'yes' : 'no (logs)');
    expect(fix.length).toBeGreaterThan(10);
  });

  it('the README lists no code the catalog lacks', () => {
    expect([...rows.keys()].filter((c) => !(c in ErrorCatalog))).toEqual([]);
  });
});
