#!/usr/bin/env bash
# Builds the local control plane from the Go module proxy into the cache:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (one Kubernetes
# release), etcd and kwok. A finished build is marked with a stamp file, so every later
# call returns at once. Usage: hack/build-control-plane.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STAMP="$CP_BIN/.complete"
if [[ "${1:-}" != "--force" && -f "$STAMP" ]]; then
  exit 0
fi
require_go
mkdir -p "$CP_BIN" "$CP_LOGS" "$GOMODCACHE" "$GOCACHE"
BUILD_LOG="$CP_LOGS/build-control-plane.log"
: >"$BUILD_LOG"
log "building the local control plane (Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
log "first build on a machine takes 10-25 minutes on 2 cores; later runs reuse $CP_BIN"
log "build log: $BUILD_LOG"

export CGO_ENABLED=0

# Runs one build step with its output in the build log; prints a line a minute so a long
# build never looks hung, and the log's tail with its path when the step fails.
run_logged() {
  local what="$1"; shift
  local started=$SECONDS
  log "  $what ..."
  ( while sleep 60; do log "  ... $what: still building ($((SECONDS - started))s)"; done ) &
  local beat=$! rc=0
  "$@" >>"$BUILD_LOG" 2>&1 || rc=$?
  kill "$beat" 2>/dev/null || true
  wait "$beat" 2>/dev/null || true
  if ((rc != 0)); then
    tail -n 30 "$BUILD_LOG" >&2
    die "building $what failed; full log: $BUILD_LOG"
  fi
  log "  $what done in $((SECONDS - started))s"
}

# --- Kubernetes: a wrapper module that requires k8s.io/kubernetes and replaces every
# staging module (listed in that release's own go.mod) with its published v0.<minor>.<patch>.
build_kubernetes() {
  local work="$AVIARY_CACHE/control-plane/wrapper-$KUBE_VERSION"
  local staging_version="v0.${KUBE_VERSION#v1.}"
  mkdir -p "$work"
  go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >"$work/download.json"
  local kmod
  kmod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$work/download.json")
  {
    echo "module aviary.local/control-plane"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$kmod" \
      | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } >"$work/go.mod"
  # A main package is needed for the module to be buildable with -mod=mod.
  printf 'package main\n\nfunc main() {}\n' >"$work/main.go"

  local ldflags="-s -w"
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  (
    cd "$work"
    for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      [[ -x "$CP_BIN/$cmd" && "${1:-}" != "--force" ]] && continue
      run_logged "$cmd" go build -mod=mod -trimpath -ldflags "$ldflags" -o "$CP_BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
  )
}

# etcd's server module is a main package, but its go.mod replaces its sibling modules with
# relative paths, so `go install module@version` refuses it: build it from a wrapper module
# that pins those siblings to their published versions of the same release.
build_etcd() {
  [[ -x "$CP_BIN/etcd" ]] && return 0
  local work="$AVIARY_CACHE/control-plane/wrapper-etcd-$ETCD_VERSION"
  mkdir -p "$work"
  {
    echo "module aviary.local/etcd"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
      echo "replace go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $ETCD_VERSION"
    done
  } >"$work/go.mod"
  printf 'package main\n\nfunc main() {}\n' >"$work/main.go"
  (
    cd "$work"
    run_logged "etcd $ETCD_VERSION" go build -mod=mod -trimpath -ldflags "-s -w" -o "$CP_BIN/etcd" go.etcd.io/etcd/server/v3
  )
}

build_kwok() {
  [[ -x "$CP_BIN/kwok" ]] && return 0
  run_logged "kwok $KWOK_VERSION" env GOBIN="$CP_BIN" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

started=$SECONDS
build_etcd
build_kwok
build_kubernetes "${1:-}"
touch "$STAMP"
log "control plane built in $((SECONDS - started))s: $CP_BIN"
