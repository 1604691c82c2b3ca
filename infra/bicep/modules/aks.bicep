// The AKS cluster: Entra ID + Azure RBAC (no local accounts), OIDC issuer + workload identity, Key Vault Secrets Store
// CSI driver with rotation, Azure CNI overlay with Cilium (network policy enforced), autoscaled system and user pools
// across zones in the VNet's node subnet, the application routing add-on (managed NGINX ingress, class
// webapprouting.kubernetes.azure.com), the KEDA add-on (the workflow scales on its stream), the managed Prometheus
// metrics add-on (prometheus.bicep), and our own egress IP.

@description('Cluster name (also the DNS prefix).')
param name string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('Kubernetes version; empty = the region default.')
param kubernetesVersion string

@description('Control plane tier.')
@allowed([
  'Free'
  'Standard'
  'Premium'
])
param skuTier string

@description('Availability zones of both node pools; empty = none.')
param availabilityZones array

@description('{vmSize, minCount, maxCount} of the system pool.')
param systemNodePool object

@description('{vmSize, minCount, maxCount} of the user pool.')
param userNodePool object

@description('CIDRs allowed to reach the API server; empty = any.')
param apiServerAuthorizedIpRanges array

@description('Existing public IP (network.bicep) used for all outbound traffic.')
param egressIpName string

@description('Existing VNet (network.bicep) and its node subnet.')
param vnetName string

@description('Resource id of the node subnet.')
param nodeSubnetId string

@description('Log Analytics workspace for control plane logs.')
param logAnalyticsWorkspaceId string

@description('Object id granted Azure Kubernetes Service RBAC Cluster Admin; empty = nobody.')
param clusterAdminPrincipalId string

@description('Type of clusterAdminPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param clusterAdminPrincipalType string

@description('Pod CIDR of the overlay network (not routed in any VNet).')
param podCidr string = '10.244.0.0/16'

@description('Kubernetes service CIDR.')
param serviceCidr string = '10.0.0.0/16'

@description('Cluster DNS service IP, inside serviceCidr.')
param dnsServiceIp string = '10.0.0.10'

var networkContributorRoleId = '4d97b98b-1d4f-4787-a291-c67834d212e7'
var aksRbacClusterAdminRoleId = 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'
var aksClusterUserRoleId = '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'

// A user-assigned control plane identity exists before the cluster, so it can be allowed to use the egress IP
// (which lives outside the node resource group) before the cluster is created.
resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}-control-plane'
  location: location
  tags: tags
}

resource egressIp 'Microsoft.Network/publicIPAddresses@2024-05-01' existing = {
  name: egressIpName
}

resource egressIpNetworkContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(egressIp.id, controlPlaneIdentity.id, networkContributorRoleId)
  scope: egressIp
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributorRoleId)
    principalId: controlPlaneIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: vnetName
}

// Nodes join a subnet the cluster does not own: the control plane manages their load balancer rules in it.
resource vnetNetworkContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vnet.id, controlPlaneIdentity.id, networkContributorRoleId)
  scope: vnet
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributorRoleId)
    principalId: controlPlaneIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource cluster 'Microsoft.ContainerService/managedClusters@2025-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: skuTier
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${controlPlaneIdentity.id}': {}
    }
  }
  properties: {
    kubernetesVersion: empty(kubernetesVersion) ? null : kubernetesVersion
    dnsPrefix: name
    enableRBAC: true
    // Entra ID sign-in and Azure RBAC only: no static admin kubeconfig exists.
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      tenantID: tenant().tenantId
    }
    apiServerAccessProfile: {
      authorizedIPRanges: apiServerAuthorizedIpRanges
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
      imageCleaner: {
        enabled: true
        intervalHours: 168
      }
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      networkDataplane: 'cilium'
      networkPolicy: 'cilium'
      podCidr: podCidr
      serviceCidr: serviceCidr
      dnsServiceIP: dnsServiceIp
      loadBalancerSku: 'standard'
      outboundType: 'loadBalancer'
      loadBalancerProfile: {
        outboundIPs: {
          publicIPs: [
            {
              id: egressIp.id
            }
          ]
        }
      }
    }
    ingressProfile: {
      webAppRouting: {
        enabled: true
      }
    }
    // The KEDA add-on: its operator (kube-system/keda-operator) authenticates with workload identity
    // (main.bicep federates the keda identity), e.g. to read the Redis key from Key Vault for the workflow's scaler.
    workloadAutoScalerProfile: {
      keda: {
        enabled: true
      }
    }
    // Managed Prometheus: the metrics add-on (ama-metrics) and kube-state-metrics; prometheus.bicep associates the
    // data collection rule that sends to the Azure Monitor workspace.
    azureMonitorProfile: {
      metrics: {
        enabled: true
        kubeStateMetrics: {
          metricLabelsAllowlist: ''
          metricAnnotationsAllowList: ''
        }
      }
    }
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true
        config: {
          enableSecretRotation: 'true'
          rotationPollInterval: '2m'
        }
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        vmSize: systemNodePool.vmSize
        count: systemNodePool.minCount
        enableAutoScaling: true
        minCount: systemNodePool.minCount
        maxCount: systemNodePool.maxCount
        availabilityZones: empty(availabilityZones) ? null : availabilityZones
        vnetSubnetID: nodeSubnetId
        // Application pods go to the user pool; only critical add-ons (and DaemonSets) run here.
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
      {
        name: 'apps'
        mode: 'User'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        vmSize: userNodePool.vmSize
        count: userNodePool.minCount
        enableAutoScaling: true
        minCount: userNodePool.minCount
        maxCount: userNodePool.maxCount
        availabilityZones: empty(availabilityZones) ? null : availabilityZones
        vnetSubnetID: nodeSubnetId
        upgradeSettings: {
          maxSurge: '33%'
        }
      }
    ]
    autoScalerProfile: {
      'balance-similar-node-groups': 'true'
      expander: 'least-waste'
      'scan-interval': '10s'
      'scale-down-unneeded-time': '10m'
      'scale-down-delay-after-add': '10m'
      'skip-nodes-with-system-pods': 'true'
    }
    autoUpgradeProfile: {
      upgradeChannel: 'patch'
      nodeOSUpgradeChannel: 'NodeImage'
    }
  }
  dependsOn: [
    egressIpNetworkContributor
    vnetNetworkContributor
  ]
}

resource clusterAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(clusterAdminPrincipalId)) {
  name: guid(cluster.id, clusterAdminPrincipalId, aksRbacClusterAdminRoleId)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', aksRbacClusterAdminRoleId)
    principalId: clusterAdminPrincipalId
    principalType: clusterAdminPrincipalType
  }
}

// Lets the administrator fetch the (Entra-only) kubeconfig with az aks get-credentials.
resource clusterUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(clusterAdminPrincipalId)) {
  name: guid(cluster.id, clusterAdminPrincipalId, aksClusterUserRoleId)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', aksClusterUserRoleId)
    principalId: clusterAdminPrincipalId
    principalType: clusterAdminPrincipalType
  }
}

// Control plane logs (API server, audit of writes, autoscaler, Entra guard) to Log Analytics.
resource controlPlaneLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'control-plane-to-log-analytics'
  scope: cluster
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'kube-apiserver'
        enabled: true
      }
      {
        category: 'kube-audit-admin'
        enabled: true
      }
      {
        category: 'cluster-autoscaler'
        enabled: true
      }
      {
        category: 'guard'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = cluster.name
output id string = cluster.id
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL
output kubeletObjectId string = cluster.properties.identityProfile.kubeletidentity.objectId
output nodeResourceGroup string = cluster.properties.nodeResourceGroup
