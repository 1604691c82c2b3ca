// Drone Delivery on AKS: everything one environment needs, in one resource group.
// One module per concern (modules/*.bicep); this file only wires them together and publishes the outputs the Helm
// values file is generated from (docs/deploy-aks.md). No output carries a secret: keys and connection strings go
// into Key Vault inside the modules, and only secret *names* come out.
//
// Deploy: az deployment group create -g <rg> -f infra/bicep/main.bicep -p infra/bicep/main.<env>.parameters.json
targetScope = 'resourceGroup'

metadata description = 'Drone Delivery reference application on AKS: cluster, registry, vault, stores, telemetry, workload identities, Entra app registrations.'

// ---------------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------------

@description('Short name used in every resource name: 3-12 lowercase letters and digits.')
@minLength(3)
@maxLength(12)
param appName string = 'dronedel'

@description('Environment; selects names and is written into tags. Sizes come from the parameter file.')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Extra tags for every resource.')
param tags object = {}

@description('Kubernetes namespace the Helm charts install into; part of every federated credential subject.')
param kubernetesNamespace string = 'dronedelivery'

@description('AKS Kubernetes version; empty = the region default.')
param kubernetesVersion string = ''

@description('AKS control plane tier (Standard/Premium have an uptime SLA).')
@allowed([
  'Free'
  'Standard'
  'Premium'
])
param aksSkuTier string = 'Standard'

@description('Availability zones for nodes and the egress IP, e.g. ["1","2","3"]; empty where the region has none.')
param availabilityZones array = []

@description('System node pool: {vmSize, minCount, maxCount} (autoscaled; only critical add-ons run here).')
param systemNodePool object = {
  vmSize: 'Standard_D2s_v5'
  minCount: 1
  maxCount: 3
}

@description('User node pool for the application: {vmSize, minCount, maxCount} (autoscaled).')
param userNodePool object = {
  vmSize: 'Standard_D4s_v5'
  minCount: 1
  maxCount: 5
}

@description('CIDRs allowed to reach the AKS API server; empty = any address (Entra ID + Azure RBAC still apply).')
param apiServerAuthorizedIpRanges array = []

@description('Object id of the user or group that administers the cluster (Azure RBAC); empty = the deploying principal.')
param clusterAdminPrincipalId string = ''

@description('Type of clusterAdminPrincipalId; empty = the deploying principal\'s own type (User, or ServicePrincipal for a pipeline) when clusterAdminPrincipalId is empty, else Group.')
@allowed([
  ''
  'User'
  'Group'
  'ServicePrincipal'
])
param clusterAdminPrincipalType string = ''

@description('Container registry SKU (Premium adds zone redundancy and geo-replication).')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param acrSku string = 'Standard'

@description('Days a deleted vault (and its secrets) stays recoverable. Purge protection is always on: the vault name stays reserved for this long after deletion.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionDays int = 90

@description('secret: each identity may read only the secrets it needs (role assignments on single secrets). vault: every service identity may read every secret in this vault.')
@allowed([
  'secret'
  'vault'
])
param keyVaultSecretAccessScope string = 'secret'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('E-mail addresses the Prometheus alerts (monitoring/rules) notify; empty = an action group without receivers.')
param alertEmailAddresses array = []

@description('Azure Managed Grafana on the Azure Monitor workspace, for the dashboards in monitoring/dashboards.')
param grafanaEnabled bool = true

@description('Cosmos DB database of the package service (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'dronedelivery'

@description('Cosmos DB container of the package service (COSMOS_CONTAINER).')
param cosmosContainerName string = 'packages'

@description('Autoscale maximum RU/s of the packages container (it scales between 10% of this and this).')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Zone-redundant Cosmos DB region.')
param cosmosZoneRedundant bool = false

@description('Azure Managed Redis SKU of the commands cache (gateway + workflow), e.g. Balanced_B1, Balanced_B5. Zone-redundant wherever the region has zones.')
param redisSkuName string = 'Balanced_B1'

@description('Azure Managed Redis SKU of the delivery service\'s own cache.')
param deliveryRedisSkuName string = 'Balanced_B0'

@description('AOF persistence (every second) on both caches: an accepted (202) request survives a cache restart.')
param redisPersistence bool = true

@description('Azure SQL database of the drone scheduler (DB_NAME).')
param sqlDatabaseName string = 'dronescheduler'

@description('Azure SQL database SKU, e.g. {name: "S0", tier: "Standard"} or {name: "GP_Gen5_2", tier: "GeneralPurpose", family: "Gen5", capacity: 2}.')
param sqlDatabaseSku object = {
  name: 'S0'
  tier: 'Standard'
}

@description('Zone-redundant database (vCore tiers only).')
param sqlZoneRedundant bool = false

@description('Object id of a group that administers Azure SQL (Entra-only authentication); empty = the migration identity, which the chart\'s migration Job runs as. A group must contain the migration identity.')
param sqlAdminObjectId string = ''

@description('Display name of that group; empty = the migration identity\'s name.')
param sqlAdminLogin string = ''

@description('Client applications pre-authorised for the API\'s delegated scope (no consent prompt). Default: the Azure CLI, which the walkthrough gets its token with.')
param apiPreAuthorizedClientIds array = [
  '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
]

// ---------------------------------------------------------------------------------------------------------------
// Names and shared values
// ---------------------------------------------------------------------------------------------------------------

var app = toLower(replace(appName, '-', ''))
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, app, environmentName))
var shortToken = take(resourceToken, 6)
var baseName = '${app}-${environmentName}'
var allTags = union(tags, {
  application: 'dronedelivery'
  environment: environmentName
})

