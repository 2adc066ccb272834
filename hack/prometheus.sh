#!/usr/bin/env bash
# Prometheus from Debian's package, as a real peer for aviary's metric tests and the demo.
# The system service is never started: aviary runs its own Prometheus on 127.0.0.1 with a
# config, data directory and port of the caller's choosing.
#
# Usage:
#   hack/prometheus.sh install
#   hack/prometheus.sh run   --config FILE --data DIR --port PORT   # foreground (exec); for tests
#   hack/prometheus.sh start --config FILE --data DIR --port PORT   # background; pid in DIR/prometheus.pid
#   hack/prometheus.sh stop  --data DIR
#   hack/prometheus.sh path                                          # prints the binary path
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_prometheus() {
  if [[ -x "$PROMETHEUS_BIN" ]]; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install Prometheus >= 2.x yourself and set PROMETHEUS_BIN"
  log "installing Debian's prometheus package (no recommends, system service kept stopped)"
  # policy-rc.d exit code 101 tells invoke-rc.d/deb-systemd-invoke not to start services
  # during the install. Only install ours when none exists, and always remove it again.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 0755 "$policy"
    own_policy=1
  fi
  local rc=0
  apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }
  if ! apt_install >/dev/null 2>&1; then
    log "install failed; refreshing the package lists and trying again"
    as_root apt-get update >/dev/null 2>&1 || true
    apt_install >/dev/null || rc=$?
  fi
  if [[ $own_policy -eq 1 ]]; then as_root rm -f "$policy"; fi
  [[ $rc -eq 0 ]] || die "apt-get install prometheus failed (exit $rc)"
  # A systemd host may still have enabled and started the unit: stop it, aviary's tests
  # must own every Prometheus they talk to.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    as_root systemctl stop prometheus || true
  fi
  [[ -x "$PROMETHEUS_BIN" ]] || die "prometheus package installed but $PROMETHEUS_BIN is missing"
  log "prometheus installed: $("$PROMETHEUS_BIN" --version 2>&1 | head -1)"
}

CONFIG="" DATA="" PORT=""
parse_flags() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --config) CONFIG="$2"; shift 2 ;;
      --data) DATA="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      *) die "unknown flag: $1" ;;
    esac
  done
}

prometheus_args() {
  [[ -n "$CONFIG" && -f "$CONFIG" ]] || die "--config FILE is required and must exist"
  [[ -n "$DATA" ]] || die "--data DIR is required"
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "--port PORT is required"
  [[ -x "$PROMETHEUS_BIN" ]] || die "$PROMETHEUS_BIN not found; run: hack/prometheus.sh install"
  mkdir -p "$DATA"
  ARGS=(
    "--config.file=$CONFIG"
    "--storage.tsdb.path=$DATA/tsdb"
    "--web.listen-address=127.0.0.1:$PORT"
    "--storage.tsdb.retention.time=1d"
    "--web.enable-lifecycle"
    "--log.level=warn"
  )
}

wait_ready() {
  local url="http://127.0.0.1:$PORT/-/ready" i
  for ((i = 0; i < 100; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

cmd="${1:-}"
shift || true
case "$cmd" in
  install) install_prometheus ;;
  path) echo "$PROMETHEUS_BIN" ;;
  run)
    parse_flags "$@"
    prometheus_args
    exec "$PROMETHEUS_BIN" "${ARGS[@]}"
    ;;
  start)
    parse_flags "$@"
    prometheus_args
    pidfile="$DATA/prometheus.pid"
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      die "a Prometheus from $DATA is already running (pid $(cat "$pidfile"))"
    fi
    nohup "$PROMETHEUS_BIN" "${ARGS[@]}" >"$DATA/prometheus.log" 2>&1 &
    echo $! >"$pidfile"
    if ! wait_ready; then
      tail -n 20 "$DATA/prometheus.log" >&2
      die "Prometheus on 127.0.0.1:$PORT did not become ready; log: $DATA/prometheus.log"
    fi
    log "Prometheus ready on http://127.0.0.1:$PORT (pid $(cat "$pidfile"))"
    ;;
  stop)
    parse_flags "$@"
    [[ -n "$DATA" ]] || die "--data DIR is required"
    pidfile="$DATA/prometheus.pid"
    [[ -f "$pidfile" ]] || exit 0
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
    ;;
  *) die "usage: hack/prometheus.sh install|run|start|stop|path [--config FILE --data DIR --port PORT]" ;;
esac
