#!/usr/bin/env bash
# aviary's whole test suite: typecheck, lint, unit, integration and end-to-end tiers.
#   npm test                      everything; brings the local control plane up when KUBECONFIG is unset
#   npm test -- unit              only typecheck, lint and the unit tier
#   npm test -- integration       only the integration tier
#   npm test -- e2e               only the end-to-end tier
#   npm test -- chaos             the chaos tier (not part of `npm test`): releases while aviary,
#                                 kube-apiserver and etcd are killed, and 300 Canaries over three
#                                 sharded processes, one killed; on a control plane of its own
#   KUBECONFIG=… npm test         the same suites against any other cluster
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/node.sh"
cd "$AVIARY_ROOT"
if [[ ! -d node_modules/.bin ]]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

tier="${1:-all}"
case "$tier" in all|unit|integration|e2e|chaos) ;; *) die "unknown tier '$tier' (all, unit, integration, e2e, chaos)" ;; esac
phase() { # name command...
  local name="$1"; shift
  local started=$SECONDS
  log "== $name"
  "$@"
  log "== $name passed in $((SECONDS - started))s"
}

if [[ "$tier" == all || "$tier" == unit ]]; then
  phase typecheck npx tsc -p tsconfig.json --noEmit
  phase lint npx eslint .
  phase "unit tests" npx mocha --config .mocharc.unit.json
fi

if [[ "$tier" == chaos ]]; then
  # The chaos tier restarts etcd and kube-apiserver, so it never runs on a cluster it did not
  # start: a control plane of its own (own state and ports), wiped before and after.
  export AVIARY_CLUSTER_DIR="$AVIARY_CACHE/chaos-cluster"
  export AVIARY_ETCD_PORT="${AVIARY_CHAOS_ETCD_PORT:-22379}" AVIARY_APISERVER_PORT="${AVIARY_CHAOS_APISERVER_PORT:-26443}"
  export AVIARY_KCM_PORT="${AVIARY_CHAOS_KCM_PORT:-26257}" AVIARY_SCHEDULER_PORT="${AVIARY_CHAOS_SCHEDULER_PORT:-26259}"
  bash "$HACK/cluster" reset >/dev/null
  trap 'bash "$HACK/cluster" reset >/dev/null 2>&1 || true' EXIT
  phase "chaos control plane" bash "$HACK/cluster" up >/dev/null
  KUBECONFIG="$(bash "$HACK/cluster" kubeconfig)"
  export KUBECONFIG PATH="$CP_BIN:$PATH"
  phase "chaos tests" npx mocha --config .mocharc.chaos.json
  exit 0
fi

if [[ "$tier" == all || "$tier" == integration || "$tier" == e2e ]]; then
  if [[ -z "${KUBECONFIG:-}" ]]; then
    phase "local control plane" bash "$HACK/cluster" up >/dev/null
    KUBECONFIG="$(bash "$HACK/cluster" kubeconfig)"
    export KUBECONFIG
    export PATH="$CP_BIN:$PATH"
  fi
  log "tests run against $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null || echo "$KUBECONFIG")"
  if [[ "$tier" != e2e ]]; then
    phase "integration tests" npx mocha --config .mocharc.integration.json
  fi
  if [[ "$tier" != integration ]] && compgen -G "test/e2e/*.test.ts" >/dev/null; then
    phase "end-to-end tests" npx mocha --config .mocharc.e2e.json
  fi
fi
