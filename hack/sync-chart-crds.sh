#!/usr/bin/env bash
# Copies manifests/crds/*.yaml into the Helm chart (manifests/chart/files/), adding the
# annotation that keeps the CRDs, and every Canary, when a release is uninstalled.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for crd in canaries metrictemplates alertproviders; do
  sed -e 's|^# The schema mirrors src/api/types.ts; .*|# A copy of manifests/crds/ (test/unit/install/chart.test.ts keeps them equal).|' \
      -e '0,/^metadata:$/s||metadata:\n  annotations:\n    helm.sh/resource-policy: keep|' \
      "manifests/crds/$crd.yaml" >"manifests/chart/files/$crd.yaml"
done
