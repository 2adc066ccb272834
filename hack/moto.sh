#!/usr/bin/env bash
# moto's server as a local CloudWatch API peer for aviary's metric tests and the demo.
# moto[server] is installed from PyPI at a pinned version into a virtualenv in the cache,
# so a second call returns at once and nothing touches the system Python.
#
# Usage:
#   hack/moto.sh install
#   hack/moto.sh run   --port PORT               # foreground (exec); for tests
#   hack/moto.sh start --port PORT [--dir DIR]   # background; pid in DIR/moto.pid
#   hack/moto.sh stop  [--dir DIR]
#   hack/moto.sh path                            # prints the moto_server path
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
MOTO_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/aviary/moto-$MOTO_VERSION"
MOTO_BIN="$MOTO_VENV/bin/moto_server"

install_moto() {
  if [[ -x "$MOTO_BIN" && -f "$MOTO_VENV/.complete" ]]; then
    return 0
  fi
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "python3 not found; moto's server needs Python >= 3.9"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "moto $MOTO_VERSION needs Python >= 3.9 (found $("$py" --version 2>&1))"
  log "installing moto[server]==$MOTO_VERSION into $MOTO_VENV"
  rm -rf "$MOTO_VENV"
  "$py" -m venv "$MOTO_VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    || die "pip install moto[server]==$MOTO_VERSION failed"
  [[ -x "$MOTO_BIN" ]] || die "moto installed but $MOTO_BIN is missing"
  touch "$MOTO_VENV/.complete"
  log "moto $MOTO_VERSION installed"
}

PORT="" DIR="$MOTO_VENV/run"
parse_flags() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) PORT="$2"; shift 2 ;;
      --dir) DIR="$2"; shift 2 ;;
      *) die "unknown flag: $1" ;;
    esac
  done
}

require_port() {
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "--port PORT is required"
  [[ -x "$MOTO_BIN" ]] || die "$MOTO_BIN not found; run: hack/moto.sh install"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  install) install_moto ;;
  path) echo "$MOTO_BIN" ;;
  run)
    parse_flags "$@"
    require_port
    exec "$MOTO_BIN" -H 127.0.0.1 -p "$PORT"
    ;;
  start)
    parse_flags "$@"
    require_port
    mkdir -p "$DIR"
    pidfile="$DIR/moto.pid"
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      die "a moto server is already running (pid $(cat "$pidfile"))"
    fi
    nohup "$MOTO_BIN" -H 127.0.0.1 -p "$PORT" >"$DIR/moto.log" 2>&1 &
    echo $! >"$pidfile"
    for ((i = 0; i < 150; i++)); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/moto-api/" 2>/dev/null; then
        log "moto ready on http://127.0.0.1:$PORT (pid $(cat "$pidfile"))"
        exit 0
      fi
      sleep 0.2
    done
    tail -n 20 "$DIR/moto.log" >&2
    die "moto on 127.0.0.1:$PORT did not become ready; log: $DIR/moto.log"
    ;;
  stop)
    parse_flags "$@"
    pidfile="$DIR/moto.pid"
    [[ -f "$pidfile" ]] || exit 0
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
    ;;
  *) die "usage: hack/moto.sh install|run|start|stop|path [--port PORT] [--dir DIR]" ;;
esac
