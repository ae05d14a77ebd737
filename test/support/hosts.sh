#!/usr/bin/env bash
# Test hosts for runbook-pilot: a real sshd and a real haproxy on loopback, so the exec layer and the actions are
# tested against the real programs. No systemd is assumed: every daemon is started by hand and found by its pidfile.
#
#   hosts.sh install        apt-get install the programs (skipped when present)
#   hosts.sh start          start sshd, the haproxy log sink and haproxy; wait until they answer (idempotent)
#   hosts.sh stop           stop everything this script started; wait until ports and sockets are closed
#   hosts.sh status         one line per component
#   hosts.sh env            a JSON document describing the hosts (for test/support/test-hosts.ts)
#   hosts.sh clear-log      empty haproxy's log file (the demo starts each run with an empty log)
#   hosts.sh remove         stop everything, delete the state dir and the ssh user ($RBP_SSH_USER, rbpilot)
#   hosts.sh sshd-stop|sshd-start|sshd-kill [main|spare]
#                           break sshd for tests. `spare` is a second sshd (same keys, port RBP_SSH_SPARE_PORT)
#                           that failure tests break, so tests running in parallel on `main` are not disturbed.
#
# Settings (environment): RBP_HOSTS_DIR (state dir), RBP_SSH_PORT (2222), RBP_SSH_SPARE_PORT (2223),
# RBP_HAPROXY_PORT (18080, the frontend), RBP_WEB1_PORT (18081, always up), RBP_WEB2_PORT (18082, kept closed),
# RBP_LOG_PORT (15514, UDP syslog sink), RBP_SSH_USER (rbpilot), RBP_START_TIMEOUT_SEC (20).
set -euo pipefail

DIR="${RBP_HOSTS_DIR:-${TMPDIR:-/tmp}/runbook-pilot-hosts}"
SSH_PORT="${RBP_SSH_PORT:-2222}"
SPARE_PORT="${RBP_SSH_SPARE_PORT:-2223}"
FRONT_PORT="${RBP_HAPROXY_PORT:-18080}"
WEB1_PORT="${RBP_WEB1_PORT:-18081}"
WEB2_PORT="${RBP_WEB2_PORT:-18082}"
LOG_PORT="${RBP_LOG_PORT:-15514}"
SSH_USER="${RBP_SSH_USER:-rbpilot}"
START_TIMEOUT="${RBP_START_TIMEOUT_SEC:-20}"
HDIR="$DIR/haproxy"
SOCK="$HDIR/admin.sock"

PATH="$PATH:/usr/sbin:/sbin"
SSHD_BIN="$(command -v sshd || echo /usr/sbin/sshd)"
HAPROXY_BIN="$(command -v haproxy || echo /usr/sbin/haproxy)"

die() { echo "hosts.sh: $*" >&2; exit 1; }

# Root runs privileged steps directly; anyone else needs passwordless sudo (as on CI runners).
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
priv() { "${SUDO[@]}" "$@"; }
as_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$SSH_USER" -- "$@"; else sudo -n -u "$SSH_USER" -- "$@"; fi
}

have_programs() { [ -x "$SSHD_BIN" ] && [ -x "$HAPROXY_BIN" ] && command -v socat >/dev/null && command -v ssh-keygen >/dev/null; }

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
udp_bound() { grep -qi ":$(printf '%04X' "$1") " /proc/net/udp 2>/dev/null; }
pid_alive() { [ -s "$1" ] && priv kill -0 "$(head -n1 "$1")" 2>/dev/null; }
haproxy_cmd() { echo "$1" | priv socat -T1 stdio "UNIX-CONNECT:$SOCK" 2>/dev/null; }
web2_status() { haproxy_cmd "show stat" | awk -F, '$1=="web" && $2=="web2" {print $18}'; }

# wait_for <what> <seconds> <command...>: polls every 50 ms, fails with a message naming what did not happen.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.05
  done
}
not() { ! "$@"; }

cmd_install() {
  if have_programs; then echo "openssh-server, haproxy and socat are installed"; return; fi
  priv apt-get update -qq
  priv env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client haproxy socat
}

