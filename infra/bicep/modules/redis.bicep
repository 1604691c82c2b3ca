// Azure Cache for Redis for the gateway (request records, idempotency keys, the command stream), the workflow (its
// consumer group and saga keys) and the delivery service. TLS only (port 6380), TLS 1.2+, Entra authentication
// enabled with a data access policy per service identity, firewall limited to the cluster's egress IP.
//
// Access keys are still ENABLED: the services authenticate with Entra tokens when REDIS_AUTH=entra (the charts'
// examples), but REDIS_AUTH=password deployments use the key that keyvault-secrets.bicep copies into Key Vault. Set
// disableAccessKeyAuthentication to true once every client uses tokens (docs/deploy-aks.md).
//
// Non-clustered (no shardCount): the services' Lua scripts touch keys in several hash slots.
// maxmemory-policy noeviction: this is a store of record (the stream, request records), not a cache; a full
// cache must refuse writes (the services answer 503) instead of silently evicting data.

@description('Cache name (globally unique).')
param name string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('{name: Basic|Standard|Premium, family: C|P, capacity}.')
param sku object

@description('Zone-redundant placement of primary and replica (Premium only).')
param zoneRedundant bool

@description('AOF persistence to a storage account through a managed identity (Premium only).')
param persistence bool

@description('Storage account for AOF files (created only when persistence is on).')
param persistenceStorageAccountName string

@description('Client addresses allowed through the cache firewall (the cluster egress IP).')
param allowedIpAddresses array

@description('Identities granted the built-in Data Contributor access policy: [{alias, principalId}].')
param dataContributors array

var isPremium = sku.name == 'Premium'
var usePersistence = persistence && isPremium
var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var persistenceBlobEndpoint = 'https://${persistenceStorageAccountName}.blob.${environment().suffixes.storage}/'

// The cache reaches its persistence storage with this identity: no storage key is ever handed to the cache.
resource persistenceIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (usePersistence) {
  name: 'id-${name}-persistence'
  location: location
  tags: tags
}

resource persistenceStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = if (usePersistence) {
  name: persistenceStorageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource persistenceWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (usePersistence) {
  name: guid(persistenceStorage.id, persistenceIdentity.id, blobDataContributorRoleId)
  scope: persistenceStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributorRoleId)
    principalId: persistenceIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

var baseConfiguration = {
  'aad-enabled': 'true'
  'maxmemory-policy': 'noeviction'
}
var persistenceConfiguration = {
  'aof-backup-enabled': 'true'
  'aof-storage-connection-string-0': persistenceBlobEndpoint
  'preferred-data-persistence-auth-method': 'ManagedIdentity'
  'storage-subscription-id': subscription().subscriptionId
}

resource redis 'Microsoft.Cache/redis@2024-11-01' = {
  name: name
  location: location
  tags: tags
  identity: usePersistence
    ? {
        type: 'UserAssigned'
        userAssignedIdentities: {
          '${persistenceIdentity.id}': {}
        }
      }
    : null
  properties: {
    sku: sku
    redisVersion: '6'
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    disableAccessKeyAuthentication: false
    // AOF allows one replica per primary; zones are chosen by the service when zone redundancy is requested.
    replicasPerPrimary: isPremium ? 1 : null
    zonalAllocationPolicy: isPremium && zoneRedundant ? 'Automatic' : null
    redisConfiguration: usePersistence ? union(baseConfiguration, persistenceConfiguration) : baseConfiguration
  }
  dependsOn: [
    persistenceWriter
  ]
}

resource firewall 'Microsoft.Cache/redis/firewallRules@2024-11-01' = [
  for (address, i) in allowedIpAddresses: {
    parent: redis
    name: 'allowed${i}'
    properties: {
      startIP: address
      endIP: address
    }
  }
]

// Entra ID data access: what REDIS_AUTH=entra clients are allowed. Assignments on one cache must not run
// concurrently.
@batchSize(1)
resource dataAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-11-01' = [
  for contributor in dataContributors: {
    parent: redis
    name: guid(redis.id, contributor.principalId, 'Data Contributor')
    properties: {
      accessPolicyName: 'Data Contributor'
      objectId: contributor.principalId
      objectIdAlias: contributor.alias
    }
  }
]

output name string = redis.name
output hostName string = redis.properties.hostName
output sslPort int = redis.properties.sslPort
