// Key Vault in RBAC mode (no access policies) with purge protection: a deleted vault or secret stays recoverable for
// softDeleteRetentionInDays and cannot be purged earlier. Secrets are written by keyvault-secrets.bicep.

@description('Vault name (3-24 letters, digits and hyphens, globally unique).')
param name string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('Soft-delete retention in days (7-90); the name stays reserved this long after deletion.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Pods read it through its private endpoint; deployments still write secrets through ARM (trusted services).
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Deny'
    }
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
