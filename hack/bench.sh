#!/usr/bin/env bash
# Runs every benchmark under test/bench (or the ones named: `npm run bench -- judge` runs
# test/bench/judge.bench.ts) and prints its figures. Benchmarks measure; they do not assert
# on time (tests assert behaviour).
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
cd "$AVIARY_ROOT"
shopt -s nullglob
if (($#)); then
  benches=()
  for name in "$@"; do
    [[ -f "test/bench/$name.bench.ts" ]] || die "no benchmark test/bench/$name.bench.ts"
    benches+=("test/bench/$name.bench.ts")
  done
else
  benches=(test/bench/*.bench.ts)
fi
((${#benches[@]})) || die "no benchmarks under test/bench"
for bench in "${benches[@]}"; do
  log "== $bench"
  node "$bench"
done
