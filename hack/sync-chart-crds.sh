#!/usr/bin/env bash
# Copies manifests/crds/*.yaml into the Helm chart (manifests/chart/files/), adding the
# annotation that keeps the CRDs, and every Canary, when a release is uninstalled; and copies
# the ClusterRole rules of manifests/rbac/cluster-role.yaml and the webhook configurations of
# manifests/webhooks.yaml into the chart.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for crd in canaries metrictemplates alertproviders; do
  sed -e 's|^# The schema mirrors src/api/types.ts; .*|# A copy of manifests/crds/ (test/unit/install/chart.test.ts keeps them equal).|' \
      -e '0,/^metadata:$/s||metadata:\n  annotations:\n    helm.sh/resource-policy: keep|' \
      "manifests/crds/$crd.yaml" >"manifests/chart/files/$crd.yaml"
done
# manifests/flagger-compat serves the same kinds in Flagger's group: the CRDs are copies with
# the group (and so the CRD names) changed; test/unit/install/flagger-compat.test.ts checks it.
mkdir -p manifests/flagger-compat/crds
for crd in canaries metrictemplates alertproviders; do
  sed -e 's|^# The schema mirrors src/api/types.ts; .*|# A copy of manifests/crds/'"$crd"'.yaml in the group flagger.app (hack/sync-chart-crds.sh writes it).|' \
      -e 's|^\(# [A-Za-z]* — \)aviary.dev/v1beta1, field-compatible with Flagger.s flagger.app/v1beta1\.|\1flagger.app/v1beta1, served by aviary in place of Flagger.|' \
      -e "s|^  name: $crd.aviary.dev\$|  name: $crd.flagger.app|" \
      -e 's|^  group: aviary.dev$|  group: flagger.app|' \
      "manifests/crds/$crd.yaml" >"manifests/flagger-compat/crds/$crd.yaml"
done
# The chart's ClusterRole carries the rules of manifests/rbac/cluster-role.yaml verbatim.
chart_rbac=manifests/chart/templates/rbac.yaml
{
  sed -n '1,/^rules:$/p' "$chart_rbac"
  sed -n '/^rules:$/,$p' manifests/rbac/cluster-role.yaml | tail -n +2
  sed -n '/^---$/,$p' "$chart_rbac"
} >"$chart_rbac.new"
mv "$chart_rbac.new" "$chart_rbac"
# The chart's webhook configurations are manifests/webhooks.yaml pointed at the release.
{
  cat <<'HEAD'
{{- if .Values.webhook.enabled }}
# The same webhooks as manifests/webhooks.yaml (hack/sync-chart-crds.sh writes this file from
# it), pointed at this release's Service. The configurations keep the name aviary: the
# running aviary writes its CA bundle into the configurations of that name.
HEAD
  sed -n '/^apiVersion:/,$p' manifests/webhooks.yaml | sed \
    -e 's|apiGroups: \["aviary.dev"\]|apiGroups: [{{ include "aviary.apiGroup" . \| quote }}]|' \
    -e 's|^    app.kubernetes.io/name: aviary$|    {{- include "aviary.labels" . \| nindent 4 }}|' \
    -e '/^    app.kubernetes.io\/part-of: aviary$/d' \
    -e 's|name: aviary-webhook$|name: {{ include "aviary.fullname" . }}-webhook|' \
    -e 's|namespace: aviary-system$|namespace: {{ .Release.Namespace }}|' \
    -e 's|values: \["aviary-system", "kube-system"\]|values: [{{ .Release.Namespace \| quote }}, "kube-system"]|' \
    -e "s|system:serviceaccount:aviary-system:aviary'|system:serviceaccount:{{ .Release.Namespace }}:{{ include \"aviary.serviceAccountName\" . }}'|"
  echo '{{- end }}'
} >manifests/chart/templates/webhooks.yaml
