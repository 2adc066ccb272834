#!/usr/bin/env bash
# Chromium from Debian's package, for the dashboard's browser tests, screenshots and benchmark
# (driven headless over the DevTools protocol with puppeteer-core; nothing is downloaded by npm).
#
# Usage:
#   hack/chromium.sh install     # installs the package when the binary is missing
#   hack/chromium.sh path        # prints the binary path
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_chromium() {
  if [[ -x "$CHROMIUM_BIN" ]]; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install Chromium yourself and set CHROMIUM_BIN"
  log "installing Debian's chromium package (no recommends)"
  apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }
  local rc=0
  if ! apt_install >/dev/null 2>&1; then
    log "install failed; refreshing the package lists and trying again"
    as_root apt-get update >/dev/null 2>&1 || true
    apt_install >/dev/null || rc=$?
  fi
  [[ $rc -eq 0 ]] || die "apt-get install chromium failed (exit $rc)"
  [[ -x "$CHROMIUM_BIN" ]] || die "chromium package installed but $CHROMIUM_BIN is missing"
  log "chromium installed: $("$CHROMIUM_BIN" --version 2>/dev/null | head -1)"
}

case "${1:-}" in
  install) install_chromium ;;
  path) echo "$CHROMIUM_BIN" ;;
  *) die "usage: hack/chromium.sh install|path" ;;
esac
