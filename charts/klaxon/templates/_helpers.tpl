{{/* The release's name for Klaxon's objects: the release name when it
already says klaxon, else release-klaxon; fullnameOverride replaces it. */}}
{{- define "klaxon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "klaxon.selectorLabels" -}}
app.kubernetes.io/name: klaxon
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end -}}

{{- define "klaxon.labels" -}}
{{ include "klaxon.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "klaxon.serviceAccountName" -}}
{{- if .Values.serviceAccount.name -}}
{{- .Values.serviceAccount.name -}}
{{- else -}}
{{- printf "%s-controller-manager" (include "klaxon.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The user name the API server gives the manager's service account: the
actor policy lets exactly this user set another actor. */}}
{{- define "klaxon.serviceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "klaxon.serviceAccountName" .) -}}
{{- end -}}

{{/* rules of one of the operator's roles, from the copy of config/rbac
that `make manifests` keeps in files/rbac, so the chart grants what the
kubebuilder markers and the kustomize install grant. */}}
{{- define "klaxon.rules" -}}
{{- $role := .root.Files.Get (printf "files/rbac/%s.yaml" .file) | fromYaml -}}
{{- if not $role.rules -}}
{{- fail (printf "files/rbac/%s.yaml has no rules: run make manifests" .file) -}}
{{- end -}}
{{ toYaml $role.rules }}
{{- end -}}
