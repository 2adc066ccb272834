#!/usr/bin/env bash
# Builds the helm CLI from its Go module into the cache (once per version) and prints its path.
# The Helm end-to-end test uses it to install an ordinary chart the way users do.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -x "$HELM_BIN" ]]; then
  require_go
  mkdir -p "$(dirname "$HELM_BIN")" "$CP_LOGS"
  log "building helm $HELM_VERSION from the Go module proxy (once; about 2 minutes on 2 cores)"
  if ! CGO_ENABLED=0 GOBIN="$(dirname "$HELM_BIN")" go install -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$CP_LOGS/build-helm.log" 2>&1; then
    tail -n 20 "$CP_LOGS/build-helm.log" >&2
    die "building helm failed; log: $CP_LOGS/build-helm.log"
  fi
fi
echo "$HELM_BIN"
