{{/* The release's full name: every namespaced object and the cluster role are named after it. */}}
{{- define "aviary.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains (default .Chart.Name .Values.nameOverride) .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (default .Chart.Name .Values.nameOverride) | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aviary.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aviary.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aviary.labels" -}}
app.kubernetes.io/name: aviary
app.kubernetes.io/part-of: aviary
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "aviary.selectorLabels" -}}
app.kubernetes.io/name: aviary
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "aviary.replicas" -}}
{{- if .Values.leaderElection.enabled -}}{{ int .Values.leaderElection.replicaCount }}{{- else -}}1{{- end -}}
{{- end -}}

{{/* --shards: an integer from 1 to 256; more than 1 only with leader election (the replicas share the shards). */}}
{{- define "aviary.shards" -}}
{{- $shards := ternary 1 .Values.shards (kindIs "invalid" .Values.shards) -}}
{{- if not (regexMatch "^[0-9]+$" (toString $shards)) -}}
{{- fail (printf "shards: must be an integer from 1 to 256, got %v" $shards) -}}
{{- end -}}
{{- $n := int $shards -}}
{{- if or (lt $n 1) (gt $n 256) -}}
{{- fail (printf "shards: must be an integer from 1 to 256, got %v" $shards) -}}
{{- end -}}
{{- if and (gt $n 1) (not .Values.leaderElection.enabled) -}}
{{- fail "shards: more than 1 needs leaderElection.enabled (the replicas share the shards)" -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/* The API group aviary serves its kinds in (--api-group); anything else fails the render. */}}
{{- define "aviary.apiGroup" -}}
{{- $group := default "aviary.dev" .Values.apiGroup -}}
{{- if not (or (eq $group "aviary.dev") (eq $group "flagger.app")) -}}
{{- fail (printf "apiGroup: must be aviary.dev or flagger.app, got %s" $group) -}}
{{- end -}}
{{- $group -}}
{{- end -}}

{{/* A CRD file of files/ in the group apiGroup names (its name and spec.group). */}}
{{- define "aviary.crd" -}}
{{- $group := include "aviary.apiGroup" .root -}}
{{- .root.Files.Get (printf "files/%s.yaml" .plural) | replace (printf "name: %s.aviary.dev\n" .plural) (printf "name: %s.%s\n" .plural $group) | replace "  group: aviary.dev\n" (printf "  group: %s\n" $group) -}}
{{- end -}}

{{/* Values Flagger's chart has that aviary cannot honour: refused, never ignored. */}}
{{- define "aviary.refuseUnsupported" -}}
{{- if .Values.slack.url -}}
{{- fail "slack.url: aviary has no controller-wide notifier; create an AlertProvider of type slack and list it in each Canary's spec.analysis.alerts" -}}
{{- end -}}
{{- if .Values.msteams.url -}}
{{- fail "msteams.url: aviary has no controller-wide notifier; create an AlertProvider of type msteams and list it in each Canary's spec.analysis.alerts" -}}
{{- end -}}
{{- if not (has (default "kubernetes" .Values.meshProvider) (list "kubernetes" "gatewayapi" "gatewayapi:v1" "gatewayapi:v1beta1" "appmesh" "appmesh:v1beta2" "istio" "nginx" "smi" "linkerd" "contour" "traefik" "skipper" "alb" "gloo" "kuma" "apisix")) -}}
{{- fail (printf "meshProvider: aviary does not serve provider %s (kubernetes, gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, appmesh, appmesh:v1beta2, istio, nginx, smi, linkerd, contour, traefik, skipper, alb, gloo, kuma, apisix)" .Values.meshProvider) -}}
{{- end -}}
{{- end -}}
