# Shared settings for aviary's hack/ scripts. Sourced, never executed.
# Everything built or downloaded lives in a cache outside the work tree, keyed by version.

AVIARY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AVIARY_CACHE="${AVIARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aviary}"

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
NODE_VERSION="${NODE_VERSION:-24.21.0}"

# Third-party CRDs come from the Go modules of their projects.
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.4.0}"
# The App Mesh controller publishes its CRDs in its Helm chart, inside the eks-charts module.
EKS_CHARTS_VERSION="${EKS_CHARTS_VERSION:-v0.0.243-0.20260821194545-743f98a89b5b}"
ISTIO_API_VERSION="${ISTIO_API_VERSION:-v1.27.0}"
SMI_VERSION="${SMI_VERSION:-v0.5.0}"
# KEDA's ScaledObject (autoscalerRef). v2.19 is the newest release whose go.mod this Go builds.
KEDA_VERSION="${KEDA_VERSION:-v2.19.0}"
# Contour's HTTPProxy (contour router), from the examples/contour CRD bundle in its module.
CONTOUR_VERSION="${CONTOUR_VERSION:-v1.33.0}"
# Traefik's TraefikService (traefik router), from the CRD reference in its module's docs.
TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.6.12}"

# Kuma's TrafficRoute (kuma router), from the Helm chart in its module; v1.8.1 is the
# newest release the module proxy serves.
KUMA_VERSION="${KUMA_VERSION:-v1.8.1}"
# APISIX's ApisixRoute (apisix router), from the ingress controller's sample CRDs.
APISIX_INGRESS_VERSION="${APISIX_INGRESS_VERSION:-v1.7.1}"

CP_BIN="$AVIARY_CACHE/control-plane/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
CP_LOGS="$AVIARY_CACHE/logs"
HELM_BIN="$AVIARY_CACHE/tools/helm-$HELM_VERSION/helm"
export GOMODCACHE="$AVIARY_CACHE/go/mod"
export GOCACHE="$AVIARY_CACHE/go/build"
export GOFLAGS="-buildvcs=false"
export GOTOOLCHAIN=local

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed; the local control plane is built from the Go module proxy and needs Go >= 1.24 (https://go.dev/dl)"
  local v
  v=$(go env GOVERSION | sed 's/^go//')
  case "$v" in
    1.2[4-9]*|1.[3-9][0-9]*|[2-9].*) ;;
    *) die "Go $v is too old; the local control plane needs Go >= 1.24" ;;
  esac
}
