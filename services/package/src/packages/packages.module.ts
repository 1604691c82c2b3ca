import { type Container, CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';
import { APP_CONFIG, STORE_PROBES, type StoreProbe, StoreUnavailableError } from '@dronedelivery/platform';
import { Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { PackageConfig } from '../config';
import { CosmosPackagesRepository } from './cosmos-packages.repository';
import { ContainerProvisioner } from './packages.container';
import { PackagesController } from './packages.controller';
import { PACKAGES_REPOSITORY } from './packages.repository';
import { PackagesService } from './packages.service';

const COSMOS = Symbol('PACKAGE_COSMOS_CLIENT');
const CONTAINER = Symbol('PACKAGE_COSMOS_CONTAINER');

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

/** Ready when the container exists (created on first success) and its metadata reads within the timeout. */
export function cosmosProbe(provisioner: ContainerProvisioner, container: Container, timeoutMs: number): StoreProbe {
  return {
    name: 'cosmos',
    async ping() {
      await provisioner.ensure();
      await container.read({ abortSignal: AbortSignal.timeout(timeoutMs) });
    },
  };
}

@Module({
  controllers: [PackagesController],
  providers: [
    PackagesService,
    { provide: COSMOS, inject: [APP_CONFIG], useFactory: (config: PackageConfig) => new CosmosClient(cosmosClientOptions(config)) },
    {
      provide: ContainerProvisioner,
      inject: [COSMOS, APP_CONFIG],
      useFactory: (client: CosmosClient, config: PackageConfig) =>
        new ContainerProvisioner(
          client,
          { database: config.COSMOS_DATABASE, container: config.COSMOS_CONTAINER },
          config.COSMOS_OPERATION_TIMEOUT_MS,
        ),
    },
    {
      provide: CONTAINER,
      inject: [COSMOS, APP_CONFIG],
      useFactory: (client: CosmosClient, config: PackageConfig) =>
        client.database(config.COSMOS_DATABASE).container(config.COSMOS_CONTAINER),
    },
    {
      provide: PACKAGES_REPOSITORY,
      inject: [CONTAINER, APP_CONFIG],
      useFactory: (container: Container, config: PackageConfig) =>
        new CosmosPackagesRepository(container, config.COSMOS_OPERATION_TIMEOUT_MS),
    },
    {
      provide: STORE_PROBES,
      inject: [ContainerProvisioner, CONTAINER, APP_CONFIG],
      useFactory: (provisioner: ContainerProvisioner, container: Container, config: PackageConfig) => [
        cosmosProbe(provisioner, container, config.HEALTH_CHECK_TIMEOUT_MS),
      ],
    },
  ],
})
export class PackagesModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PackagesModule');

  constructor(
    @Inject(COSMOS) private readonly client: CosmosClient,
    private readonly provisioner: ContainerProvisioner,
  ) {}

  /**
   * Provisions at boot. An unreachable store does not stop the boot (readiness stays 503 and retries, e.g. while a
   * local emulator is still starting); a permanent error (wrong key, missing RBAC role) does, with its message.
   */
  async onModuleInit(): Promise<void> {
    try {
      await this.provisioner.ensure();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.logger.warn('Cosmos DB is unreachable; readiness stays down until it answers');
    }
  }

  /** Runs after the HTTP server closed, so requests still in flight kept their client until they finished. */
  onApplicationShutdown(): void {
    this.client.dispose();
  }
}
