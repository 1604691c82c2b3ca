{{/*
Scraping of the service's /metrics (Prometheus text format, on the management port), off by default. Either a PodMonitor
(metrics.podMonitor.enabled: AKS managed Prometheus reads azmonitoring.coreos.com/v1, the Prometheus Operator
monitoring.coreos.com/v1) or prometheus.io/* pod annotations (metrics.scrapeAnnotations). Each setting falls back to
global.metrics.*, so the umbrella chart turns scraping on for every service at once; a chart without a metrics block
renders nothing. With either on, the NetworkPolicy lets the scraper (metrics.scraper) reach the management port.
*/}}
{{- define "dronedelivery.metricsSetting" -}}
{{- $ctx := index . 0 -}}
{{- $path := index . 1 -}}
{{- $local := $ctx.Values.metrics | default dict -}}
{{- $global := dig "metrics" dict ($ctx.Values.global | default dict) -}}
{{- $value := "" -}}
{{- if eq (len $path) 1 -}}
{{- $value = dig (index $path 0) "" $local | default (dig (index $path 0) "" $global) -}}
{{- else -}}
{{- $value = dig (index $path 0) (index $path 1) "" $local | default (dig (index $path 0) (index $path 1) "" $global) -}}
{{- end -}}
{{- if kindIs "map" $value }}{{ toYaml $value }}{{ else }}{{ $value }}{{ end -}}
{{- end -}}

{{- define "dronedelivery.podMonitorEnabled" -}}
{{- if eq (include "dronedelivery.metricsSetting" (list . (list "podMonitor" "enabled"))) "true" }}true{{ end -}}
{{- end -}}

{{- define "dronedelivery.scrapeAnnotationsEnabled" -}}
{{- if eq (include "dronedelivery.metricsSetting" (list . (list "scrapeAnnotations"))) "true" }}true{{ end -}}
{{- end -}}

{{- define "dronedelivery.scraped" -}}
{{- if or (include "dronedelivery.podMonitorEnabled" .) (include "dronedelivery.scrapeAnnotationsEnabled" .) }}true{{ end -}}
{{- end -}}

{{/* Pod annotations for annotation-based scraping (indented by the caller). */}}
{{- define "dronedelivery.scrapeAnnotations" -}}
{{- if include "dronedelivery.scrapeAnnotationsEnabled" . -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ int64 .Values.managementPort | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/* The scraper as a NetworkPolicy peer: AKS managed Prometheus's collector (ama-metrics in kube-system) by default. */}}
{{- define "dronedelivery.scraperPeer" -}}
{{- $namespaces := include "dronedelivery.metricsSetting" (list . (list "scraper" "namespaceSelector")) | fromYaml -}}
{{- $pods := include "dronedelivery.metricsSetting" (list . (list "scraper" "podSelector")) | fromYaml -}}
- namespaceSelector:
    {{- toYaml ($namespaces | default (dict "matchLabels" (dict "kubernetes.io/metadata.name" "kube-system"))) | nindent 4 }}
  podSelector:
    {{- toYaml ($pods | default (dict "matchLabels" (dict "rsName" "ama-metrics"))) | nindent 4 }}
{{- end -}}

{{- define "dronedelivery.podMonitor" -}}
{{- if include "dronedelivery.podMonitorEnabled" . -}}
{{- $labels := include "dronedelivery.metricsSetting" (list . (list "podMonitor" "labels")) | fromYaml -}}
apiVersion: {{ include "dronedelivery.metricsSetting" (list . (list "podMonitor" "apiVersion")) | default "azmonitoring.coreos.com/v1" }}
kind: PodMonitor
metadata:
  name: {{ include "dronedelivery.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "dronedelivery.labels" . | nindent 4 }}
    {{- with $labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "dronedelivery.selectorLabels" . | nindent 6 }}
  podMetricsEndpoints:
    - port: management
      path: /metrics
      interval: {{ include "dronedelivery.metricsSetting" (list . (list "podMonitor" "interval")) | default "30s" }}
{{- end -}}
{{- end -}}
