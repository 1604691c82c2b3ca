// Azure SQL logical server with Microsoft Entra-only authentication (no SQL logins, no admin password exists) and the
// drone scheduler's database. The dronescheduler identity becomes a contained database user with the one T-SQL step
// in docs/deploy-aks.md: ARM cannot create database users.

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

@description('Object id of the Entra administrator.')
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

@description('Client addresses allowed through the server firewall (the cluster egress IP).')
param allowedIpAddresses array

resource server 'Microsoft.Sql/servers@2023-08-01' = {
  name: serverName
  location: location
  tags: tags
  properties: {
    version: '12.0'
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
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

resource firewall 'Microsoft.Sql/servers/firewallRules@2023-08-01' = [
  for (address, i) in allowedIpAddresses: {
    parent: server
    name: 'aks-egress-${i}'
    properties: {
      startIpAddress: address
      endIpAddress: address
    }
  }
]

output serverName string = server.name
output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