// The services; each gets one user-assigned identity and one federated credential for its service account.
var services = [
  'gateway'
  'workflow'
  'package'
  'dronescheduler'
  'delivery'
]
var svc = {
  gateway: 0
  workflow: 1
  package: 2
  dronescheduler: 3
  delivery: 4
}
// The services other services call (tests/deploy/call-graph.ts reads the calls from the code): each gets an app
// registration whose application ID URI is the audience of its callers' tokens.
var backends = [
  'workflow'
  'package'
  'dronescheduler'
  'delivery'
]
// Two more workload identities: the scheduler's migration Job (the SQL administrator: DDL and user management, so
// the runtime identity needs neither) and KEDA's operator (reads the commands cache's key for the workflow's scaler).
var workloadNames = concat(services, [
  'dronescheduler-migrate'
  'keda'
])
// Right after the services in workloadNames.
var migrate = length(services)
var keda = length(services) + 1
var identityNames = [for workload in workloadNames: 'id-${workload}-${baseName}-${shortToken}']
// Who exchanges which service account's token: the services and the migration Job in the app namespace, KEDA's
// operator in kube-system (the AKS add-on's service account).
var workloads = [
  for (workload, i) in workloadNames: {
    identityName: identityNames[i]
    namespace: workload == 'keda' ? 'kube-system' : kubernetesNamespace
    serviceAccount: workload == 'keda' ? 'keda-operator' : workload
  }
]
// Principal (object) ids of the service identities, by service: who gets which access is read off this file.
var principalIds = {
  gateway: identities.outputs.identities[svc.gateway].principalId
  workflow: identities.outputs.identities[svc.workflow].principalId
  package: identities.outputs.identities[svc.package].principalId
  dronescheduler: identities.outputs.identities[svc.dronescheduler].principalId
  delivery: identities.outputs.identities[svc.delivery].principalId
  keda: identities.outputs.identities[keda].principalId
}

var appInsightsSecretName = 'applicationinsights-connection-string'
var redisPasswordSecretName = 'redis-password'

var clusterAdminId = empty(clusterAdminPrincipalId) ? deployer().objectId : clusterAdminPrincipalId
// A pipeline deploys as a service principal, which has no user principal name.
var deployerType = empty(deployer().userPrincipalName) ? 'ServicePrincipal' : 'User'
var clusterAdminType = !empty(clusterAdminPrincipalType) ? clusterAdminPrincipalType : (empty(clusterAdminPrincipalId) ? deployerType : 'Group')
// An identity's SQL administrator sid is its client (application) id; a group's is its object id.
var migrationIdentity = identities.outputs.identities[migrate]
var sqlAdminId = empty(sqlAdminObjectId) ? migrationIdentity.clientId : sqlAdminObjectId
var sqlAdminName = empty(sqlAdminObjectId) ? migrationIdentity.name : sqlAdminLogin
var sqlAdminType = empty(sqlAdminObjectId) ? 'Application' : 'Group'

