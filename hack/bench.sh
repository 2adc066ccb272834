#!/usr/bin/env bash
# Runs every benchmark under test/bench and prints its figures; `hack/bench.sh NAME [args]`
# runs only test/bench/NAME.bench.ts with those arguments (e.g. `npm run bench -- judge`,
# `npm run bench -- scale --n 100`).
# Benchmarks measure; they do not assert on time (tests assert behaviour).
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
cd "$AVIARY_ROOT"
shopt -s nullglob
if (($# > 0)); then
  bench="test/bench/$1.bench.ts"
  [[ -f "$bench" ]] || die "no benchmark $bench"
  shift
  log "== $bench"
  exec node "$bench" "$@"
fi
benches=(test/bench/*.bench.ts)
((${#benches[@]})) || die "no benchmarks under test/bench"
for bench in "${benches[@]}"; do
  log "== $bench"
  node "$bench"
done
