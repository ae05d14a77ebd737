import { execFileSync } from 'node:child_process';
import { shellQuote } from '../../../src/actions/shell-quote';

/** What bash makes of `printf %s <quoted>`: must be the original bytes. */
function roundTrip(s: string): string {
  return execFileSync('bash', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' });
}

describe('shellQuote', () => {
  it.each([
    ['plain', 'web2'],
    ['empty', ''],
    ['single quote', "it's"],
    ['only quotes', "''''"],
    ['command substitution', '$(touch /tmp/pwned)'],
    ['backticks', '`touch /tmp/pwned`'],
    ['semicolon', ';rm -rf /'],
    ['newline', 'a\nb\n; id'],
    ['double quotes and vars', '"$HOME" ${PATH} $1 $@'],
    ['glob and redirections', '* ? [a] > /tmp/x < /etc/passwd | cat &'],
    ['backslashes', '\\\\\\n\\'],
    ['unicode', 'ünïcödé ▶ 🚨 \u202e'],
    ['long', "x'".repeat(5000)],
    ['dash', '-rf'],
  ])('keeps %s literal', (_name, s) => {
    // given a hostile string, when quoted and run through bash, then bash prints exactly that string
    expect(roundTrip(s)).toBe(s);
  });

  it('wraps in single quotes and escapes each quote', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(shellQuote('')).toBe("''");
  });
});