// ---------------------------------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------------------------------

module monitoring './modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-${baseName}'
    appInsightsName: 'appi-${baseName}'
    location: location
    tags: allTags
    retentionInDays: logRetentionDays
  }
}

module network './modules/network.bicep' = {
  name: 'network'
  params: {
    egressIpName: 'pip-${baseName}-egress'
    vnetName: 'vnet-${baseName}'
    location: location
    tags: allTags
    availabilityZones: availabilityZones
  }
}

module identities './modules/identities.bicep' = {
  name: 'identities'
  params: {
    services: workloadNames
    names: identityNames
    location: location
    tags: allTags
  }
}

module aks './modules/aks.bicep' = {
  name: 'aks'
  params: {
    name: 'aks-${baseName}'
    location: location
    tags: allTags
    kubernetesVersion: kubernetesVersion
    skuTier: aksSkuTier
    availabilityZones: availabilityZones
    systemNodePool: systemNodePool
    userNodePool: userNodePool
    apiServerAuthorizedIpRanges: apiServerAuthorizedIpRanges
    egressIpName: network.outputs.egressIpName
    vnetName: network.outputs.vnetName
    nodeSubnetId: network.outputs.nodeSubnetId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    clusterAdminPrincipalId: clusterAdminId
    clusterAdminPrincipalType: clusterAdminType
  }
}

// After the cluster: its metrics go to an Azure Monitor workspace, where the rules of monitoring/rules are evaluated.
module prometheus './modules/prometheus.bicep' = {
  name: 'prometheus'
  params: {
    workspaceName: 'amw-${baseName}'
    grafanaName: 'gf-${take(app, 8)}-${environmentName}-${take(resourceToken, 5)}'
    grafanaEnabled: grafanaEnabled
    actionGroupName: 'ag-${baseName}'
    location: location
    tags: allTags
    clusterName: aks.outputs.name
    alertEmailAddresses: alertEmailAddresses
    grafanaAdminPrincipalId: clusterAdminId
    grafanaAdminPrincipalType: clusterAdminType
  }
}

module workloadFederation './modules/workload-federation.bicep' = {
  name: 'workload-federation'
  params: {
    workloads: workloads
    oidcIssuerUrl: aks.outputs.oidcIssuerUrl
  }
  dependsOn: [
    identities
  ]
}

module acr './modules/acr.bicep' = {
  name: 'acr'
  params: {
    name: 'cr${app}${environmentName}${resourceToken}'
    location: location
    tags: allTags
    sku: acrSku
    zoneRedundant: acrSku == 'Premium' && !empty(availabilityZones)
    kubeletPrincipalId: aks.outputs.kubeletObjectId
  }
}

module keyVault './modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv${app}${environmentName}${take(resourceToken, 5)}'
    location: location
    tags: allTags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionDays
  }
}

module cosmos './modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: 'cosmos-${baseName}-${shortToken}'
    location: location
    tags: allTags
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    zoneRedundant: cosmosZoneRedundant
    dataContributorPrincipalIds: [
      principalIds.package
    ]
  }
}

// The commands cache keeps access keys for KEDA's redis-streams scaler only (it takes no Entra token); the
// delivery cache accepts Entra tokens only.
module redis './modules/redis.bicep' = {
  name: 'redis'
  params: {
    name: 'redis-${baseName}-${shortToken}-commands'
    location: location
    tags: allTags
    skuName: redisSkuName
    persistence: redisPersistence
    accessKeysEnabled: true
    dataContributors: [
      {
        alias: identityNames[svc.gateway]
        principalId: principalIds.gateway
      }
      {
        alias: identityNames[svc.workflow]
        principalId: principalIds.workflow
      }
    ]
  }
}

module deliveryRedis './modules/redis.bicep' = {
  name: 'redis-delivery'
  params: {
    name: 'redis-${baseName}-${shortToken}-delivery'
    location: location
    tags: allTags
    skuName: deliveryRedisSkuName
    persistence: redisPersistence
    accessKeysEnabled: false
    dataContributors: [
      {
        alias: identityNames[svc.delivery]
        principalId: principalIds.delivery
      }
    ]
  }
}

