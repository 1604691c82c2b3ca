{{/*
The service's NetworkPolicy. Ingress: only the services that call this one (networkPolicy.callers, pods of
the same namespace selected by app.kubernetes.io/name + part-of=dronedelivery), the ingress controller when
configured (gateway), and any extra peers, on the http port; networkPolicy.managementFrom and the metrics
scraper when scraping is on (_metrics.tpl) on the management port (health, metrics). Egress: DNS, the
services this one calls (downstreams, on downstreamPort), and the external endpoints of its stores and Azure
(networkPolicy.externalEgress, a list of egress rules: Redis 10000, Cosmos DB / Key Vault / Entra ID /
Application Insights 443, Azure SQL 1433 + 11000-11999, ...). Plain NetworkPolicy cannot name FQDNs, so
external egress is by port and CIDR (the private endpoint subnet in production, public Azure for Entra ID).
*/}}
{{- define "dronedelivery.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled -}}
{{- $np := .Values.networkPolicy -}}
{{- $port := int64 .Values.containerPort -}}
{{- $controller := dict -}}
{{- if hasKey $np "ingressController" -}}
{{- $controller = $np.ingressController -}}
{{- end -}}
{{- $callers := list -}}
{{- range $np.callers -}}
{{- $callers = append $callers (dict "podSelector" (dict "matchLabels" (include "dronedelivery.peerLabels" . | fromYaml))) -}}
{{- end -}}
{{- $rules := list -}}
{{- if $callers -}}
{{- $rules = append $rules $callers -}}
{{- end -}}
{{- if $controller.enabled -}}
{{- $rules = append $rules (list (dict "namespaceSelector" $controller.namespaceSelector "podSelector" $controller.podSelector)) -}}
{{- end -}}
{{- if $np.extraIngressFrom -}}
{{- $rules = append $rules $np.extraIngressFrom -}}
{{- end -}}
{{- $management := $np.managementFrom | default list -}}
{{- if include "dronedelivery.scraped" . -}}
{{- $management = concat $management (include "dronedelivery.scraperPeer" . | fromYamlArray) -}}
{{- end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "dronedelivery.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  {{- if or $rules $management }}
  # One rule per kind of caller on the http port: the services that call this one, the ingress controller, extra
  # peers; health and metrics only on the management port, for the scraper (the kubelet probes from the node).
  ingress:
    {{- range $rules }}
    - from:
        {{- toYaml . | nindent 8 }}
      ports:
        - port: {{ $port }}
          protocol: TCP
    {{- end }}
    {{- if $management }}
    - from:
        {{- toYaml $management | nindent 8 }}
      ports:
        - port: {{ int64 $.Values.managementPort }}
          protocol: TCP
    {{- end }}
  {{- else }}
  # Nobody calls this service.
  ingress: []
  {{- end }}
  egress:
    # DNS (CoreDNS in kube-system).
    - to:
        - namespaceSelector:
            {{- toYaml $np.dns.namespaceSelector | nindent 12 }}
          podSelector:
            {{- toYaml $np.dns.podSelector | nindent 12 }}
      ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- if .Values.downstreams }}
    # The services this one calls.
    - to:
        {{- range .Values.downstreams }}
        - podSelector:
            matchLabels:
              {{- include "dronedelivery.peerLabels" . | nindent 14 }}
        {{- end }}
      ports:
        - port: {{ int64 .Values.downstreamPort }}
          protocol: TCP
    {{- end }}
    {{- with $np.externalEgress }}
    # Stores and Azure endpoints outside the cluster.
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- if eq (include "dronedelivery.identityMode" .) "pod" }}
    # AAD Pod Identity: token requests go to the instance metadata endpoint, answered by NMI on the node.
    - to:
        - ipBlock:
            cidr: 169.254.169.254/32
      ports:
        - port: 80
          protocol: TCP
    {{- end }}
{{- end -}}
{{- end -}}
