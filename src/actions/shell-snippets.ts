/** Shell snippets shared by the catalog's command templates (plain shell text: no `{param}` placeholders). */

/** Admin tools live in sbin, which a plain SSH user's PATH lacks. */
export const PATH_PRELUDE = 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH';

/** Defines `q CMD` (one runtime-API command over the stats socket in $S); stops when socat or the socket is missing. */
export const STATS_SOCKET = [
  'command -v socat >/dev/null 2>&1 || { echo "socat is not installed on $(hostname): cannot reach the HAProxy stats socket"; exit 127; }',
  '[ -S "$S" ] || { echo "stats socket $S does not exist on $(hostname) (is haproxy running, with \'stats socket $S level admin\'?)"; exit 1; }',
  'q() { printf \'%s\\n\' "$1" | socat -T2 stdio "UNIX-CONNECT:$S"; }',
].join('\n');

/** True when systemd runs the machine (not merely installed). */
export const HAS_SYSTEMD = 'command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]';