module sql './modules/sql.bicep' = {
  name: 'sql'
  params: {
    serverName: 'sql-${baseName}-${shortToken}'
    location: location
    tags: allTags
    databaseName: sqlDatabaseName
    databaseSku: sqlDatabaseSku
    zoneRedundant: sqlZoneRedundant
    adminObjectId: sqlAdminId
    adminLogin: sqlAdminName
    adminPrincipalType: sqlAdminType
  }
}

module privateEndpoints './modules/private-endpoints.bicep' = {
  name: 'private-endpoints'
  params: {
    location: location
    tags: allTags
    subnetId: network.outputs.privateEndpointSubnetId
    endpoints: [
      {
        name: redis.outputs.name
        resourceId: redis.outputs.id
        groupId: 'redisEnterprise'
        privateDnsZoneId: network.outputs.privateDnsZoneIds.redis
      }
      {
        name: deliveryRedis.outputs.name
        resourceId: deliveryRedis.outputs.id
        groupId: 'redisEnterprise'
        privateDnsZoneId: network.outputs.privateDnsZoneIds.redis
      }
      {
        name: sql.outputs.serverName
        resourceId: sql.outputs.id
        groupId: 'sqlServer'
        privateDnsZoneId: network.outputs.privateDnsZoneIds.sql
      }
      {
        name: cosmos.outputs.accountName
        resourceId: cosmos.outputs.id
        groupId: 'Sql'
        privateDnsZoneId: network.outputs.privateDnsZoneIds.cosmos
      }
      {
        name: keyVault.outputs.name
        resourceId: keyVault.outputs.id
        groupId: 'vault'
        privateDnsZoneId: network.outputs.privateDnsZoneIds.keyVault
      }
    ]
  }
}

module secrets './modules/keyvault-secrets.bicep' = {
  name: 'keyvault-secrets'
  params: {
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    redisName: redis.outputs.name
    appInsightsSecretName: appInsightsSecretName
    redisPasswordSecretName: redisPasswordSecretName
    accessScope: keyVaultSecretAccessScope
    // Every service sends telemetry; only KEDA's operator reads the Redis access key (the services use Entra tokens).
    appInsightsSecretReaderPrincipalIds: [
      principalIds.gateway
      principalIds.workflow
      principalIds.package
      principalIds.dronescheduler
      principalIds.delivery
    ]
    redisPasswordReaderPrincipalIds: [
      principalIds.keda
    ]
  }
}

// Microsoft Entra app registrations: the gateway's public API and one per backend (the service tokens' audiences).
// Called twice with the same names: preAuthorizedApplications may only name a scope that already exists, so the
// first call creates the scopes and the second pre-authorises the clients. The role values are the gateway's
// AUTH_OPS_ROLE and AUTH_LOADTEST_ROLE defaults.
module entraApps './modules/app-registrations.bicep' = {
  name: 'app-registrations'
  params: {
    uniqueNamePrefix: '${baseName}-${shortToken}'
    backends: backends
    opsRole: 'Ops'
    loadTestRole: 'LoadTest'
    preAuthorizedClientIds: []
  }
}

