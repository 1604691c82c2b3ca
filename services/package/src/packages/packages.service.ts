import { APP_CONFIG, ConflictProblem, NotFoundProblem, ProblemException, problemType } from '@dronedelivery/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { PackageConfig } from '../config';
import { ifMatchSatisfied, toHttpEtag } from './etag';
import {
  type Package,
  type PackageChanges,
  type CreatedBy,
  type PackageCreation,
  type PackageSummary,
  applyChanges,
  fingerprintOf,
  monthRange,
  roundWeight,
} from './package.model';
import { PACKAGES_REPOSITORY, type PackagesRepository, type StoredPackage } from './packages.repository';

/** A package with its HTTP ETag, ready to answer with. */
export interface PackageResult {
  package: Package;
  etag: string;
}

export interface CreateResult extends PackageResult {
  created: boolean;
}

export class PreconditionFailedProblem extends ProblemException {
  constructor(detail: string) {
    super({ type: problemType('precondition-failed'), title: 'Precondition failed', status: 412, detail });
  }
}

@Injectable()
export class PackagesService {
  constructor(
    @Inject(PACKAGES_REPOSITORY) private readonly repository: PackagesRepository,
    @Inject(APP_CONFIG) private readonly config: PackageConfig,
  ) {}

  /** Idempotent: the same body for an existing id returns the stored package; a different body is a 409. */
  async create(id: string, creation: PackageCreation & CreatedBy): Promise<CreateResult> {
    const fingerprint = fingerprintOf(creation);
    const now = new Date().toISOString();
    const { ownerId, size, weight, tag, createdBy } = creation;
    const pkg: Package = { id, ownerId, size, weight, tag, createdBy, createdAt: now, updatedAt: now };
    // Create first: a new package, the usual case, costs one store round trip; a replay costs two (the refused
    // create, then the read). The store refuses a second item with this id, so concurrent creates have one winner.
    const stored = await this.repository.create(pkg, fingerprint);
    if (stored) return { created: true, ...result(stored) };
    const existing = await this.repository.get(id);
    if (!existing)
      throw new ConflictProblem('concurrent-modification', 'Concurrent modification', `Package ${id} changed during creation; retry.`);
    return this.replayedCreate(id, existing, fingerprint);
  }

  async get(id: string): Promise<PackageResult> {
    return result(await this.load(id));
  }

  /**
   * With If-Match, applies only to the version the client saw (else 412). Without it, read-modify-write with
   * compare-and-set, re-reading on a lost race so concurrent updates never overwrite each other.
   */
  async update(id: string, changes: PackageChanges, ifMatch?: string): Promise<PackageResult> {
    for (let attempt = 0; attempt < this.config.PACKAGE_UPDATE_MAX_ATTEMPTS; attempt++) {
      const current = await this.load(id);
      if (ifMatch !== undefined && !ifMatchSatisfied(ifMatch, toHttpEtag(current.etag))) {
        throw new PreconditionFailedProblem(
          `Package ${id} has changed since it was read (If-Match does not match its ETag); read it again.`,
        );
      }
      const next = applyChanges(current.package, changes, new Date().toISOString());
      if (!next) return result(current);
      const outcome = await this.repository.replace(current, next);
      if (outcome.kind === 'replaced') return result(outcome.stored);
      if (outcome.kind === 'gone') throw new NotFoundProblem(`Package ${id} does not exist.`);
      // Stale: another write landed between our read and write. A conditional request is now out of date.
      if (ifMatch !== undefined && ifMatch.trim() !== '*') {
        throw new PreconditionFailedProblem(`Package ${id} changed while this update was applied; read it again.`);
      }
    }
    throw new ConflictProblem('concurrent-modification', 'Concurrent modification', `Package ${id} is changing too often; retry.`);
  }

  /** Idempotent: deleting a package that does not exist (any more) succeeds, so saga compensation can retry. */
  async delete(id: string): Promise<void> {
    await this.repository.delete(id);
  }

  async summary(ownerId: string, year: number, month: number): Promise<PackageSummary> {
    const { from, to } = monthRange(year, month);
    const { count, totalWeight } = await this.repository.summary(ownerId, from, to);
    return { ownerId, year, month, count, totalWeight: roundWeight(totalWeight) };
  }

  private async load(id: string): Promise<StoredPackage> {
    const stored = await this.repository.get(id);
    if (!stored) throw new NotFoundProblem(`Package ${id} does not exist.`);
    return stored;
  }

  private replayedCreate(id: string, existing: StoredPackage, fingerprint: string): CreateResult {
    if (existing.fingerprint !== fingerprint) {
      throw new ConflictProblem('package-exists', 'Package already exists', `Package ${id} exists with different details.`);
    }
    return { created: false, ...result(existing) };
  }
}

function result(stored: StoredPackage): PackageResult {
  return { package: stored.package, etag: toHttpEtag(stored.etag) };
}
