{{/* HorizontalPodAutoscaler (autoscaling/v2) on CPU (and memory, when a target is set); not with KEDA. */}}
{{- define "dronedelivery.hpa" -}}
{{- if and .Values.autoscaling.enabled (not (include "dronedelivery.kedaEnabled" .)) -}}
{{- $a := .Values.autoscaling -}}
{{- if gt (int64 $a.minReplicas) (int64 $a.maxReplicas) -}}
{{- fail (printf "%s: autoscaling.minReplicas (%d) exceeds autoscaling.maxReplicas (%d)" .Chart.Name (int64 $a.minReplicas) (int64 $a.maxReplicas)) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "dronedelivery.fullname" . }}
  minReplicas: {{ int64 $a.minReplicas }}
  maxReplicas: {{ int64 $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ int64 $a.targetCPUUtilizationPercentage }}
    {{- if $a.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ int64 $a.targetMemoryUtilizationPercentage }}
    {{- end }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: {{ int64 $a.scaleDownStabilizationSeconds }}
{{- end -}}
{{- end -}}

{{/* PodDisruptionBudget (policy/v1): voluntary evictions (node drains, upgrades) keep the service up. */}}
{{- define "dronedelivery.pdb" -}}
{{- if .Values.pdb.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
spec:
  maxUnavailable: {{ int64 .Values.pdb.maxUnavailable }}
  # A pod that never became ready may be evicted anyway, so a broken rollout cannot block a node drain.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "dronedelivery.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}
