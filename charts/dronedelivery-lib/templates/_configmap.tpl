{{/*
The service's environment (loaded with envFrom). `config` holds the service's own settings by their
environment names (see services/<service>/README.md; values.schema.json lists the allowed ones, never secrets).
The chart owns the settings that must agree with the rest of the chart: PORT, MANAGEMENT_PORT and HOST (probes, Service),
SERVICE_AUTH_MODE=entra (a cluster has no shared local key pair),
SHUTDOWN_GRACE_MS and SHUTDOWN_DRAIN_DELAY_MS (terminationGracePeriodSeconds), KEYVAULT_URI,
the service-auth settings it can derive (dronedelivery.serviceAuthConfig), the downstream URLs (NetworkPolicy egress), with
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
{{- include "dronedelivery.serviceAuthConfig" (dict "root" . "env" $env) -}}
{{- $_ = set $env "SHUTDOWN_GRACE_MS" (toString (int64 .Values.shutdown.graceMs)) -}}
{{- $_ = set $env "SHUTDOWN_DRAIN_DELAY_MS" (toString (int64 .Values.shutdown.drainDelayMs)) -}}
{{- $vault := include "dronedelivery.keyVaultUri" . -}}
{{- if $vault -}}
{{- $_ = set $env "KEYVAULT_URI" $vault -}}
{{- end -}}
{{- if hasKey $env "APPLICATIONINSIGHTS_CONNECTION_STRING" -}}
{{- fail (printf "%s: the Application Insights connection string comes from a Secret, not config: set global.applicationInsights.existingSecret or .connectionString" .Chart.Name) -}}
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
{{- $insights := dig "applicationInsights" "connectionString" "" (.Values.global | default dict) }}
{{- if and $insights (not (dig "applicationInsights" "existingSecret" "" (.Values.global | default dict))) }}
---
{{- /* The connection string lets anyone send telemetry as this application: a Secret, readable by fewer than a ConfigMap. */}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "dronedelivery.fullname" . }}-appinsights
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "dronedelivery.labels" . | nindent 4 }}
type: Opaque
stringData:
  connection-string: {{ $insights | quote }}
{{- end }}
{{- end -}}

{{/*
The container's env entry for APPLICATIONINSIGHTS_CONNECTION_STRING, from a Secret (secretKeyRef):
global.applicationInsights.existingSecret (key existingSecretKey, default connection-string), else the Secret
<service>-appinsights this chart renders from global.applicationInsights.connectionString; nothing without either.
*/}}
{{- define "dronedelivery.appInsightsEnv" -}}
{{- $ai := dig "applicationInsights" dict (.Values.global | default dict) -}}
{{- $name := "" -}}
{{- $key := "connection-string" -}}
{{- if $ai.existingSecret -}}
{{- $name = $ai.existingSecret -}}
{{- $key = $ai.existingSecretKey | default "connection-string" -}}
{{- else if $ai.connectionString -}}
{{- $name = printf "%s-appinsights" (include "dronedelivery.fullname" .) -}}
{{- end -}}
{{- if $name -}}
- name: APPLICATIONINSIGHTS_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ $name | quote }}
      key: {{ $key | quote }}
{{- end -}}
{{- end -}}

