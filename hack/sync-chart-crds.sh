#!/usr/bin/env bash
# Copies manifests/crds/*.yaml into the Helm chart (manifests/chart/files/), adding the
# annotation that keeps the CRDs, and every Canary, when a release is uninstalled; and copies
# the ClusterRole rules of manifests/rbac/cluster-role.yaml into the chart.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for crd in canaries metrictemplates alertproviders; do
  sed -e 's|^# The schema mirrors src/api/types.ts; .*|# A copy of manifests/crds/ (test/unit/install/chart.test.ts keeps them equal).|' \
      -e '0,/^metadata:$/s||metadata:\n  annotations:\n    helm.sh/resource-policy: keep|' \
      "manifests/crds/$crd.yaml" >"manifests/chart/files/$crd.yaml"
done
# The chart's ClusterRole carries the rules of manifests/rbac/cluster-role.yaml verbatim.
chart_rbac=manifests/chart/templates/rbac.yaml
{
  sed -n '1,/^rules:$/p' "$chart_rbac"
  sed -n '/^rules:$/,$p' manifests/rbac/cluster-role.yaml | tail -n +2
  sed -n '/^---$/,$p' "$chart_rbac"
} >"$chart_rbac.new"
mv "$chart_rbac.new" "$chart_rbac"
