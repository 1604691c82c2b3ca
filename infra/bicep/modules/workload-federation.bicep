// Federated identity credentials: the service account <namespace>/<serviceAccount> of this cluster may exchange its
// projected token for an Entra token of its user-assigned identity (AKS workload identity).

@description('[{identityName, namespace, serviceAccount}]: one credential per workload.')
param workloads array

@description('The cluster\'s OIDC issuer URL.')
param oidcIssuerUrl string

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = [
  for workload in workloads: {
    name: workload.identityName
  }
]

// One at a time: Entra ID rejects concurrent writes of federated credentials.
@batchSize(1)
resource credentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [
  for (workload, i) in workloads: {
    parent: identities[i]
    name: 'aks-${workload.namespace}-${workload.serviceAccount}'
    properties: {
      issuer: oidcIssuerUrl
      subject: 'system:serviceaccount:${workload.namespace}:${workload.serviceAccount}'
      audiences: [
        'api://AzureADTokenExchange'
      ]
    }
  }
]

output subjects array = [for (workload, i) in workloads: credentials[i].properties.subject]
