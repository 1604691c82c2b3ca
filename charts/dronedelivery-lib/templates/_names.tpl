{{/*
Names and labels. Every template here is called with the service chart's root context (`.`), so `.Chart`,
`.Values` and `.Release` are the service's.
*/}}

{{/* The service name: the chart name (gateway, workflow, package, dronescheduler, delivery). */}}
{{- define "dronedelivery.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name of every object of a service, its Service and its ServiceAccount: the service name itself, never
prefixed with the release name. Two contracts depend on it: the in-cluster URLs the callers use
(http://<service>:8080) and the subject of the Azure federated credential
(system:serviceaccount:<namespace>:<service>). One drone delivery system per namespace.
*/}}
{{- define "dronedelivery.fullname" -}}
{{- include "dronedelivery.name" . -}}
{{- end -}}

{{- define "dronedelivery.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* app.kubernetes.io/component, declared by each chart as the annotation dronedelivery.dev/component. */}}
{{- define "dronedelivery.component" -}}
{{- required (printf "Chart.yaml of %s needs the annotation dronedelivery.dev/component" .Chart.Name) (index (.Chart.Annotations | default dict) "dronedelivery.dev/component") -}}
{{- end -}}

{{/* app.kubernetes.io/version: the image tag (or the chart's appVersion), made a valid label value. */}}
{{- define "dronedelivery.versionLabel" -}}
{{- $tag := (.Values.image | default dict).tag | default (dig "image" "tag" "" (.Values.global | default dict)) | default .Chart.AppVersion | toString -}}
{{- regexReplaceAll "[^A-Za-z0-9._-]" $tag "_" | trunc 63 | trimAll "._-" -}}
{{- end -}}

{{- define "dronedelivery.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dronedelivery.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dronedelivery.labels" -}}
helm.sh/chart: {{ include "dronedelivery.chart" . }}
{{ include "dronedelivery.selectorLabels" . }}
app.kubernetes.io/version: {{ include "dronedelivery.versionLabel" . | quote }}
app.kubernetes.io/component: {{ include "dronedelivery.component" . }}
app.kubernetes.io/part-of: dronedelivery
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selects the pods of another service of the system (NetworkPolicy peers), whatever release installed it. */}}
{{- define "dronedelivery.peerLabels" -}}
app.kubernetes.io/name: {{ . }}
app.kubernetes.io/part-of: dronedelivery
{{- end -}}

{{/* Metadata block shared by every object of a service. */}}
{{- define "dronedelivery.metadata" -}}
name: {{ include "dronedelivery.fullname" . }}
namespace: {{ .Release.Namespace }}
labels:
  {{- include "dronedelivery.labels" . | nindent 2 }}
{{- end -}}

{{/*
The image reference <registry>/<repository>:<tag>[@<digest>]. Registry and tag fall back to global.image.*;
registry, repository and tag (unless a digest pins the image) are required.
*/}}
{{- define "dronedelivery.image" -}}
{{- $global := .Values.global | default dict -}}
{{- $registry := .Values.image.registry | default (dig "image" "registry" "" $global) -}}
{{- $registry = required (printf "%s: image.registry (or global.image.registry) is required, e.g. myregistry.azurecr.io" .Chart.Name) $registry -}}
{{- $repository := required (printf "%s: image.repository is required, e.g. dronedelivery/%s" .Chart.Name .Chart.Name) .Values.image.repository -}}
{{- $tag := .Values.image.tag | default (dig "image" "tag" "" $global) | toString -}}
{{- $digest := .Values.image.digest | default "" -}}
{{- if not $digest -}}
{{- $tag = required (printf "%s: image.tag (or global.image.tag) is required, or pin image.digest" .Chart.Name) $tag -}}
{{- end -}}
{{- printf "%s/%s" (trimSuffix "/" $registry) $repository -}}
{{- if $tag -}}:{{ $tag }}{{- end -}}
{{- if $digest -}}@{{ $digest }}{{- end -}}
{{- end -}}

{{/* True ("true") when the chart scales with a KEDA ScaledObject instead of the HPA (workflow). */}}
{{- define "dronedelivery.kedaEnabled" -}}
{{- if and (hasKey .Values "keda") .Values.keda.enabled -}}true{{- end -}}
{{- end -}}

{{/* True when the replica count is owned by an autoscaler (HPA or KEDA), so the Deployment omits replicas. */}}
{{- define "dronedelivery.autoscaled" -}}
{{- if or .Values.autoscaling.enabled (include "dronedelivery.kedaEnabled" .) -}}true{{- end -}}
{{- end -}}

{{/* Identity mode: workload (Azure workload identity, the default) or pod (legacy AAD Pod Identity). */}}
{{- define "dronedelivery.identityMode" -}}
{{- $mode := .Values.identity.mode | default "workload" -}}
{{- if not (has $mode (list "workload" "pod")) -}}
{{- fail (printf "%s: identity.mode must be workload or pod, not %s" .Chart.Name $mode) -}}
{{- end -}}
{{- $mode -}}
{{- end -}}

{{/*
The client id of the service's user-assigned identity (`identity.clientId`, else `global.identities.<service>`, which
the umbrella chart shares with the other services); required with workload identity.
*/}}
{{- define "dronedelivery.clientId" -}}
{{- $id := .Values.identity.clientId | default (dig "identities" .Chart.Name "" (.Values.global | default dict)) -}}
{{- if eq (include "dronedelivery.identityMode" .) "workload" -}}
{{- required (printf "%s: identity.clientId (or global.identities.%s) is required with identity.mode=workload (the client id of the service's user-assigned managed identity)" .Chart.Name .Chart.Name) $id -}}
{{- else -}}
{{- $id -}}
{{- end -}}
{{- end -}}

{{/*
Workload identity only works in the namespace the federated credential names. Failing here beats pods that
start and then cannot get a token.
*/}}
{{- define "dronedelivery.checkNamespace" -}}
{{- if eq (include "dronedelivery.identityMode" .) "workload" -}}
{{- $expected := dig "azure" "workloadIdentityNamespace" "" (.Values.global | default dict) -}}
{{- if and $expected (ne $expected .Release.Namespace) -}}
{{- fail (printf "%s: the federated credential trusts system:serviceaccount:%s:%s, but the release namespace is %s (install with -n %s, or set global.azure.workloadIdentityNamespace)" .Chart.Name $expected (include "dronedelivery.fullname" .) .Release.Namespace $expected) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The service's Key Vault: keyVault.uri, else global.azure.keyVaultUri. */}}
{{- define "dronedelivery.vault" -}}
{{- .Values.keyVault.uri | default (dig "azure" "keyVaultUri" "" (.Values.global | default dict)) -}}
{{- end -}}

{{/* The Key Vault URI the service reads its secrets from (KEYVAULT_URI), if any. */}}
{{- define "dronedelivery.keyVaultUri" -}}
{{- if .Values.keyVault.enabled -}}
{{- include "dronedelivery.vault" . -}}
{{- end -}}
{{- end -}}

{{/* The name of the Kubernetes Secret the SecretProviderClass syncs Key Vault secrets into. */}}
{{- define "dronedelivery.syncedSecretName" -}}
{{- printf "%s-keyvault" (include "dronedelivery.fullname" .) -}}
{{- end -}}

{{/* True when the SecretProviderClass syncs at least one Key Vault secret into an environment variable. */}}
{{- define "dronedelivery.syncsEnv" -}}
{{- if .Values.secretProviderClass.enabled -}}
{{- range .Values.secretProviderClass.objects -}}
{{- if .env -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A value for the environment, as the string the service reads. Helm reads numbers in values files as float64,
whose default formatting turns 2592000 into 2.592e+06: whole numbers are printed as integers.
*/}}
{{- define "dronedelivery.envValue" -}}
{{- if kindIs "float64" . -}}
{{- if eq . (float64 (int64 .)) -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds = preStop sleep + SHUTDOWN_GRACE_MS (rounded up to seconds) + margin. The drain
delay (SHUTDOWN_DRAIN_DELAY_MS) runs inside SHUTDOWN_GRACE_MS (the service's grace timer starts at SIGTERM),
so it must be shorter than the grace.
*/}}
{{- define "dronedelivery.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown -}}
{{- if ge (int64 $s.drainDelayMs) (int64 $s.graceMs) -}}
{{- fail (printf "%s: shutdown.drainDelayMs (%d) must be below shutdown.graceMs (%d): the drain runs inside the grace period" .Chart.Name (int64 $s.drainDelayMs) (int64 $s.graceMs)) -}}
{{- end -}}
{{- add (int64 $s.preStopSleepSeconds) (div (add (int64 $s.graceMs) 999) 1000) (int64 $s.marginSeconds) -}}
{{- end -}}
