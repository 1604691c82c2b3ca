import type { CosmosClientOptions } from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { PackageConfig } from '../config';

/** Account endpoints of Azure Cosmos DB (public cloud, Azure Government, Azure China). */
const AZURE_COSMOS_HOST = /\.documents\.azure\.(com|us|cn)$/i;

/**
 * Endpoint discovery (the SDK reads the account's regions and then talks to the endpoints the account advertises)
 * is for Azure accounts only. An emulator advertises the address it sees itself on — the vNext emulator and
 * @vercel/cosmosdb-server both say `localhost`/`127.0.0.1` unless told otherwise — which, from another container,
 * is the client itself. Anything that is not an Azure account endpoint (emulators, a proxy in front of one) is
 * therefore used exactly as configured.
 */
export function endpointDiscovery(endpoint: string): boolean {
  return AZURE_COSMOS_HOST.test(new URL(endpoint).hostname);
}

export function cosmosClientOptions(config: PackageConfig): CosmosClientOptions {
  return {
    endpoint: config.COSMOS_ENDPOINT,
    ...(config.COSMOS_AUTH === 'key' ? { key: config.COSMOS_KEY } : { aadCredentials: new DefaultAzureCredential() }),
    // Emulators only: trust their self-signed certificate through this client's own agent, nothing process-wide.
    agent: config.COSMOS_TLS_CA_PATH ? new Agent({ ca: readFileSync(config.COSMOS_TLS_CA_PATH, 'utf8'), keepAlive: true }) : undefined,
    userAgentSuffix: 'dronedelivery-package',
    connectionPolicy: {
      enableEndpointDiscovery: endpointDiscovery(config.COSMOS_ENDPOINT),
      requestTimeout: config.COSMOS_REQUEST_TIMEOUT_MS,
      // The SDK's own throttling policy (honours the server's retry-after); we only bound it.
      retryOptions: {
        maxRetryAttemptCount: config.COSMOS_THROTTLE_MAX_RETRIES,
        maxWaitTimeInSeconds: config.COSMOS_THROTTLE_MAX_WAIT_SECONDS,
      },
    },
  };
}