{{/*
Service tokens come from Entra ID on Kubernetes, so each service needs SERVICE_AUTH_TENANT_ID; as a backend (it has
networkPolicy.callers, or is a `backend` component: a new service before it has callers) SERVICE_AUTH_AUDIENCE and
SERVICE_AUTH_CALLERS (an entry per networkPolicy.callers); as a caller (it has downstreams)
SERVICE_AUTH_DOWNSTREAM_AUDIENCES (an entry per downstream). What config leaves empty is built from the global values the umbrella chart shares:
global.azure.tenantId, global.audiences.<service> (application ID URIs) and global.identities.<service> (client ids
of the workload identities); what is still missing fails the render instead of the pod's boot. A list that leaves out
a caller the NetworkPolicy admits (or a downstream the service calls) fails too: those calls would be refused.
*/}}
{{- define "dronedelivery.serviceAuthConfig" -}}
{{- $root := .root -}}
{{- $env := .env -}}
{{- $name := $root.Chart.Name -}}
{{- $global := $root.Values.global | default dict -}}
{{- $identities := $global.identities | default dict -}}
{{- $audiences := $global.audiences | default dict -}}
{{- if not (get $env "SERVICE_AUTH_TENANT_ID") -}}
{{- $tenant := dig "azure" "tenantId" "" $global -}}
{{- $_ := set $env "SERVICE_AUTH_TENANT_ID" (required (printf "%s: config.SERVICE_AUTH_TENANT_ID (or global.azure.tenantId) is required: service tokens come from Entra ID" $name) $tenant) -}}
{{- end -}}
{{- $callers := ($root.Values.networkPolicy | default dict).callers | default list -}}
{{- if or $callers (eq (index ($root.Chart.Annotations | default dict) "dronedelivery.dev/component" | default "") "backend") -}}
{{- if not (get $env "SERVICE_AUTH_AUDIENCE") -}}
{{- $_ := set $env "SERVICE_AUTH_AUDIENCE" (required (printf "%s: config.SERVICE_AUTH_AUDIENCE (or global.audiences.%s) is required: the application ID URI service tokens for %s are issued to" $name $name $name) (get $audiences $name)) -}}
{{- end -}}
{{- if and $callers (not (get $env "SERVICE_AUTH_CALLERS")) -}}
{{- $pairs := list -}}
{{- range $callers -}}
{{- $id := required (printf "%s: config.SERVICE_AUTH_CALLERS (or global.identities.%s, the client id of each caller: %s) is required" $name . (join ", " $callers)) (get $identities .) -}}
{{- $pairs = append $pairs (printf "%s=%s" . $id) -}}
{{- end -}}
{{- $_ := set $env "SERVICE_AUTH_CALLERS" (join "," $pairs) -}}
{{- end -}}
{{- include "dronedelivery.checkServiceMap" (dict "chart" $name "setting" "SERVICE_AUTH_CALLERS" "value" (get $env "SERVICE_AUTH_CALLERS") "names" $callers "why" "networkPolicy.callers admits it") -}}
{{- end -}}
{{- $downstreams := $root.Values.downstreams | default list -}}
{{- if $downstreams -}}
{{- if not (get $env "SERVICE_AUTH_DOWNSTREAM_AUDIENCES") -}}
{{- $pairs := list -}}
{{- range $downstreams -}}
{{- $audience := required (printf "%s: config.SERVICE_AUTH_DOWNSTREAM_AUDIENCES (or global.audiences.%s, the application ID URI of each downstream: %s) is required" $name . (join ", " $downstreams)) (get $audiences .) -}}
{{- $pairs = append $pairs (printf "%s=%s" . $audience) -}}
{{- end -}}
{{- $_ := set $env "SERVICE_AUTH_DOWNSTREAM_AUDIENCES" (join "," $pairs) -}}
{{- end -}}
{{- include "dronedelivery.checkServiceMap" (dict "chart" $name "setting" "SERVICE_AUTH_DOWNSTREAM_AUDIENCES" "value" (get $env "SERVICE_AUTH_DOWNSTREAM_AUDIENCES") "names" $downstreams "why" "the service calls it") -}}
{{- end -}}
{{- end -}}

{{/* Fails unless the `name=value,...` setting names every one of `names`. */}}
{{- define "dronedelivery.checkServiceMap" -}}
{{- $named := list -}}
{{- range splitList "," (toString .value) -}}
{{- $named = append $named (trim (first (splitList "=" .))) -}}
{{- end -}}
{{- range .names -}}
{{- if not (has . $named) -}}
{{- fail (printf "%s: config.%s names no entry for %s, but %s" $.chart $.setting . $.why) -}}
{{- end -}}
{{- end -}}
{{- end -}}
