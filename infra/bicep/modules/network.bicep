// The cluster's network: a VNet with a node subnet (Azure CNI overlay: pods get overlay addresses, nodes live here)
// and a private-endpoint subnet, the private DNS zones the stores' endpoints resolve through, and the cluster's own
// outbound public IP (a stable, known address for Entra ID, Application Insights and the registry).
//
// Every store (Azure Managed Redis, Azure SQL, Cosmos DB, Key Vault) is reached only through a private endpoint in
// privateEndpointSubnetPrefix with public network access disabled; the charts' prod NetworkPolicies send store
// traffic to exactly that CIDR (tests/deploy checks both agree).

@description('Public IP name.')
param egressIpName string

@description('VNet name.')
param vnetName string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('Zones of the IP (zone-redundant when all zones of the cluster are listed); empty = no zones.')
param availabilityZones array

@description('VNet address space.')
param addressPrefix string = '10.240.0.0/16'

@description('Node subnet (one address per node).')
param nodeSubnetPrefix string = '10.240.0.0/22'

@description('Private endpoints of the stores; the prod NetworkPolicies allow store ports to this CIDR only.')
param privateEndpointSubnetPrefix string = '10.240.4.0/24'

// Private DNS zone per store kind: the endpoints' A records live here, linked to the VNet.
var privateDnsZoneNames = {
  redis: 'privatelink.redis.azure.net'
  sql: 'privatelink${environment().suffixes.sqlServerHostname}'
  cosmos: 'privatelink.documents.azure.com'
  keyVault: 'privatelink.vaultcore.azure.net'
}

resource egressIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: egressIpName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  zones: empty(availabilityZones) ? null : availabilityZones
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'snet-aks-nodes'
        properties: {
          addressPrefix: nodeSubnetPrefix
        }
      }
      {
        name: 'snet-private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(privateDnsZoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(privateDnsZoneNames): {
    parent: zones[i]
    name: vnetName
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output egressIpName string = egressIp.name
output egressIpId string = egressIp.id
output egressIpAddress string = egressIp.properties.ipAddress
output vnetName string = vnet.name
output nodeSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
output privateEndpointSubnetPrefix string = privateEndpointSubnetPrefix
@description('Private DNS zone resource ids by store kind: {redis, sql, cosmos, keyVault}.')
output privateDnsZoneIds object = {
  redis: resourceId('Microsoft.Network/privateDnsZones', privateDnsZoneNames.redis)
  sql: resourceId('Microsoft.Network/privateDnsZones', privateDnsZoneNames.sql)
  cosmos: resourceId('Microsoft.Network/privateDnsZones', privateDnsZoneNames.cosmos)
  keyVault: resourceId('Microsoft.Network/privateDnsZones', privateDnsZoneNames.keyVault)
}
