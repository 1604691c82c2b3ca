{{/*
Helpers of the schema migration and seed Jobs (Helm hooks). Called with a dict: root (the chart's root context),
name (the Job's name, also its pods' app.kubernetes.io/name), component, and where needed events and weight.

The Jobs' pods carry their own app.kubernetes.io/name (dronescheduler-migrate, dronescheduler-seed), so the
Service, the PDB and the service's NetworkPolicy (selector: name + instance) never select them: a Job pod has
no readiness probe and would count as a ready endpoint. Each Job gets a hook NetworkPolicy of its own with the
service's egress, created before it (lower hook weight): on an upgrade the namespace's default-deny policy already
exists, while the chart's ordinary objects are applied only after the pre-upgrade hooks.
*/}}

{{- define "dronescheduler.jobLabels" -}}
{{- $labels := include "dronedelivery.labels" .root | fromYaml -}}
{{- $_ := set $labels "app.kubernetes.io/name" .name -}}
{{- $_ = set $labels "app.kubernetes.io/component" .component -}}
{{- toYaml $labels -}}
{{- end -}}

{{- define "dronescheduler.jobSelectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Hook annotations; a failed hook's objects stay for `kubectl logs` until the next attempt replaces them. */}}
{{- define "dronescheduler.hookAnnotations" -}}
helm.sh/hook: {{ .events }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{/* Metadata of a hook object: name, namespace, labels, hook annotations. */}}
{{- define "dronescheduler.hookMetadata" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "dronescheduler.jobLabels" . | nindent 2 }}
annotations:
  {{- include "dronescheduler.hookAnnotations" . | nindent 2 }}
{{- end -}}

{{/* The Job pods' NetworkPolicy: no ingress; exactly the egress of the service's own NetworkPolicy. */}}
{{- define "dronescheduler.jobNetworkPolicy" -}}
{{- if .root.Values.networkPolicy.enabled -}}
{{- $service := include "dronedelivery.networkpolicy" .root | fromYaml -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "dronescheduler.hookMetadata" . | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "dronescheduler.jobSelectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  # Nobody calls a Job.
  ingress: []
  # The service's egress: DNS, its database and Azure endpoints (Entra ID, Key Vault, Application Insights).
  egress:
    {{- toYaml $service.spec.egress | nindent 4 }}
{{- end -}}
{{- end -}}

{{/*
The pod template of a Job: hardened like the Deployment's pods (same securityContexts, image, /tmp emptyDir,
placement), restartPolicy Never (the Job's backoffLimit retries in fresh pods, whose logs stay readable).
Extra dict keys: identityLabels (a dict), serviceAccountName, container (the container's name, command, env or
envFrom), resources, volumes/volumeMounts extras (secretsStore: mount the SecretProviderClass volume).
*/}}
{{- define "dronescheduler.jobPodTemplate" -}}
{{- $root := .root -}}
{{- $labels := merge (include "dronescheduler.jobLabels" . | fromYaml) .identityLabels ($root.Values.podLabels | default dict) -}}
metadata:
  labels:
    {{- toYaml $labels | nindent 4 }}
  {{- with $root.Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ .serviceAccountName }}
  # Workload identity projects its own token volume; the commands never call the Kubernetes API.
  automountServiceAccountToken: false
  enableServiceLinks: false
  restartPolicy: Never
  {{- with $root.Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "dronedelivery.podSecurityContext" $root | nindent 4 }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .container.name }}
      image: {{ include "dronedelivery.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      {{- toYaml (omit .container "name") | nindent 6 }}
      resources:
        {{- toYaml .resources | nindent 8 }}
      securityContext:
        {{- include "dronedelivery.containerSecurityContext" $root | nindent 8 }}
      terminationMessagePolicy: FallbackToLogsOnError
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if .secretsStore }}
        - name: secrets-store
          mountPath: /mnt/secrets-store
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.tmpSizeLimit }}
    {{- if .secretsStore }}
    - name: secrets-store
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes:
          secretProviderClass: {{ include "dronedelivery.fullname" $root }}
    {{- end }}
{{- end -}}
