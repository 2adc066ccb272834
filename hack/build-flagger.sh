#!/usr/bin/env bash
# Builds Flagger from its Go module into the cache, for side-by-side benchmarks
# (`npm run bench -- scale --flagger`), and copies its CRDs from the same module.
# Cached by version: a finished build returns at once. Prints the directory holding
# `flagger` and `crd.yaml`. Usage: hack/build-flagger.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLAGGER_VERSION="${FLAGGER_VERSION:-v1.41.0}"
DIR="$AVIARY_CACHE/tools/flagger-$FLAGGER_VERSION"
if [[ "${1:-}" != "--force" && -x "$DIR/flagger" && -f "$DIR/crd.yaml" ]]; then
  echo "$DIR"
  exit 0
fi
require_go
mkdir -p "$DIR" "$CP_LOGS" "$GOMODCACHE" "$GOCACHE"
BUILD_LOG="$CP_LOGS/build-flagger-$FLAGGER_VERSION.log"
log "building Flagger $FLAGGER_VERSION from its Go module (a few minutes on 2 cores); log: $BUILD_LOG"
started=$SECONDS
# The module's go.mod has no replace directives, so `go install module@version` builds it as released.
CGO_ENABLED=0 GOBIN="$DIR" go install -trimpath -ldflags "-s -w" "github.com/fluxcd/flagger/cmd/flagger@$FLAGGER_VERSION" >"$BUILD_LOG" 2>&1 \
  || { tail -n 30 "$BUILD_LOG" >&2; die "building Flagger $FLAGGER_VERSION failed; full log: $BUILD_LOG"; }
moddir=$(go mod download -json "github.com/fluxcd/flagger@$FLAGGER_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -f "$moddir/artifacts/flagger/crd.yaml" ]] || die "Flagger $FLAGGER_VERSION's module has no artifacts/flagger/crd.yaml"
cp "$moddir/artifacts/flagger/crd.yaml" "$DIR/crd.yaml"
chmod u+w "$DIR/crd.yaml"
log "Flagger $FLAGGER_VERSION built in $((SECONDS - started))s: $DIR"
echo "$DIR"
