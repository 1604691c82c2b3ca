{{/*
The service's Deployment: the image's own command (the built services/<service>/dist/main.js, uid 1000),
listening on containerPort, probed on the platform's health endpoints, hardened, spread over zones and nodes,
and shut down in order: preStop sleep (endpoints removed everywhere) → SIGTERM → readiness 503, drain delay,
in-flight work finishes within SHUTDOWN_GRACE_MS → exit.
*/}}
{{- define "dronedelivery.deployment" -}}
{{- include "dronedelivery.checkNamespace" . -}}
{{- $name := include "dronedelivery.fullname" . -}}
{{- $mode := include "dronedelivery.identityMode" . -}}
{{- $r := .Values.resources | default dict -}}
{{- $requests := required (printf "%s: resources.requests is required" .Chart.Name) $r.requests -}}
{{- $limits := required (printf "%s: resources.limits is required" .Chart.Name) $r.limits -}}
{{- $_ := required (printf "%s: resources.requests.cpu is required" .Chart.Name) $requests.cpu -}}
{{- $_ = required (printf "%s: resources.requests.memory is required" .Chart.Name) $requests.memory -}}
{{- $_ = required (printf "%s: resources.limits.cpu is required" .Chart.Name) $limits.cpu -}}
{{- $_ = required (printf "%s: resources.limits.memory is required" .Chart.Name) $limits.memory -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
spec:
  {{- if not (include "dronedelivery.autoscaled" .) }}
  replicas: {{ int64 .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {{ int64 .Values.rollingUpdate.maxSurge }}
      maxUnavailable: {{ int64 .Values.rollingUpdate.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "dronedelivery.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "dronedelivery.labels" . | nindent 8 }}
        {{- if eq $mode "workload" }}
        azure.workload.identity/use: "true"
        {{- else }}
        aadpodidbinding: {{ .Values.identity.podIdentityBinding | default $name }}
        {{- end }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "dronedelivery.configData" . | sha256sum }}
        {{- with include "dronedelivery.scrapeAnnotations" . }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      # The services never call the Kubernetes API. Workload identity projects its own token volume.
      automountServiceAccountToken: false
      # No <SERVICE>_PORT-style variables: the services read only their own settings.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "dronedelivery.terminationGracePeriodSeconds" . }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "dronedelivery.podSecurityContext" . | nindent 8 }}
      topologySpreadConstraints:
        {{- range $key, $spread := dict "topology.kubernetes.io/zone" .Values.topologySpread.zone "kubernetes.io/hostname" .Values.topologySpread.hostname }}
        - topologyKey: {{ $key }}
          maxSkew: {{ int64 $spread.maxSkew }}
          whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "dronedelivery.selectorLabels" $ | nindent 14 }}
          # Spread each rollout's pods on their own, not old and new together.
          matchLabelKeys:
            - pod-template-hash
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "dronedelivery.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ int64 .Values.containerPort }}
              protocol: TCP
            - name: management
              containerPort: {{ int64 .Values.managementPort }}
              protocol: TCP
          {{- with include "dronedelivery.appInsightsEnv" . }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $name }}
            {{- if include "dronedelivery.syncsEnv" . }}
            - secretRef:
                name: {{ include "dronedelivery.syncedSecretName" . }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /health/startup
              port: management
            periodSeconds: {{ int64 .Values.probes.startup.periodSeconds }}
            timeoutSeconds: {{ int64 .Values.probes.startup.timeoutSeconds }}
            failureThreshold: {{ int64 .Values.probes.startup.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: management
            periodSeconds: {{ int64 .Values.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ int64 .Values.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ int64 .Values.probes.readiness.failureThreshold }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: management
            periodSeconds: {{ int64 .Values.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ int64 .Values.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ int64 .Values.probes.liveness.failureThreshold }}
          lifecycle:
            # The kubelet's own sleep (no shell in the image): endpoints are removed from kube-proxy and the
            # ingress controller before the process gets SIGTERM.
            preStop:
              sleep:
                seconds: {{ int64 .Values.shutdown.preStopSleepSeconds }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "dronedelivery.containerSecurityContext" . | nindent 12 }}
          terminationMessagePolicy: FallbackToLogsOnError
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if .Values.secretProviderClass.enabled }}
            - name: secrets-store
              mountPath: /mnt/secrets-store
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- if .Values.secretProviderClass.enabled }}
        - name: secrets-store
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: {{ $name }}
        {{- end }}
{{- end -}}

{{/*
The pod and container securityContext of every drone delivery pod (the Deployments and the dronescheduler's
migration and seed Jobs): uid/gid 1000 (the image's user), no privilege escalation, read-only root filesystem
(/tmp is an emptyDir), no capabilities, the runtime's default seccomp profile: Pod Security "restricted".
*/}}
{{- define "dronedelivery.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "dronedelivery.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}