module entraAppsPreAuthorized './modules/app-registrations.bicep' = {
  name: 'app-registrations-preauthorized'
  params: {
    uniqueNamePrefix: '${baseName}-${shortToken}'
    backends: backends
    opsRole: 'Ops'
    loadTestRole: 'LoadTest'
    preAuthorizedClientIds: apiPreAuthorizedClientIds
  }
  dependsOn: [
    entraApps
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs: everything the Helm values file needs, nothing secret (the tests in tests/deploy enforce this)
// ---------------------------------------------------------------------------------------------------------------

output tenantId string = tenant().tenantId
output resourceGroupName string = resourceGroup().name
output kubernetesNamespace string = kubernetesNamespace

output aksName string = aks.outputs.name
output aksOidcIssuerUrl string = aks.outputs.oidcIssuerUrl
output aksNodeResourceGroup string = aks.outputs.nodeResourceGroup
output egressIpAddress string = network.outputs.egressIpAddress
@description('CIDR of the stores\' private endpoints: the prod NetworkPolicies\' store egress goes here only.')
output privateEndpointSubnetPrefix string = network.outputs.privateEndpointSubnetPrefix

output acrName string = acr.outputs.name
output acrLoginServer string = acr.outputs.loginServer

output keyVaultName string = keyVault.outputs.name
output keyVaultUri string = keyVault.outputs.uri
@description('Name of the Key Vault secret that holds the Application Insights connection string (for the chart\'s SecretProviderClass).')
output appInsightsConnectionStringSecretName string = secrets.outputs.appInsightsSecretName
@description('Name of the Key Vault secret that holds the commands cache\'s access key (KEDA\'s scaler reads it; the services use Entra).')
output redisPasswordSecretName string = secrets.outputs.redisPasswordSecretName
output appInsightsName string = monitoring.outputs.appInsightsName
output logAnalyticsWorkspaceName string = monitoring.outputs.workspaceName

output azureMonitorWorkspaceName string = prometheus.outputs.workspaceName
@description('Where PromQL queries go (Grafana, promtool or curl with an Entra token).')
output prometheusQueryEndpoint string = prometheus.outputs.prometheusQueryEndpoint
output grafanaName string = prometheus.outputs.grafanaName
output grafanaEndpoint string = prometheus.outputs.grafanaEndpoint

output cosmosAccountName string = cosmos.outputs.accountName
output cosmosEndpoint string = cosmos.outputs.endpoint
output cosmosDatabaseName string = cosmos.outputs.databaseName
output cosmosContainerName string = cosmos.outputs.containerName

output redisName string = redis.outputs.name
output redisHostName string = redis.outputs.hostName
output redisPort int = redis.outputs.port
@description('REDIS_URL of gateway and workflow (TLS, REDIS_AUTH=entra).')
output redisUrl string = 'rediss://${redis.outputs.hostName}:${redis.outputs.port}'
@description('REDIS_URL of the delivery service (its own cache; TLS, REDIS_AUTH=entra).')
output deliveryRedisUrl string = 'rediss://${deliveryRedis.outputs.hostName}:${deliveryRedis.outputs.port}'

output sqlServerName string = sql.outputs.serverName
output sqlServerFqdn string = sql.outputs.fullyQualifiedDomainName
output sqlDatabaseName string = sql.outputs.databaseName

@description('Per workload (the five services, dronescheduler-migrate, keda): {service, name, clientId, principalId, resourceId}.')
output workloadIdentities array = identities.outputs.identities
@description('Client id of the migration Job\'s identity (dronescheduler chart: migration.identity.clientId).')
output migrationIdentityClientId string = migrationIdentity.clientId
@description('Client id KEDA\'s operator authenticates as (workflow chart: keda.authentication.identityId).')
output kedaIdentityClientId string = identities.outputs.identities[keda].clientId
output federatedSubjects array = workloadFederation.outputs.subjects

@description('AUTH_AUDIENCE of the gateway: the API app registration\'s client id (v2.0 tokens carry it as aud).')
output apiClientId string = entraAppsPreAuthorized.outputs.apiClientId
@description('The API\'s application ID URI (api://<tenant id>/<unique name>); clients ask for <it>/.default or apiScope.')
output apiIdentifierUri string = entraAppsPreAuthorized.outputs.apiIdentifierUri
@description('The delegated scope a signed-in user\'s client asks for: az account get-access-token --scope <apiScope>.')
output apiScope string = entraAppsPreAuthorized.outputs.apiScope
@description('Object id of the API\'s service principal (resourceId of an app role assignment).')
output apiServicePrincipalId string = entraAppsPreAuthorized.outputs.apiServicePrincipalId
@description('Ids of the API\'s app roles: {ops, loadTest} (values Ops and LoadTest).')
output apiRoleIds object = entraAppsPreAuthorized.outputs.apiRoleIds
@description('Application ID URI per backend service: the charts\' global.audiences.')
output serviceAudiences object = entraAppsPreAuthorized.outputs.serviceAudiences
@description('The backends\' app registrations: {service, uniqueName, clientId}.')
output backendApplications array = entraAppsPreAuthorized.outputs.backendApplications

@description('AUTH_ISSUER / AUTH_JWKS_URI for the gateway (Entra ID v2.0 tokens of this tenant).')
output authIssuer string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
output authJwksUri string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/discovery/v2.0/keys'
