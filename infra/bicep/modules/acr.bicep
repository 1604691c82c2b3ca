// Container registry for the five service images (dronedelivery/<service>:<tag>). No admin user, no anonymous pull:
// the cluster's kubelet identity pulls with AcrPull, people and pipelines push with their own Entra identity.

@description('Registry name (5-50 letters and digits, globally unique).')
param name string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('SKU.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param sku string

@description('Zone-redundant registry (Premium only).')
param zoneRedundant bool

@description('Object id of the AKS kubelet identity, granted AcrPull.')
param kubeletPrincipalId string

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
    zoneRedundancy: zoneRedundant ? 'Enabled' : 'Disabled'
  }
}

resource kubeletAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, kubeletPrincipalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: kubeletPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = registry.name
output id string = registry.id
output loginServer string = registry.properties.loginServer
