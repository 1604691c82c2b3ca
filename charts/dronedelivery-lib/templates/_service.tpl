{{/* The service's ClusterIP Service: port servicePort → the container's http port. */}}
{{- define "dronedelivery.service" -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "dronedelivery.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ int64 .Values.service.port }}
      targetPort: http
      protocol: TCP
      appProtocol: http
{{- end -}}

{{/*
The ServiceAccount, named like the service. With workload identity it carries the client id of the service's
user-assigned identity, whose federated credential trusts system:serviceaccount:<namespace>:<service>.
*/}}
{{- define "dronedelivery.serviceaccount" -}}
{{- include "dronedelivery.checkNamespace" . -}}
{{- $clientId := include "dronedelivery.clientId" . -}}
{{- $tenantId := dig "azure" "tenantId" "" (.Values.global | default dict) -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
  {{- if eq (include "dronedelivery.identityMode" .) "workload" }}
  annotations:
    azure.workload.identity/client-id: {{ $clientId | quote }}
    {{- if $tenantId }}
    azure.workload.identity/tenant-id: {{ $tenantId | quote }}
    {{- end }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
