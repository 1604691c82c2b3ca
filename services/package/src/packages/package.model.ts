import { type PackageSize, WEIGHT_DECIMALS } from '@dronedelivery/platform';
import { createHash } from 'node:crypto';

/** What the saga sends to create a package; its fingerprint makes creation idempotent. */
export interface PackageCreation {
  ownerId: string;
  size: PackageSize;
  weight: number;
  tag: string;
}

/**
 * An opaque reference to whoever created the package (the saga sends its delivery id). A package id names one
 * package of one creator: the creator is kept from the first create and is part of what a replay must match (next
 * to the fingerprint), so a create of the same id by another creator is a 409, never a shared package. That lets a
 * caller treat "the package names me as its creator" as "I created it, and it is mine alone to delete".
 */
export interface CreatedBy {
  createdBy?: string;
}

export type PackageChanges = Partial<Pick<PackageCreation, 'size' | 'weight' | 'tag'>>;

export interface Package extends PackageCreation, CreatedBy {
  id: string;
  /** Set once at creation (UTC); the month a package counts toward in summaries. */
  createdAt: string;
  updatedAt: string;
}

export interface PackageSummary {
  ownerId: string;
  year: number;
  month: number;
  count: number;
  totalWeight: number;
}

/** Identifies a creation body: a replay of the same PUT matches even after later PATCHes changed the package. */
export function fingerprintOf(creation: PackageCreation): string {
  const canonical = [creation.ownerId, creation.size, creation.weight, creation.tag];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** The package after a PATCH, or undefined when the changes leave it as it is (no write, ETag unchanged). */
export function applyChanges(current: Package, changes: PackageChanges, now: string): Package | undefined {
  const next: Package = {
    ...current,
    size: changes.size ?? current.size,
    weight: changes.weight ?? current.weight,
    tag: changes.tag ?? current.tag,
  };
  if (next.size === current.size && next.weight === current.weight && next.tag === current.tag) return undefined;
  return { ...next, updatedAt: now };
}

/** The half-open UTC interval [from, to) of a summary month, as ISO strings comparable with createdAt. */
export function monthRange(year: number, month: number): { from: string; to: string } {
  return {
    from: new Date(Date.UTC(year, month - 1, 1)).toISOString(),
    to: new Date(Date.UTC(year, month, 1)).toISOString(),
  };
}

/** Removes binary floating-point noise from a sum of weights that each have at most WEIGHT_DECIMALS decimals. */
export function roundWeight(weight: number): number {
  const factor = 10 ** WEIGHT_DECIMALS;
  return Math.round(weight * factor) / factor;
}
