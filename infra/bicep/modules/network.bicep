// The cluster's outbound public IP. Owning it (instead of letting AKS create one in the node resource group) gives a
// stable, known egress address, so Azure SQL and Azure Cache for Redis can admit exactly this address in their
// firewalls. Created first, so the stores do not wait for the cluster to be built.

@description('Public IP name.')
param egressIpName string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('Zones of the IP (zone-redundant when all zones of the cluster are listed); empty = no zones.')
param availabilityZones array

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

output egressIpName string = egressIp.name
output egressIpId string = egressIp.id
output egressIpAddress string = egressIp.properties.ipAddress
