#!/usr/bin/env bash
# Runs every benchmark under test/bench and prints its figures. Benchmarks measure; they do
# not assert on time (tests assert behaviour). `npm run bench -- dashboard` runs only the
# benchmarks whose file name contains "dashboard".
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
cd "$AVIARY_ROOT"
shopt -s nullglob
benches=(test/bench/*${1:-}*.bench.ts)
((${#benches[@]})) || die "no benchmarks under test/bench${1:+ matching $1}"
for bench in "${benches[@]}"; do
  log "== $bench"
  node "$bench"
done
