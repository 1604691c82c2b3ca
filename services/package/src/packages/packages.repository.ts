import type { Package } from './package.model';

/** Storage port of the package service; the Cosmos DB adapter is one implementation. */
export interface PackagesRepository {
  get(id: string): Promise<StoredPackage | undefined>;
  /** Creates if absent. Returns undefined when a package with this id already exists. */
  create(pkg: Package, fingerprint: string): Promise<StoredPackage | undefined>;
  /** Compare-and-set: writes `next` only while the stored ETag is still `current.etag`. */
  replace(current: StoredPackage, next: Package): Promise<ReplaceOutcome>;
  /**
   * With `etag`, deletes only while the stored ETag is still that one (compare-and-delete). `gone`: there was
   * nothing to delete; `stale`: another version is stored now, and was kept.
   */
  delete(id: string, etag?: string): Promise<DeleteOutcome>;
  /** Packages of one owner created in [from, to) (ISO timestamps): how many, and their total weight. */
  summary(ownerId: string, from: string, to: string): Promise<{ count: number; totalWeight: number }>;
}

export interface StoredPackage {
  package: Package;
  /** Fingerprint of the body that created the package. */
  fingerprint: string;
  /** The store's version token; changes on every write. */
  etag: string;
}

export type DeleteOutcome = 'deleted' | 'gone' | 'stale';

export type ReplaceOutcome = { kind: 'replaced'; stored: StoredPackage } | { kind: 'stale' } | { kind: 'gone' };

export const PACKAGES_REPOSITORY = Symbol('PACKAGES_REPOSITORY');
