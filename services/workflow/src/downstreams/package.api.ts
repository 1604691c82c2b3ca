import type { DownstreamResponse } from '@dronedelivery/platform';
import { DownstreamApi } from './downstream-api';

/**
 * PUT /api/packages/{id}: creates the package, or replays a create with the same body by the same creator; the
 * same id from another creator is a 409 (a package id names one package of one delivery).
 */
export interface PackageUpsert {
  ownerId: string;
  size: string;
  weight: number;
  tag: string;
  /** The delivery whose saga creates it; the package service keeps it and refuses the id to any other creator. */
  createdBy: string;
}

/** The part of a package the saga reads. */
export interface PackageView {
  createdBy?: string;
}

/** The package service's routes the saga calls. Answers come back as they are; the saga classifies them. */
export class PackageApi extends DownstreamApi {
  private readonly batchedUpserts = this.batched<PackageUpsert>('/api/packages/batch');

  /** Through POST /api/packages/batch when batching is on: the same answer as the PUT, fewer requests. */
  upsert(packageId: string, body: PackageUpsert): Promise<DownstreamResponse> {
    if (this.batchedUpserts) return this.batchedUpserts.call(packageId, body);
    return this.http.put(packagePath(packageId), body);
  }

  get(packageId: string): Promise<DownstreamResponse<PackageView>> {
    return this.http.get(packagePath(packageId));
  }

  /** With `ifMatch` (an ETag from `get`), deletes only that version of the package; another one answers 412. */
  delete(packageId: string, ifMatch?: string): Promise<DownstreamResponse> {
    return this.http.delete(packagePath(packageId), ifMatch === undefined ? undefined : { 'if-match': ifMatch });
  }
}

function packagePath(packageId: string): string {
  return `/api/packages/${encodeURIComponent(packageId)}`;
}
