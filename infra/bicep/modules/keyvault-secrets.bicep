// The two secrets the services read, written from the resources themselves (no value ever passes through a
// parameter or an output), and who may read them.
//
//   applicationinsights-connection-string  every service (telemetry; mounted by the chart's SecretProviderClass)
//   redis-password                          the commands cache's access key: KEDA's operator only (its Redis scaler
//                                           takes no Entra token); the services authenticate with Entra tokens
//
// accessScope 'secret' grants Key Vault Secrets User on each single secret: a service cannot read a secret it does
// not need. accessScope 'vault' grants it on the vault for every service identity (simpler, broader).
//
// Rotation: after regenerating the cache's primary key, deploy again to refresh redis-password; KEDA reads it on its
// next poll.

@description('Existing vault.')
param keyVaultName string

@description('Existing Application Insights component.')
param appInsightsName string

@description('Existing Azure Managed Redis cluster whose default database key KEDA reads.')
param redisName string

@description('Secret name of the Application Insights connection string.')
param appInsightsSecretName string

@description('Secret name of the Redis access key; the platform library maps REDIS_PASSWORD to redis-password.')
param redisPasswordSecretName string

@description('secret = role assignments per secret; vault = one role assignment per identity on the vault.')
@allowed([
  'secret'
  'vault'
])
param accessScope string

@description('Principal ids that read the Application Insights connection string.')
param appInsightsSecretReaderPrincipalIds array

@description('Principal ids that read the Redis access key (KEDA\'s operator).')
param redisPasswordReaderPrincipalIds array

var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource redisDatabase 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' existing = {
  name: '${redisName}/default'
}

resource appInsightsSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: appInsightsSecretName
  properties: {
    value: appInsights.properties.ConnectionString
    contentType: 'text/plain'
  }
}

resource redisPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: redisPasswordSecretName
  properties: {
    value: redisDatabase.listKeys().primaryKey
    contentType: 'text/plain'
  }
}

resource appInsightsSecretReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in appInsightsSecretReaderPrincipalIds: if (accessScope == 'secret') {
    name: guid(appInsightsSecret.id, principalId, secretsUserRoleId)
    scope: appInsightsSecret
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource redisPasswordReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in redisPasswordReaderPrincipalIds: if (accessScope == 'secret') {
    name: guid(redisPasswordSecret.id, principalId, secretsUserRoleId)
    scope: redisPasswordSecret
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource vaultReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in union(appInsightsSecretReaderPrincipalIds, redisPasswordReaderPrincipalIds): if (accessScope == 'vault') {
    name: guid(vault.id, principalId, secretsUserRoleId)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output appInsightsSecretName string = appInsightsSecret.name
output redisPasswordSecretName string = redisPasswordSecret.name
