import { type Container, CosmosClient } from '@azure/cosmos';
import { type StoreProbe, storeModule } from '@dronedelivery/platform';
import type { PackageConfig } from '../config';
import { ContainerProvisioner } from '../packages/packages.container';
import { cosmosClientOptions } from './cosmos-client-options';

/** The package service's own store: the Cosmos DB client and the packages container on it. */
export const PACKAGE_COSMOS = Symbol('PACKAGE_COSMOS');

export interface PackageCosmos {
  readonly client: CosmosClient;
  readonly container: Container;
  /** Creates the database and container when missing; the boot and the readiness probe both call it. */
  readonly provisioner: ContainerProvisioner;
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

/**
 * Provisions at boot. An unreachable store does not stop the boot (readiness stays 503 and retries, e.g. while a
 * local emulator is still starting); a permanent error (wrong key, missing RBAC role) does, with its message.
 */
export const StoreModule = storeModule<PackageCosmos, PackageConfig>({
  token: PACKAGE_COSMOS,
  name: 'Cosmos DB',
  create: (config) => {
    const client = new CosmosClient(cosmosClientOptions(config));
    const names = { database: config.COSMOS_DATABASE, container: config.COSMOS_CONTAINER };
    return {
      client,
      container: client.database(names.database).container(names.container),
      provisioner: new ContainerProvisioner(client, names, config.COSMOS_OPERATION_TIMEOUT_MS),
    };
  },
  probe: (cosmos, config) => cosmosProbe(cosmos.provisioner, cosmos.container, config.HEALTH_CHECK_TIMEOUT_MS),
  close: (cosmos) => cosmos.client.dispose(),
  onBoot: (cosmos) => cosmos.provisioner.ensure(),
});
