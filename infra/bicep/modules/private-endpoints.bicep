// One private endpoint per store in the private-endpoint subnet, registered in its private DNS zone, so the store's
// public host name resolves to a private address inside the VNet (the stores disable public network access).

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('The private-endpoint subnet (network.bicep).')
param subnetId string

@description('[{name, resourceId, groupId, privateDnsZoneId}]: the store, its sub-resource (redisEnterprise, sqlServer, Sql, vault) and its zone.')
param endpoints array

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: 'pe-${endpoint.name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.resourceId
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource dnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.groupId
          properties: {
            privateDnsZoneId: endpoint.privateDnsZoneId
          }
        }
      ]
    }
  }
]

output names array = [for (endpoint, i) in endpoints: privateEndpoints[i].name]
