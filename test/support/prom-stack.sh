#!/usr/bin/env bash
# Starts a small monitoring stack on loopback for the observe integration tests: a haproxy with backend `web`
# (web1 up, web2 down) and backend `api` (api1..api3 all down: three alerts of one backend), Debian's haproxy_exporter scraping its CSV stats, Prometheus (1 s scrape and evaluation,
# the HaproxyServerDown rule from runbooks/HaproxyServerDown.md) and Alertmanager. No systemd: every daemon runs
# by hand with its own pidfile, and `stop` ends only those pids.
#
#   test/support/prom-stack.sh start   start (or reuse a healthy running stack), wait until the alert can fire
#   test/support/prom-stack.sh stop    stop what `start` started, wait for the ports to close
#   test/support/prom-stack.sh env     print the stack's addresses as KEY=value lines
#
# Ports (chosen not to collide with real services or the other test hosts): haproxy 29080-29083, haproxy_exporter
# 19101, Prometheus 19090, Alertmanager 19093. State lives in $RBP_PROM_STACK_DIR (default: tmp/prom-stack in the
# repository, which is gitignored).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${RBP_PROM_STACK_DIR:-$REPO/tmp/prom-stack}

PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
ALERTMANAGER_BIN=${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}
EXPORTER_BIN=${HAPROXY_EXPORTER_BIN:-/usr/bin/prometheus-haproxy-exporter}
HAPROXY_BIN=${HAPROXY_BIN:-$(command -v haproxy || echo /usr/sbin/haproxy)}

HAPROXY_FRONT_PORT=29080   # frontend web -> backend web
HAPROXY_STATS_PORT=29081   # stats page, CSV at /;csv
WEB1_PORT=29082            # served by haproxy itself: the healthy server
WEB2_PORT=29083            # nothing listens: the down server (29084-29086: backend api, all down)
EXPORTER_PORT=19101
PROMETHEUS_PORT=19090
ALERTMANAGER_PORT=19093
DAEMONS="haproxy exporter prometheus alertmanager"

print_env() {
  cat <<ENV
RBP_PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
RBP_ALERTMANAGER_URL=http://127.0.0.1:$ALERTMANAGER_PORT
RBP_HAPROXY_EXPORTER_URL=http://127.0.0.1:$EXPORTER_PORT
RBP_PROM_STACK_HAPROXY_SOCKET=$DIR/haproxy.sock
RBP_PROM_STACK_HAPROXY_STATS=http://127.0.0.1:$HAPROXY_STATS_PORT/;csv
RBP_PROM_STACK_DIR=$DIR
ENV
}

missing_binaries() {
  local missing=()
  for b in "$PROMETHEUS_BIN" "$ALERTMANAGER_BIN" "$EXPORTER_BIN" "$HAPROXY_BIN"; do
    [ -x "$b" ] || missing+=("$b")
  done
  command -v curl >/dev/null || missing+=(curl)
  echo "${missing[*]:-}"
}

