#!/usr/bin/env bash
# Runs every benchmark under test/bench and prints its figures. Benchmarks measure; they do
# not assert on time (tests assert behaviour).
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
cd "$AVIARY_ROOT"
shopt -s nullglob
benches=(test/bench/*.bench.ts)
((${#benches[@]})) || die "no benchmarks under test/bench"
for bench in "${benches[@]}"; do
  log "== $bench"
  node "$bench"
done
