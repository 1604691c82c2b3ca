// One user-assigned managed identity per service. Created without any dependency, so the stores can grant them
// data-plane access while the cluster is still being built; workload-federation.bicep adds the federated
// credentials once the cluster's OIDC issuer exists.

@description('Service names, in the order of names.')
param services array

@description('Identity names, one per service (same order).')
param names array

@description('Region.')
param location string

@description('Tags.')
param tags object

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = [
  for (service, i) in services: {
    name: names[i]
    location: location
    tags: union(tags, {
      'dronedelivery-service': service
    })
  }
]

@description('Per service: {service, name, clientId, principalId, resourceId}; same order as services.')
output identities array = [
  for (service, i) in services: {
    service: service
    name: identities[i].name
    clientId: identities[i].properties.clientId
    principalId: identities[i].properties.principalId
    resourceId: identities[i].id
  }
]
