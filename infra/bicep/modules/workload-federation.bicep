// Federated identity credentials: the service account <namespace>/<service> of this cluster may exchange its
// projected token for an Entra token of the service's user-assigned identity (AKS workload identity).

@description('Service names; each is also the name of its Kubernetes service account.')
param services array

@description('Existing user-assigned identity names, one per service (same order).')
param identityNames array

@description('Namespace the charts install into.')
param kubernetesNamespace string

@description('The cluster\'s OIDC issuer URL.')
param oidcIssuerUrl string

resource identities 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = [
  for name in identityNames: {
    name: name
  }
]

// One at a time: Entra ID rejects concurrent writes of federated credentials.
@batchSize(1)
resource credentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [
  for (service, i) in services: {
    parent: identities[i]
    name: 'aks-${kubernetesNamespace}-${service}'
    properties: {
      issuer: oidcIssuerUrl
      subject: 'system:serviceaccount:${kubernetesNamespace}:${service}'
      audiences: [
        'api://AzureADTokenExchange'
      ]
    }
  }
]

output subjects array = [for (service, i) in services: credentials[i].properties.subject]
