#!/usr/bin/env bash
# The local demo (`npm run demo`): on the local control plane, aviary promotes a good release
# step by step and rolls back a bad one, printing a line each time the Canary changes; then the
# judge promotes a good release through a shared incident and rolls back a subtle regression.
#
#   npm run demo                       run both releases; leaves the cluster and Prometheus up
#   npm run demo -- --down             the same, then stop Prometheus and the control plane
#   npm run demo -- --stay             keep aviary and the simulated mesh running afterwards
#   npm run demo -- --no-judge         skip the judge's two releases (or AVIARY_DEMO_JUDGE=0)
#   AVIARY_DEMO_DOWN=1 npm run demo    same as --down
#
# AVIARY_DEMO_PROMETHEUS_PORT (default 19090), AVIARY_DEMO_DASHBOARD_PORT (default 8080),
# AVIARY_DEMO_NAMESPACE (default aviary-demo) and
# AVIARY_DEMO_INTERVAL (default 5s) change what their names say; AVIARY_DEMO_WEBHOOK=0 runs
# aviary without its admission webhook. A second run reuses the running control plane and
# Prometheus and recreates the demo namespace.
set -euo pipefail
HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HACK/lib.sh"

DOWN="${AVIARY_DEMO_DOWN:-0}"
PASS=()
for arg in "$@"; do
  case "$arg" in
    --down) DOWN=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) PASS+=("$arg") ;;
  esac
done

STATE="$AVIARY_CACHE/demo"
STARTED=$SECONDS
mkdir -p "$STATE"

echo "aviary demo: a good release promoted, a bad one rolled back, on a real local control plane."
if [[ -f "$CP_BIN/.complete" ]]; then
  echo "The local control plane is already built; this takes about a minute."
else
  echo "First run on this machine: the local Kubernetes control plane is built from the Go module"
  echo "proxy first (10-25 minutes on 2 cores, progress below every minute); later runs take about a minute."
fi
echo

source "$HACK/node.sh"
cd "$AVIARY_ROOT"
if [[ ! -d node_modules/prom-client || ! -d node_modules/@kubernetes/client-node ]]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

log "local control plane"
bash "$HACK/cluster" up >/dev/null
KUBECONFIG="$(bash "$HACK/cluster" kubeconfig)"
export KUBECONFIG
export PATH="$CP_BIN:$PATH"

bash "$HACK/prometheus.sh" install
log "ready after $((SECONDS - STARTED))s; starting the demo"
echo

rc=0
node demo/run.ts --state-dir "$STATE" "${PASS[@]}" || rc=$?

if [[ "$DOWN" == 1 ]]; then
  echo
  log "--down: stopping Prometheus and the local control plane"
  bash "$HACK/prometheus.sh" stop --data "$STATE/prometheus"
  bash "$HACK/cluster" down
fi
log "demo script done in $((SECONDS - STARTED))s (exit $rc)"
exit "$rc"
