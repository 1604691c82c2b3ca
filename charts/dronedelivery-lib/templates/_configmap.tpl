{{/*
The service's environment (loaded with envFrom). `config` holds the service's own settings by their
environment names (see services/<service>/README.md; values.schema.json lists the allowed ones, never secrets).
The chart owns the settings that must agree with the rest of the chart: PORT, MANAGEMENT_PORT and HOST (probes, Service),
SERVICE_AUTH_MODE=entra (a cluster has no shared local key pair),
SHUTDOWN_GRACE_MS and SHUTDOWN_DRAIN_DELAY_MS (terminationGracePeriodSeconds), KEYVAULT_URI,
APPLICATIONINSIGHTS_CONNECTION_STRING (global values), the downstream URLs (NetworkPolicy egress), with
pod identity AZURE_CLIENT_ID, and in a chart with a migration Job (`migration.enabled`, dronescheduler)
DB_MIGRATIONS_RUN=false (true without the Job, unless config sets it). Empty config values are left out, so the
service's own default applies; the settings the service cannot start without are listed in the chart's
annotation dronedelivery.dev/required-config and required here.
*/}}
{{- define "dronedelivery.configData" -}}
{{- $env := dict -}}
{{- range $key, $value := .Values.config -}}
{{- if and (ne (toString $value) "") (not (kindIs "invalid" $value)) -}}
{{- $_ := set $env $key (include "dronedelivery.envValue" $value) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $env "HOST" "0.0.0.0" -}}
{{- $_ = set $env "PORT" (toString (int64 .Values.containerPort)) -}}
{{- $_ = set $env "MANAGEMENT_PORT" (toString (int64 .Values.managementPort)) -}}
{{- /* A cluster has no key pair shared by its pods: service tokens come from Entra ID (workload identity). */ -}}
{{- if ne (get $env "SERVICE_AUTH_MODE" | default "entra" | toString) "entra" -}}
{{- fail (printf "%s: config.SERVICE_AUTH_MODE must be entra on Kubernetes (local mode signs with one local stack's key pair)" .Chart.Name) -}}
{{- end -}}
{{- $_ = set $env "SERVICE_AUTH_MODE" "entra" -}}
{{- $_ = set $env "SHUTDOWN_GRACE_MS" (toString (int64 .Values.shutdown.graceMs)) -}}
{{- $_ = set $env "SHUTDOWN_DRAIN_DELAY_MS" (toString (int64 .Values.shutdown.drainDelayMs)) -}}
{{- $vault := include "dronedelivery.keyVaultUri" . -}}
{{- if $vault -}}
{{- $_ = set $env "KEYVAULT_URI" $vault -}}
{{- end -}}
{{- $insights := dig "applicationInsights" "connectionString" "" (.Values.global | default dict) -}}
{{- if $insights -}}
{{- $_ = set $env "APPLICATIONINSIGHTS_CONNECTION_STRING" $insights -}}
{{- end -}}
{{- $port := int64 .Values.downstreamPort -}}
{{- range .Values.downstreams -}}
{{- $_ = set $env (printf "%s_URL" (upper (replace "-" "_" .))) (printf "http://%s:%d" . $port) -}}
{{- end -}}
{{- if and (eq (include "dronedelivery.identityMode" .) "pod") .Values.identity.clientId -}}
{{- $_ = set $env "AZURE_CLIENT_ID" .Values.identity.clientId -}}
{{- end -}}
{{- /* A chart with `migration` values (dronescheduler) migrates in a Helm hook Job; its pods then skip it. */ -}}
{{- if hasKey .Values "migration" -}}
{{- if .Values.migration.enabled -}}
{{- if eq (get $env "DB_MIGRATIONS_RUN" | default "false" | toString) "true" -}}
{{- fail (printf "%s: config.DB_MIGRATIONS_RUN=true contradicts migration.enabled=true (the migration Job migrates; the pods must not)" .Chart.Name) -}}
{{- end -}}
{{- $_ = set $env "DB_MIGRATIONS_RUN" "false" -}}
{{- else if not (hasKey $env "DB_MIGRATIONS_RUN") -}}
{{- $_ = set $env "DB_MIGRATIONS_RUN" "true" -}}
{{- end -}}
{{- end -}}
{{- $requiredKeys := index (.Chart.Annotations | default dict) "dronedelivery.dev/required-config" | default "" -}}
{{- range splitList "," $requiredKeys -}}
{{- if . -}}
{{- $_ = required (printf "%s: config.%s is required (see services/%s/README.md)" $.Chart.Name . $.Chart.Name) (get $env .) -}}
{{- end -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{- define "dronedelivery.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
data:
  {{- include "dronedelivery.configData" . | nindent 2 }}
{{- end -}}
