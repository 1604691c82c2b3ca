{{/*
Optional SecretProviderClass for the Secrets Store CSI driver with the Azure Key Vault provider. The services
read their secrets from Key Vault themselves (KEYVAULT_URI); this is for teams that prefer the CSI driver:
the listed Key Vault secrets are mounted read-only under /mnt/secrets-store and, for objects with an `env`
name, synced into the Secret <service>-keyvault that the container loads with envFrom (the AKS add-on syncs;
the upstream driver chart needs syncSecret.enabled=true). The driver creates that Secret when a pod mounts the
volume, so the pod mounts it even when only env values are wanted.
*/}}
{{- define "dronedelivery.secretproviderclass" -}}
{{- if .Values.secretProviderClass.enabled -}}
{{- $spc := .Values.secretProviderClass -}}
{{- $vault := required (printf "%s: keyVault.uri or global.azure.keyVaultUri is required with secretProviderClass.enabled" .Chart.Name) (include "dronedelivery.vault" .) -}}
{{- if not (regexMatch "^https://[A-Za-z0-9-]+\\.vault\\." $vault) -}}
{{- fail (printf "%s: the Key Vault URI must look like https://<name>.vault.azure.net/, not %s" .Chart.Name $vault) -}}
{{- end -}}
{{- $vaultName := regexReplaceAll "^https://([^.]+)\\..*$" $vault "${1}" -}}
{{- $tenantId := required (printf "%s: global.azure.tenantId is required with secretProviderClass.enabled" .Chart.Name) (dig "azure" "tenantId" "" (.Values.global | default dict)) -}}
{{- $objects := required (printf "%s: secretProviderClass.objects must list at least one Key Vault secret" .Chart.Name) $spc.objects -}}
{{- $mode := include "dronedelivery.identityMode" . -}}
{{- $items := list -}}
{{- range $objects -}}
{{- $items = append $items (dict "objectName" .objectName "objectType" "secret") -}}
{{- end -}}
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  {{- include "dronedelivery.metadata" . | nindent 2 }}
spec:
  provider: azure
  parameters:
    keyvaultName: {{ $vaultName | quote }}
    tenantId: {{ $tenantId | quote }}
    {{- if eq $mode "workload" }}
    usePodIdentity: "false"
    clientID: {{ include "dronedelivery.clientId" . | quote }}
    {{- else }}
    usePodIdentity: "true"
    {{- end }}
    objects: |
      array:
      {{- range $items }}
        - |
          {{- toYaml . | nindent 10 }}
      {{- end }}
  {{- if include "dronedelivery.syncsEnv" . }}
  secretObjects:
    - secretName: {{ include "dronedelivery.syncedSecretName" . }}
      type: Opaque
      labels:
        {{- include "dronedelivery.labels" . | nindent 8 }}
      data:
        {{- range $objects }}
        {{- if .env }}
        - objectName: {{ .objectName }}
          key: {{ .env }}
        {{- end }}
        {{- end }}
  {{- end }}
{{- end -}}
{{- end -}}
