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

  /**
   * Idempotent: the same body from the same creator for an existing id returns the stored package; a different body,
   * or the same body from another creator (or from none, when it has one), is a 409.
   */
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
    return this.replayedCreate(id, existing, fingerprint, createdBy);
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

  /**
   * Idempotent: deleting a package that does not exist (any more) succeeds, so saga compensation can retry. With
   * If-Match only the version the caller read is deleted (else 412), checked by the store itself, so a package
   * deleted and created again under the same id in between is never deleted by mistake.
   */
  async delete(id: string, ifMatch?: string): Promise<void> {
    if (ifMatch === undefined) {
      await this.repository.delete(id);
      return;
    }
    const current = await this.repository.get(id);
    // Gone already: the deletion the caller asks for has been applied (RFC 9110 13.1.1 allows the 2xx).
    if (!current) return;
    if (!ifMatchSatisfied(ifMatch, toHttpEtag(current.etag)) || (await this.repository.delete(id, current.etag)) === 'stale') {
      throw new PreconditionFailedProblem(`Package ${id} has changed since it was read (If-Match does not match its ETag); read it again.`);
    }
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

  private replayedCreate(id: string, existing: StoredPackage, fingerprint: string, createdBy: string | undefined): CreateResult {
    // A package id names one package of one creator: sharing it would let one creator's compensation delete a
    // package another still uses. One answer for both refusals, naming nothing of the existing package, so it
    // cannot be used to find out another creator's details by trying them.
    if (existing.fingerprint !== fingerprint || existing.package.createdBy !== createdBy) {
      throw new ConflictProblem(
        'package-exists',
        'Package already exists',
        `Package ${id} already exists with other details or another creator; a package id names one package of one creator.`,
      );
    }
    return { created: false, ...result(existing) };
  }
}

function result(stored: StoredPackage): PackageResult {
  return { package: stored.package, etag: toHttpEtag(stored.etag) };
}