prepare() {
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  if ! id "$SSH_USER" >/dev/null 2>&1; then priv useradd -m -s /bin/bash "$SSH_USER"; fi
  # useradd leaves the account locked, and a locked account cannot log in with a key under `UsePAM no`. Unlocked
  # only when locked: test files run this at their start while others log in (Jest runs files in parallel).
  case "$(priv getent shadow "$SSH_USER" | cut -d: -f2)" in '!'*) priv usermod -p '*' "$SSH_USER" ;; esac
  [ -f "$DIR/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C runbook-pilot-test -f "$DIR/client_key"
  [ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C runbook-pilot-test-host -f "$DIR/ssh_host_ed25519_key"
  # Replaced whole (a copy beside it, then a rename), and only when it differs: sshd reading it while another test
  # file starts must never see it empty (cp truncates first: "refused the key" in a parallel run).
  if ! cmp -s "$DIR/client_key.pub" "$DIR/authorized_keys"; then
    cp "$DIR/client_key.pub" "$DIR/authorized_keys.new"
    chmod 644 "$DIR/authorized_keys.new"
    mv -f "$DIR/authorized_keys.new" "$DIR/authorized_keys"
  fi
  priv mkdir -p /run/sshd "$HDIR"
  priv chown "$SSH_USER" "$HDIR"
  priv chmod 755 "$HDIR"
}

sshd_port() { if [ "$1" = spare ]; then echo "$SPARE_PORT"; else echo "$SSH_PORT"; fi; }

write_sshd_config() {
  local name="$1" port; port="$(sshd_port "$1")"
  cat >"$DIR/sshd_config.$name" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.$name.pid
AuthorizedKeysFile $DIR/authorized_keys
AllowUsers $SSH_USER
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 20
LogLevel VERBOSE
EOF
}

sshd_start() {
  local name="${1:-main}" port; port="$(sshd_port "$name")"
  if pid_alive "$DIR/sshd.$name.pid" && tcp_open "$port"; then return; fi
  write_sshd_config "$name"
  priv "$SSHD_BIN" -t -f "$DIR/sshd_config.$name" || die "sshd rejects $DIR/sshd_config.$name"
  tcp_open "$port" && die "port $port is taken by another program: set RBP_SSH_PORT/RBP_SSH_SPARE_PORT"
  priv "$SSHD_BIN" -f "$DIR/sshd_config.$name" -E "$DIR/sshd.$name.log" 9>&-
  wait_for "sshd ($name) to accept on 127.0.0.1:$port (see $DIR/sshd.$name.log)" "$START_TIMEOUT" tcp_open "$port"
}

# The listener and every sshd below it (one [priv] and one user process per connection): stopping only the
# listener would leave open connections running.
sshd_pids() {
  local pidfile="$DIR/sshd.$1.pid" root
  [ -s "$pidfile" ] || return 0
  root="$(head -n1 "$pidfile")"
  local queue=("$root") pid child
  while [ "${#queue[@]}" -gt 0 ]; do
    pid="${queue[0]}"; queue=("${queue[@]:1}")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] || continue
    echo "$pid"
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do queue+=("$child"); done
  done
}

sshd_signal() {
  local name="${1:-main}" sig="$2" port pids; port="$(sshd_port "$name")"
  pids="$(sshd_pids "$name" | tr '\n' ' ')"
  [ -n "$pids" ] || { rm -f "$DIR/sshd.$name.pid"; return 0; }
  # shellcheck disable=SC2086 # word splitting wanted
  priv kill "-$sig" $pids 2>/dev/null || true
  # This sandbox reaps killed processes slowly: wait for the port, not the pid.
  wait_for "sshd ($name) to close 127.0.0.1:$port" "$START_TIMEOUT" not tcp_open "$port"
  rm -f "$DIR/sshd.$name.pid"
}

