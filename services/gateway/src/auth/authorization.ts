import { ForbiddenProblem, NotFoundProblem } from '@dronedelivery/platform';
import type { Principal } from './principal';

/** Pure authorisation rules, shared by every route (unit-tested in authorization.spec.ts). */

export function mayActFor(caller: Principal, ownerId: string): boolean {
  return caller.ops || caller.ownerId === ownerId || isSyntheticOwnerOf(caller, ownerId);
}

/** The load-test role acts for synthetic owners (the configured prefix), never for anyone else. */
export function isSyntheticOwnerOf(caller: Principal, ownerId: string): boolean {
  const prefix = caller.loadTestOwnerPrefix;
  return prefix !== undefined && ownerId.length > prefix.length && ownerId.startsWith(prefix);
}

/** The owner of a new delivery: the caller by default; someone else only for the ops role (or load-test for synthetic owners). */
export function ownerForCreate(caller: Principal, requestedOwnerId: string | undefined): string {
  const ownerId = requestedOwnerId ?? caller.ownerId;
  if (!mayActFor(caller, ownerId)) {
    throw new ForbiddenProblem(
      caller.loadTestOwnerPrefix === undefined
        ? 'Only the ops role may create deliveries for another owner.'
        : `The load-test role may create deliveries only for owners whose id starts with '${caller.loadTestOwnerPrefix}'.`,
    );
  }
  return ownerId;
}

/**
 * A resource another owner holds answers exactly like one that does not exist, so ids cannot be probed.
 * Returns normally only when the caller may see it.
 */
export function assertVisible(caller: Principal, ownerId: string | undefined, what: string): void {
  if (ownerId === undefined || !mayActFor(caller, ownerId)) throw new NotFoundProblem(`${what} does not exist.`);
}

/** For queries about an owner (summaries): the owner or ops; others learn nothing but "forbidden". */
export function assertMayQueryOwner(caller: Principal, ownerId: string): void {
  if (!mayActFor(caller, ownerId)) throw new ForbiddenProblem("Only the owner or the ops role may see this owner's data.");
}

export function assertOps(caller: Principal): void {
  if (!caller.ops) throw new ForbiddenProblem('This operation needs the ops role.');
}
