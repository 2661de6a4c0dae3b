{{/* Names ---------------------------------------------------------------- */}}
{{- define "prevention.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prevention.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>"; call with (dict "root" $ "component" "identity") */}}
{{- define "prevention.componentName" -}}
{{- printf "%s-%s" (include "prevention.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prevention.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The four gRPC services and who may call each (SPEC 7.1; services/common/mtls.py ALLOWED_CALLERS). */}}
{{- define "prevention.services" -}}identity sharing training assessment{{- end -}}
{{- define "prevention.callers" -}}
identity: [gateway, sharing, training, assessment]
sharing: [gateway, assessment]
training: [gateway, assessment]
assessment: [gateway]
gateway: []
{{- end -}}

{{/* Labels: selectors use name + instance + component only. ----------------- */}}
{{- define "prevention.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prevention.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "prevention.labels" -}}
{{ include "prevention.selectorLabels" . }}
helm.sh/chart: {{ include "prevention.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: prevention-platform
{{- end -}}

{{/* Release-wide labels (no component), for the default-deny policy and shared objects. */}}
{{- define "prevention.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "prevention.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "prevention.releaseLabels" -}}
{{ include "prevention.releaseSelectorLabels" . }}
helm.sh/chart: {{ include "prevention.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: prevention-platform
{{- end -}}

{{/* Image: component values override the shared `image`; a digest wins over the tag. */}}
{{- define "prevention.image" -}}
{{- $img := merge (deepCopy (default dict .values.image)) (deepCopy .root.Values.image) -}}
{{- $repo := ternary $img.repository (printf "%s/%s" $img.registry $img.repository) (empty $img.registry) -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "prevention.imagePullPolicy" -}}
{{- $img := merge (deepCopy (default dict .values.image)) (deepCopy .root.Values.image) -}}
{{- $img.pullPolicy -}}
{{- end -}}

{{- define "prevention.serviceAccountName" -}}
{{- $sa := .values.serviceAccount -}}
{{- if $sa.create -}}
{{- default (include "prevention.componentName" .) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/* Per-service database Secret (chart-rendered when no existingSecret). */}}
{{- define "prevention.databaseSecretName" -}}
{{- $db := get .root.Values.externalDatabase.services .component -}}
{{- default (printf "%s-database" (include "prevention.componentName" .)) $db.existingSecret -}}
{{- end -}}

{{/* Shared, non-secret configuration (SPEC 7.5 names). */}}
{{- define "prevention.config" -}}
{{- $root := . -}}
PREVENTION_PROFILE: {{ .Values.profile | quote }}
PREVENTION_DATA_DIR: "/var/lib/prevention"
PREVENTION_OIDC_ISSUER: {{ printf "%s/realms/%s" (trimSuffix "/" .Values.keycloak.url) .Values.keycloak.realm | quote }}
PREVENTION_OIDC_AUDIENCE: {{ .Values.keycloak.audience | quote }}
{{- with .Values.keycloak.jwksUrl }}
PREVENTION_OIDC_JWKS_URL: {{ . | quote }}
{{- end }}
PREVENTION_KEYCLOAK_URL: {{ trimSuffix "/" .Values.keycloak.url | quote }}
PREVENTION_KEYCLOAK_REALM: {{ .Values.keycloak.realm | quote }}
PREVENTION_KEYCLOAK_ADMIN_CLIENT_ID: {{ .Values.keycloak.adminClientId | quote }}
{{- range $svc := splitList " " (include "prevention.services" .) }}
{{- $v := get $root.Values $svc }}
PREVENTION_{{ upper $svc }}_ADDR: {{ printf "%s:%v" (include "prevention.componentName" (dict "root" $root "component" $svc)) $v.service.port | quote }}
{{- end }}
{{- if .Values.externalS3.enabled }}
PREVENTION_S3_ENDPOINT: {{ .Values.externalS3.endpoint | quote }}
PREVENTION_S3_BUCKET: {{ .Values.externalS3.bucket | quote }}
PREVENTION_S3_SECURE: {{ .Values.externalS3.secure | toString | quote }}
{{- end }}
PREVENTION_GRPC_DRAIN_GRACE_SECONDS: {{ .Values.drainGraceSeconds | toString | quote }}
PREVENTION_GATEWAY_HOST: "0.0.0.0"
PREVENTION_GATEWAY_PORT: {{ .Values.gateway.containerPort | toString | quote }}
{{- with .Values.otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ $root.Values.otel.protocol | quote }}
{{- end }}
{{- end -}}
