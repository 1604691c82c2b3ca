// Cosmos DB for NoSQL for the package service: account with local (key) auth disabled, the database and the packages
// container with exactly the definition the service uses (services/package/src/packages/packages.container.ts:
// partition key /id, only ownerId/createdAt/weight indexed, composite index ownerId+createdAt), and the data-plane
// role for the package identity. With Entra auth the service cannot create databases or containers itself, so they
// must exist here; tests/deploy checks that this definition matches the code.

@description('Account name (3-44 lowercase letters, digits and hyphens, globally unique).')
param accountName string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('COSMOS_DATABASE of the package service.')
param databaseName string

@description('COSMOS_CONTAINER of the package service.')
param containerName string

@description('Autoscale maximum RU/s of the container.')
param autoscaleMaxThroughput int

@description('Zone-redundant region.')
param zoneRedundant bool

@description('Principal ids granted Cosmos DB Built-in Data Contributor on the database (the package identity).')
param dataContributorPrincipalIds array

// Cosmos DB Built-in Data Contributor (data plane role, not an Azure RBAC role).
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    // Session is what the package service assumes (README: correctness never depends on cross-replica reads).
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: zoneRedundant
      }
    ]
    // Entra ID only: account keys cannot be used for data access, and nobody can change metadata with a key.
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    // Reached through its private endpoint only (main.bicep).
    publicNetworkAccess: 'Disabled'
    // Point-in-time restore into a new account (the rollback path for data, docs/deploy-aks.md).
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
        version: 2
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/ownerId/?'
          }
          {
            path: '/createdAt/?'
          }
          {
            path: '/weight/?'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/ownerId'
              order: 'ascending'
            }
            {
              path: '/createdAt'
              order: 'ascending'
            }
          ]
        ]
      }
    }
    options: {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

resource dataContributors 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [
  for principalId in dataContributorPrincipalIds: {
    parent: account
    name: guid(account.id, databaseName, principalId, dataContributorRoleId)
    properties: {
      roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
      principalId: principalId
      // The package service's database only (reads account metadata, reads and writes items, no account changes).
      scope: '${account.id}/dbs/${databaseName}'
    }
    dependsOn: [
      database
    ]
  }
]

output id string = account.id
output accountName string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output containerName string = container.name