log_sink_start() {
  if pid_alive "$HDIR/log-sink.pid" && udp_bound "$LOG_PORT"; then return; fi
  udp_bound "$LOG_PORT" && die "UDP port $LOG_PORT is taken by another program: set RBP_LOG_PORT"
  # socat writes every syslog datagram haproxy sends to a plain file: a real log file the log actions can read.
  as_user setsid sh -c 'echo $$ > "$1"; exec socat -u "UDP-RECV:$2,bind=127.0.0.1" "OPEN:$3,creat,append"' \
    sh "$HDIR/log-sink.pid" "$LOG_PORT" "$HDIR/haproxy.log" </dev/null >/dev/null 2>&1 9>&- &
  wait_for "the log sink to bind UDP 127.0.0.1:$LOG_PORT" "$START_TIMEOUT" udp_bound "$LOG_PORT"
}

write_haproxy_config() {
  local web2_prev_port="$1"
  cat <<EOF
# runbook-pilot test load balancer (written by test/support/hosts.sh)
global
    stats socket $SOCK mode 600 level admin
    log 127.0.0.1:$LOG_PORT local0

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend fe_main
    bind 127.0.0.1:$FRONT_PORT
    default_backend web

# Stands in for a healthy application server.
frontend fe_web1
    bind 127.0.0.1:$WEB1_PORT
    no log
    http-request return status 200 content-type text/plain string "web1 ok"

backend web
    option httpchk GET /
    default-server check inter 1s fastinter 250ms fall 2 rise 2
    server web1 127.0.0.1:$WEB1_PORT
    server web2 127.0.0.1:$web2_prev_port
EOF
}

haproxy_start() {
  if pid_alive "$HDIR/haproxy.pid" && haproxy_cmd "show info" | grep -q '^Name: HAProxy'; then return; fi
  tcp_open "$FRONT_PORT" && die "port $FRONT_PORT is taken by another program: set RBP_HAPROXY_PORT"
  tcp_open "$WEB2_PORT" && die "port $WEB2_PORT must stay closed (web2 is the DOWN server): set RBP_WEB2_PORT"
  write_haproxy_config "$WEB2_PORT" | as_user tee "$HDIR/haproxy.cfg" >/dev/null
  # The "previous" config: web2 used to point at a live port and timeouts were longer, so a recent-changes diff
  # shows the change that took web2 down.
  write_haproxy_config "$WEB1_PORT" | sed 's/timeout server 10s/timeout server 30s/' \
    | as_user tee "$HDIR/haproxy.cfg.prev" >/dev/null
  as_user "$HAPROXY_BIN" -c -q -f "$HDIR/haproxy.cfg" || die "haproxy rejects $HDIR/haproxy.cfg"
  as_user "$HAPROXY_BIN" -f "$HDIR/haproxy.cfg" -D -p "$HDIR/haproxy.pid" </dev/null >>"$DIR/haproxy.stderr" 2>&1 9>&- \
    || die "haproxy did not start (see $DIR/haproxy.stderr)"
}

haproxy_ready() { haproxy_cmd "show info" | grep -q '^Name: HAProxy'; }
web2_down() { web2_status | grep -q '^DOWN'; }

cmd_sshd_start() { prepare; sshd_start "$1"; }

cmd_start() {
  have_programs || die "sshd, haproxy or socat is missing: run test/support/hosts.sh install"
  prepare
  sshd_start main
  log_sink_start
  haproxy_start
  wait_for "haproxy's stats socket $SOCK to answer 'show info' (see $DIR/haproxy.stderr)" "$START_TIMEOUT" haproxy_ready
  wait_for "web2 to be DOWN in 'show stat' (is port $WEB2_PORT open?)" "$START_TIMEOUT" web2_down
  tcp_open "$FRONT_PORT" || die "haproxy does not accept on 127.0.0.1:$FRONT_PORT"
}

cmd_stop() {
  local name pid
  for name in main spare; do sshd_signal "$name" TERM; done
  # The ssh user may have restarted haproxy: the pidfile names the current process. Ports are waited for only
  # when this script had started something there: another program's port is none of our business.
  if [ -s "$HDIR/haproxy.pid" ]; then
    for pid in $(cat "$HDIR/haproxy.pid"); do priv kill "$pid" 2>/dev/null || true; done
    wait_for "haproxy to close $SOCK" "$START_TIMEOUT" not haproxy_ready
    wait_for "haproxy to close port $FRONT_PORT" "$START_TIMEOUT" not tcp_open "$FRONT_PORT"
  fi
  if [ -s "$HDIR/log-sink.pid" ]; then
    priv kill "$(cat "$HDIR/log-sink.pid")" 2>/dev/null || true
    wait_for "the log sink to release UDP $LOG_PORT" "$START_TIMEOUT" not udp_bound "$LOG_PORT"
  fi
  priv rm -f "$HDIR/haproxy.pid" "$HDIR/log-sink.pid"
}

