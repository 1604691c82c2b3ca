// Microsoft Entra app registrations (Microsoft Graph Bicep extension; the alias is declared in ../bicepconfig.json):
//   - the public API of the gateway: users' tokens (v2.0, aud = its client id), one delegated scope, the gateway's
//     app roles (AUTH_OPS_ROLE, AUTH_LOADTEST_ROLE), the Azure CLI pre-authorised for the scope;
//   - one registration per backend, whose application ID URI is the audience of the service-to-service tokens its
//     callers' workload identities get for it (SERVICE_AUTH_AUDIENCE; the charts' global.audiences.<service>).
// Each gets a service principal, without which Entra issues no token for it in this tenant.
//
// Application ID URIs are api://<tenant id>/<unique name>, one of the formats Entra accepts for single-tenant apps;
// api://<appId> cannot be written in the declaration that creates the app (its appId does not exist yet).
//
// main.bicep calls this module twice with the same names: a pre-authorised application must name a scope that
// already exists, so the first call creates the scopes and the second adds preAuthorizedApplications.
//
// Graph resources live in the tenant, not in the resource group: deleting the group leaves them (docs/deploy-aks.md,
// "Tear down").
extension microsoftGraphV1

@description('Prefix of every registration\'s unique name (Graph\'s idempotency key; it cannot change later) and display name.')
@minLength(3)
param uniqueNamePrefix string

@description('The services other services call: each gets an app registration whose application ID URI is its audience.')
param backends array

@description('Value of the operators\' app role: the gateway\'s AUTH_OPS_ROLE.')
param opsRole string

@description('Value of the load generators\' app role: the gateway\'s AUTH_LOADTEST_ROLE.')
param loadTestRole string

@description('Client applications pre-authorised for the API\'s scope (no consent prompt); empty on the first call, while the scope does not exist yet.')
param preAuthorizedClientIds array = []

var tenantId = tenant().tenantId
var deployerObjectId = deployer().objectId
var owners = {
  relationships: [
    deployerObjectId
  ]
}

var apiUniqueName = '${uniqueNamePrefix}-api'
var apiIdentifierUri = 'api://${tenantId}/${apiUniqueName}'
var scopeValue = 'access_as_user'
var scopeId = guid(tenantId, apiUniqueName, 'scope', scopeValue)
var roleIds = {
  ops: guid(tenantId, apiUniqueName, 'role', opsRole)
  loadTest: guid(tenantId, apiUniqueName, 'role', loadTestRole)
}
var apiSettings = {
  // v2.0 access tokens: aud = the client id, which is the gateway's AUTH_AUDIENCE.
  requestedAccessTokenVersion: 2
  oauth2PermissionScopes: [
    {
      id: scopeId
      value: scopeValue
      type: 'User'
      isEnabled: true
      adminConsentDisplayName: 'Use the Drone Delivery API'
      adminConsentDescription: 'Call the Drone Delivery API as the signed-in user.'
      userConsentDisplayName: 'Use the Drone Delivery API'
      userConsentDescription: 'Call the Drone Delivery API as you.'
    }
  ]
  preAuthorizedApplications: [
    for clientId in preAuthorizedClientIds: {
      appId: clientId
      delegatedPermissionIds: [
        scopeId
      ]
    }
  ]
}

var backendUniqueNames = [for backend in backends: '${uniqueNamePrefix}-${backend}']
var backendIdentifierUris = [for name in backendUniqueNames: 'api://${tenantId}/${name}']

resource api 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: apiUniqueName
  displayName: apiUniqueName
  signInAudience: 'AzureADMyOrg'
  owners: owners
  identifierUris: [
    apiIdentifierUri
  ]
  api: apiSettings
  appRoles: [
    {
      id: roleIds.ops
      value: opsRole
      displayName: 'Operators'
      description: 'Operate the Drone Delivery system: dead letters, every owner\'s deliveries, utilization.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
    {
      id: roleIds.loadTest
      value: loadTestRole
      displayName: 'Load generators'
      description: 'Create and track deliveries for synthetic load-test owners only, under one shared rate limit.'
      allowedMemberTypes: [
        'Application'
      ]
      isEnabled: true
    }
  ]
}

resource apiServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: api.appId
}

resource backendApps 'Microsoft.Graph/applications@v1.0' = [
  for (backend, i) in backends: {
    uniqueName: backendUniqueNames[i]
    displayName: backendUniqueNames[i]
    signInAudience: 'AzureADMyOrg'
    owners: owners
    identifierUris: [
      'api://${tenantId}/${backendUniqueNames[i]}'
    ]
    // v1.0 access tokens carry the application ID URI as their audience, which the backend checks
    // (SERVICE_AUTH_AUDIENCE); v2.0 tokens would carry the client id instead.
    api: {
      requestedAccessTokenVersion: 1
    }
  }
]

resource backendServicePrincipals 'Microsoft.Graph/servicePrincipals@v1.0' = [
  for (backend, i) in backends: {
    appId: backendApps[i].appId
  }
]

@description('The gateway\'s AUTH_AUDIENCE: the API\'s application (client) id.')
output apiClientId string = api.appId
@description('The API\'s application ID URI.')
output apiIdentifierUri string = apiIdentifierUri
@description('The delegated scope users\' clients ask for (az account get-access-token --scope ...).')
output apiScope string = '${apiIdentifierUri}/${scopeValue}'
@description('Object id of the API\'s service principal: the resourceId of app role assignments.')
output apiServicePrincipalId string = apiServicePrincipal.id
@description('App role ids: {ops, loadTest} (the roles valued opsRole and loadTestRole).')
output apiRoleIds object = roleIds
@description('Application ID URI by backend service: the charts\' global.audiences.')
output serviceAudiences object = toObject(range(0, length(backends)), i => backends[i], i => backendIdentifierUris[i])
@description('Per backend: {service, uniqueName, clientId}; with apiClientId, every registration this module owns (the tear-down deletes them).')
output backendApplications array = [
  for (backend, i) in backends: {
    service: backend
    uniqueName: backendUniqueNames[i]
    clientId: backendApps[i].appId
  }
]
