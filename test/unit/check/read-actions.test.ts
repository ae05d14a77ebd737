/**
 * `runbook-pilot check` says how each non-catalog command is treated (#19 §6): a binding's own `risk: read` holds only
 * when the config's `mitigation.readActions` lists the action with this very command; otherwise it is host-changing.
 * Entries that lower nothing (a catalog action, an id no binding brings) are named too.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCheck } from '../../../src/check/run-check';

const REPO = join(__dirname, '..', '..', '..');

it('names each binding command as read-only (trusted) or host-changing, and the config entries that do nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbp-check-read-'));
  try {
    mkdirSync(join(dir, 'runbooks'));
    copyFileSync(join(REPO, 'runbooks', 'HaproxyServerDown.md'), join(dir, 'runbooks', 'HaproxyServerDown.md'));
    const act = (id: string, risk: string, command: string) =>
      `  - { id: ${id}, title: ${id}, description: ${id}, risk: ${risk}, params: {}, command: "${command}", timeoutMs: 5000, outputCap: 8192 }`;
    writeFileSync(
      join(dir, 'runbooks', 'HaproxyServerDown.yml'),
      [
        'alert: HaproxyServerDown',
        'extra:',
        '  - { id: a, section: diagnosis, title: A, actions: [sockets, peek, conns, kick] }',
        'actions:',
        act('sockets', 'read', 'ss -tlnp'),
        act('peek', 'read', 'sudo -n systemctl restart haproxy'),
        act('conns', 'read', 'ss -tn state established'),
        act('kick', 'change', 'pkill -HUP haproxy'),
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'config.yml'),
      stringify({
        slack: { channels: ['C0123ALERTS'] },
        alertmanager: { token: 't' },
        runbooks: './runbooks',
        mitigation: {
          readActions: { sockets: 'ss   -tlnp', conns: 'ss -tn', restart: 'anything', 'disk-top': 'du -sh /' },
        },
      }),
    );
    const lines: string[] = [];
    await runCheck({ configPath: 'config.yml', hosts: false, cwd: dir, out: (l) => lines.push(l) });
    const about = (re: RegExp) => lines.filter((l) => re.test(l));
    expect(about(/brings its own/)).toEqual([
      '  warning: runbooks/HaproxyServerDown.yml: runbook HaproxyServerDown brings its own read-only command (action sockets, not in the catalog; trusted by mitigation.readActions): ss -tlnp; review it: the bot may run it like a catalog action',
      expect.stringMatching(
        /brings its own command declared read, treated as host-changing \(access list and confirmation\) because mitigation\.readActions does not list it \(action peek, not in the catalog\): sudo -n systemctl restart haproxy; review it; if it only reads, list it under mitigation\.readActions in config\.yml as peek: "<its exact command>"$/,
      ),
      expect.stringMatching(
        /brings its own command declared read, treated as host-changing \(access list and confirmation\) because mitigation\.readActions lists another command for it \(action conns, not in the catalog\): ss -tn state established; /,
      ),
      expect.stringMatching(
        /brings its own host-changing command \(action kick, not in the catalog\): pkill -HUP haproxy; /,
      ),
    ]);
    expect(about(/mitigation\.readActions\.(restart|disk-top)/)).toEqual([
      "  warning: config.yml: mitigation.readActions.restart: restart is a catalog action; its risk is the catalog's, this entry is ignored; remove the entry",
      '  warning: config.yml: mitigation.readActions.disk-top: no binding brings an action with this id; remove the entry, or fix the id',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
