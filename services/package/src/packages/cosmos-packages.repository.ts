import type { Container, Resource } from '@azure/cosmos';
import { cosmosStatus, guardCosmos } from './cosmos-errors';
import type { Package } from './package.model';
import type { DeleteOutcome, PackagesRepository, ReplaceOutcome, StoredPackage } from './packages.repository';

/** One item per package, partitioned by its id (see the README for why), with the creation fingerprint. */
type PackageDocument = Package & { fingerprint: string };

export class CosmosPackagesRepository implements PackagesRepository {
  /**
   * @param operationTimeoutMs deadline for one operation including the SDK's own retries. Needed because on a hung
   * (not refusing) endpoint the SDK retries reads and queries after each request timeout up to 120 times.
   */
  constructor(
    private readonly container: Container,
    private readonly operationTimeoutMs: number,
  ) {}

  async get(id: string): Promise<StoredPackage | undefined> {
    // A point read (id + partition key): the cheapest Cosmos operation, 1 RU for a small item.
    const { resource } = await guardCosmos(() => this.container.item(id, id).read<PackageDocument>(this.deadline()));
    return resource ? toStored(resource) : undefined;
  }

  async create(pkg: Package, fingerprint: string): Promise<StoredPackage | undefined> {
    try {
      // create (not upsert): the store rejects a second item with this id, so concurrent creates have one winner.
      const { resource } = await guardCosmos(() => this.container.items.create<PackageDocument>({ ...pkg, fingerprint }, this.deadline()));
      return toStored(required(resource));
    } catch (error) {
      if (cosmosStatus(error) === 409) return undefined;
      throw error;
    }
  }

  async replace(current: StoredPackage, next: Package): Promise<ReplaceOutcome> {
    try {
      const document: PackageDocument = { ...next, fingerprint: current.fingerprint };
      const { resource } = await guardCosmos(() =>
        this.container.item(next.id, next.id).replace<PackageDocument>(document, {
          ...this.deadline(),
          accessCondition: { type: 'IfMatch', condition: current.etag },
        }),
      );
      return { kind: 'replaced', stored: toStored(required(resource)) };
    } catch (error) {
      if (cosmosStatus(error) === 412) return { kind: 'stale' };
      if (cosmosStatus(error) === 404) return { kind: 'gone' };
      throw error;
    }
  }

  async delete(id: string, etag?: string): Promise<DeleteOutcome> {
    const condition = etag === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: etag } };
    try {
      await guardCosmos(() => this.container.item(id, id).delete({ ...this.deadline(), ...condition }));
      return 'deleted';
    } catch (error) {
      if (cosmosStatus(error) === 404) return 'gone';
      if (cosmosStatus(error) === 412) return 'stale';
      throw error;
    }
  }

  async summary(ownerId: string, from: string, to: string): Promise<{ count: number; totalWeight: number }> {
    // Two VALUE aggregates rather than GROUP BY or a multi-aggregate projection: they run on the emulator and on
    // Cosmos DB, where the SDK merges the per-partition partial results. The filter is served by the composite
    // index (ownerId, createdAt).
    const filter = 'FROM p WHERE p.ownerId = @ownerId AND p.createdAt >= @from AND p.createdAt < @to';
    const parameters = [
      { name: '@ownerId', value: ownerId },
      { name: '@from', value: from },
      { name: '@to', value: to },
    ];
    const aggregate = async (select: string) => {
      const { resources } = await guardCosmos(() =>
        this.container.items.query<number>({ query: `${select} ${filter}`, parameters }, this.deadline()).fetchAll(),
      );
      return resources[0] ?? 0;
    };
    const [count, totalWeight] = await Promise.all([aggregate('SELECT VALUE COUNT(1)'), aggregate('SELECT VALUE SUM(p.weight)')]);
    return { count, totalWeight };
  }

  private deadline(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.operationTimeoutMs) };
  }
}

function toStored(document: PackageDocument & Partial<Resource>): StoredPackage {
  const { id, ownerId, size, weight, tag, createdBy, createdAt, updatedAt, fingerprint, _etag } = document;
  return { package: { id, ownerId, size, weight, tag, createdBy, createdAt, updatedAt }, fingerprint, etag: required(_etag) };
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('Cosmos DB answered a write without the resource');
  return value;
}
