// Azure SQL logical server with Microsoft Entra-only authentication (no SQL logins, no admin password exists) and the
// drone scheduler's database, reached only through its private endpoint. ARM cannot create database users: the
// Entra administrator (by default the migration identity) runs the chart's migration Job, which applies the schema
// and makes the dronescheduler identity a contained user with read/write on the tables only.

@description('Logical server name (globally unique, lowercase).')
param serverName string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('DB_NAME of the drone scheduler.')
param databaseName string

@description('Database SKU object ({name, tier[, family, capacity]}).')
param databaseSku object

@description('Zone-redundant database (vCore tiers).')
param zoneRedundant bool

@description('Entra administrator sid: the object id of a user or group, the client (application) id of an identity.')
param adminObjectId string

@description('Display name or UPN of the Entra administrator.')
param adminLogin string

@description('User, Group or Application.')
@allowed([
  'User'
  'Group'
  'Application'
])
param adminPrincipalType string

resource server 'Microsoft.Sql/servers@2023-08-01' = {
  name: serverName
  location: location
  tags: tags
  properties: {
    version: '12.0'
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Disabled'
    administrators: {
      administratorType: 'ActiveDirectory'
      azureADOnlyAuthentication: true
      login: adminLogin
      sid: adminObjectId
      principalType: adminPrincipalType
      tenantId: tenant().tenantId
    }
  }
}

resource database 'Microsoft.Sql/servers/databases@2023-08-01' = {
  parent: server
  name: databaseName
  location: location
  tags: tags
  sku: databaseSku
  properties: {
    collation: 'SQL_Latin1_General_CP1_CI_AS'
    zoneRedundant: zoneRedundant
    requestedBackupStorageRedundancy: zoneRedundant ? 'Zone' : 'Local'
  }
}

output id string = server.id
output serverName string = server.name
output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
