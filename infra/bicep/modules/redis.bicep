// One Azure Managed Redis instance (Microsoft.Cache/redisEnterprise + its one database). main.bicep deploys two: the
// commands cache (gateway request records and idempotency keys, the command stream, the workflow's consumer group and
// saga keys) and the delivery service's own cache.
//
// Why Azure Managed Redis: the workflow needs Redis 6.2+ (XPENDING … IDLE, XTRIM … MINID); Azure Cache for Redis
// offers 6.0 and is being retired in its favour. Azure Managed Redis runs Redis 7.4 (the services check the version
// and commands at boot and refuse a server that lacks them).
//
// Clustering policy NoCluster, deliberately: every atomic step of the command stream is one Lua script combining the
// stream with per-delivery keys (record + idempotency + XADD at ingestion; XACK + saga state + dead-letter XADD in the
// workflow), and the delivery service's writes combine a delivery with its owner's monthly counters. On a clustered
// policy (OSS or Enterprise) all those keys would have to share one hash slot, so one shard would do all the work
// anyway, with a CROSSSLOT failure waiting in every future script. NoCluster serves up to 25 GB (the stores here hold
// in-flight work; request records expire) and is the only policy that can later be changed in place to a clustered
// one. The services refuse a server in cluster mode at boot.
//
// Durability (docs/ARCHITECTURE.md): high availability (a replica in another zone where the region has zones), AOF
// persistence every second, noeviction (a store of record, not a cache: a full cache refuses writes and the services
// answer 503). Private endpoint only (main.bicep); TLS on port 10000. Entra ID access for the service identities;
// access keys only where something cannot use Entra (KEDA's redis-streams scaler: accessKeysEnabled).

@description('Cluster name (globally unique; becomes <name>.<region>.redis.azure.net).')
param name string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('Azure Managed Redis SKU, e.g. Balanced_B1 (1 GB), Balanced_B5 (6 GB), MemoryOptimized_M10.')
param skuName string

@description('AOF persistence (every second). Off only for throwaway environments.')
param persistence bool

@description('Keep access-key authentication on (for clients that cannot use Entra tokens, e.g. KEDA\'s Redis scaler).')
param accessKeysEnabled bool

@description('Identities granted data access with Entra tokens (the built-in default access policy): [{alias, principalId}].')
param dataContributors array

resource cluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    // Zone-redundant by itself in regions with availability zones; a replica of every shard.
    highAvailability: 'Enabled'
    publicNetworkAccess: 'Disabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cluster
  // The only database name Azure Managed Redis accepts.
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'NoCluster'
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: accessKeysEnabled ? 'Enabled' : 'Disabled'
    persistence: persistence
      ? {
          aofEnabled: true
          aofFrequency: '1s'
          rdbEnabled: false
        }
      : {
          aofEnabled: false
          rdbEnabled: false
        }
  }
}

// Entra ID data access for REDIS_AUTH=entra clients (user = the identity's object id). One at a time: assignments on
// one database must not run concurrently.
@batchSize(1)
resource dataAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = [
  for contributor in dataContributors: {
    parent: database
    name: take(replace(contributor.alias, '-', ''), 60)
    properties: {
      accessPolicyName: 'default'
      user: {
        objectId: contributor.principalId
      }
    }
  }
]

output name string = cluster.name
output id string = cluster.id
output hostName string = cluster.properties.hostName
output port int = database.properties.port