cmd_clear_log() {
  # The log sink appends (O_APPEND), so emptying the file under it is safe: the next line lands at the start.
  if [ -e "$HDIR/haproxy.log" ]; then as_user truncate -s 0 "$HDIR/haproxy.log"; fi
}

cmd_remove() {
  cmd_stop
  priv rm -rf "$DIR"
  if id "$SSH_USER" >/dev/null 2>&1; then priv userdel -r "$SSH_USER" 2>/dev/null || priv userdel "$SSH_USER"; fi
  echo "removed $DIR and the user $SSH_USER"
}

cmd_status() {
  local up=0
  if tcp_open "$SSH_PORT"; then echo "sshd      up    127.0.0.1:$SSH_PORT"; else echo "sshd      down  127.0.0.1:$SSH_PORT"; up=1; fi
  if udp_bound "$LOG_PORT"; then echo "log sink  up    udp 127.0.0.1:$LOG_PORT"; else echo "log sink  down  udp 127.0.0.1:$LOG_PORT"; up=1; fi
  if haproxy_ready; then
    echo "haproxy   up    127.0.0.1:$FRONT_PORT web2=$(web2_status)"
  else
    echo "haproxy   down  127.0.0.1:$FRONT_PORT"; up=1
  fi
  return "$up"
}

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

cmd_env() {
  [ -f "$DIR/ssh_host_ed25519_key.pub" ] || die "no host key in $DIR: run test/support/hosts.sh start"
  local fp pub
  fp="$(ssh-keygen -lf "$DIR/ssh_host_ed25519_key.pub" | awk '{print $2}')"
  pub="$(awk '{print $1" "$2}' "$DIR/ssh_host_ed25519_key.pub")"
  cat <<EOF
{
  "stateDir": $(json_str "$DIR"),
  "ssh": {
    "host": "127.0.0.1",
    "port": $SSH_PORT,
    "sparePort": $SPARE_PORT,
    "user": $(json_str "$SSH_USER"),
    "privateKeyPath": $(json_str "$DIR/client_key"),
    "publicKeyPath": $(json_str "$DIR/client_key.pub"),
    "hostKeyFingerprint": $(json_str "$fp"),
    "hostKeyPublic": $(json_str "$pub")
  },
  "haproxy": {
    "binary": $(json_str "$HAPROXY_BIN"),
    "socket": $(json_str "$SOCK"),
    "config": $(json_str "$HDIR/haproxy.cfg"),
    "previousConfig": $(json_str "$HDIR/haproxy.cfg.prev"),
    "log": $(json_str "$HDIR/haproxy.log"),
    "pidFile": $(json_str "$HDIR/haproxy.pid"),
    "frontendPort": $FRONT_PORT,
    "backend": "web",
    "web1Port": $WEB1_PORT,
    "web2Port": $WEB2_PORT,
    "logPort": $LOG_PORT
  }
}
EOF
}

# One start or stop at a time: jest workers may call `start` together. Daemons are started with `9>&-` so they do
# not inherit (and hold) the lock.
with_lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w "$((START_TIMEOUT * 2))" 9 || die "another hosts.sh holds $DIR/.lock"
  "$@"
}

case "${1:-}" in
  install) cmd_install ;;
  start) with_lock cmd_start ;;
  stop) with_lock cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  clear-log) with_lock cmd_clear_log ;;
  remove) with_lock cmd_remove ;;
  sshd-start) with_lock cmd_sshd_start "${2:-main}" ;;
  sshd-stop) with_lock sshd_signal "${2:-main}" TERM ;;
  sshd-kill) with_lock sshd_signal "${2:-main}" KILL ;;
  *) echo "usage: $0 {install|start|stop|status|env|clear-log|remove|sshd-start|sshd-stop|sshd-kill [main|spare]}" >&2; exit 2 ;;
esac
