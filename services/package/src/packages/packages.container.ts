import type { ContainerDefinition, CosmosClient } from '@azure/cosmos';
import { guardCosmos } from './cosmos-errors';

/**
 * The packages container (reasons in the service README): partitioned by package id, so every read and write
 * is a single-partition point operation and the store itself guarantees one package per id; only the fields the
 * summary filters and sums on are indexed, with a composite index for "owner = X and createdAt in a month".
 * infra/bicep must declare the same definition for Azure, where the data-plane role cannot create containers.
 */
export const PACKAGES_CONTAINER_DEFINITION = {
  partitionKey: { paths: ['/id'] },
  indexingPolicy: {
    indexingMode: 'consistent',
    automatic: true,
    includedPaths: [{ path: '/ownerId/?' }, { path: '/createdAt/?' }, { path: '/weight/?' }],
    excludedPaths: [{ path: '/*' }],
    compositeIndexes: [
      [
        { path: '/ownerId', order: 'ascending' },
        { path: '/createdAt', order: 'ascending' },
      ],
    ],
  },
} satisfies Omit<ContainerDefinition, 'id'>;

/**
 * Creates the database and container if missing (a read when they exist, as on Azure where Bicep made them).
 * Succeeds once; until then every call tries again, so a service started before its store becomes ready later.
 */
export class ContainerProvisioner {
  private ensured?: Promise<void>;

  constructor(
    private readonly client: CosmosClient,
    private readonly names: { database: string; container: string },
    private readonly timeoutMs: number,
  ) {}

  ensure(): Promise<void> {
    this.ensured ??= this.createIfMissing().catch((error: unknown) => {
      this.ensured = undefined;
      throw error;
    });
    return this.ensured;
  }

  private createIfMissing(): Promise<void> {
    const deadline = () => ({ abortSignal: AbortSignal.timeout(this.timeoutMs) });
    return guardCosmos(async () => {
      const { database } = await this.client.databases.createIfNotExists({ id: this.names.database }, deadline());
      await database.containers.createIfNotExists({ id: this.names.container, ...PACKAGES_CONTAINER_DEFINITION }, deadline());
    });
  }
}