# Polls a URL until it answers 2xx, at most $2 seconds.
wait_http() {
  local url=$1 limit=${2:-15} i=0
  while [ "$i" -lt $((limit * 20)) ]; do
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.05; i=$((i + 1))
  done
  echo "prom-stack: $url did not answer within ${limit}s; logs in $DIR/*.log" >&2
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port_closed() {
  local i=0
  while port_open "$1" && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}

running() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

healthy() {
  for d in $DAEMONS; do running "$d" || return 1; done
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" &&
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready"
}

write_configs() {
  mkdir -p "$DIR"
  cat >"$DIR/haproxy.cfg" <<CFG
global
    stats socket $DIR/haproxy.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:$HAPROXY_FRONT_PORT
    default_backend web
backend web
    server web1 127.0.0.1:$WEB1_PORT check inter 1s fall 1 rise 1
    server web2 127.0.0.1:$WEB2_PORT check inter 1s fall 1 rise 1
backend api
    server api1 127.0.0.1:29084 check inter 1s fall 1 rise 1
    server api2 127.0.0.1:29085 check inter 1s fall 1 rise 1
    server api3 127.0.0.1:29086 check inter 1s fall 1 rise 1
frontend stats
    bind 127.0.0.1:$HAPROXY_STATS_PORT
    stats enable
    stats uri /
    stats refresh 0
frontend web1
    bind 127.0.0.1:$WEB1_PORT
    http-request return status 200 content-type text/plain string ok
CFG

  # The rule as the runbook embeds it (runbooks/HaproxyServerDown.md), with `for: 0m`.
  cat >"$DIR/rules.yml" <<'RULES'
groups:
  - name: haproxy-exporter-v1
    rules:
      - alert: HaproxyServerDown
        expr: haproxy_server_up == 0
        for: 0m
        labels:
          severity: critical
        annotations:
          summary: HAProxy server down (instance {{ $labels.instance }})
          description: |-
            HAProxy server is down
              VALUE = {{ $value }}
              LABELS = {{ $labels }}
          runbook: https://github.com/srerun/prometheus-alerts/blob/main/content/runbooks/haproxy-exporter-v1/HaproxyServerDown.md
RULES

  cat >"$DIR/prometheus.yml" <<PROM
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $DIR/rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$ALERTMANAGER_PORT']
scrape_configs:
  - job_name: haproxy
    static_configs:
      - targets: ['127.0.0.1:$EXPORTER_PORT']
PROM

  cat >"$DIR/alertmanager.yml" <<AM
route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
AM
}

start_daemons() {
  rm -rf "$DIR/prometheus-data" "$DIR/alertmanager-data"
  "$HAPROXY_BIN" -c -q -f "$DIR/haproxy.cfg"
  # `9>&-`: the daemons must not inherit the lock, or the next `stop` waits for them forever.
  "$HAPROXY_BIN" -f "$DIR/haproxy.cfg" -D -p "$DIR/haproxy.pid" 2>"$DIR/haproxy.log" 9>&-

  "$EXPORTER_BIN" --web.listen-address="127.0.0.1:$EXPORTER_PORT" \
    --haproxy.scrape-uri="http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" --haproxy.timeout=1s \
    >"$DIR/exporter.log" 2>&1 9>&- &
  echo $! >"$DIR/exporter.pid"

  "$ALERTMANAGER_BIN" --config.file="$DIR/alertmanager.yml" --storage.path="$DIR/alertmanager-data" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address= \
    >"$DIR/alertmanager.log" 2>&1 9>&- &
  echo $! >"$DIR/alertmanager.pid"

  "$PROMETHEUS_BIN" --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/prometheus-data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.external-url="http://127.0.0.1:$PROMETHEUS_PORT/" \
    >"$DIR/prometheus.log" 2>&1 9>&- &
  echo $! >"$DIR/prometheus.pid"

  wait_http "http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" 5
  wait_http "http://127.0.0.1:$EXPORTER_PORT/metrics" 10
  wait_http "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" 15
  wait_http "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 20
}

stop_daemons() {
  for d in prometheus alertmanager exporter haproxy; do
    # CONT after TERM: a daemon a test paused (SIGSTOP) would otherwise never see the TERM.
    if running "$d"; then kill "$(cat "$DIR/$d.pid")" 2>/dev/null || true; kill -CONT "$(cat "$DIR/$d.pid")" 2>/dev/null || true; fi
  done
  # This sandbox reaps exited processes slowly: wait for the ports, not the pids.
  for p in $PROMETHEUS_PORT $ALERTMANAGER_PORT $EXPORTER_PORT $HAPROXY_FRONT_PORT $HAPROXY_STATS_PORT $WEB1_PORT; do
    wait_port_closed "$p"
  done
  for d in $DAEMONS; do rm -f "$DIR/$d.pid"; done
}

# One start or stop at a time: test files may run in parallel workers.
with_lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w 60 9
  "$@"
}

cmd_start() {
  local missing
  missing=$(missing_binaries)
  if [ -n "$missing" ]; then
    echo "prom-stack: missing $missing (apt-get install -y --no-install-recommends prometheus prometheus-alertmanager prometheus-haproxy-exporter haproxy curl)" >&2
    exit 3
  fi
  if healthy; then
    echo "prom-stack: already running" >&2
  else
    stop_daemons
    write_configs
    start_daemons
    echo "prom-stack: started" >&2
  fi
  print_env
}

case "${1:-}" in
  start) with_lock cmd_start ;;
  stop) with_lock stop_daemons ;;
  env) print_env ;;
  missing) missing_binaries ;;
  *) echo "usage: $0 {start|stop|env|missing}" >&2; exit 2 ;;
esac
