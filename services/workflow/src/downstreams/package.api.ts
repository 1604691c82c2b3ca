import type { CircuitView, DownstreamResponse, ResilientHttpClient } from '@dronedelivery/platform';

/** PUT /api/packages/{id}: creates the package, or replays a create with the same body. */
export interface PackageUpsert {
  ownerId: string;
  size: string;
  weight: number;
  tag: string;
  /** The delivery whose saga creates it; the package service keeps the creator of the create that won. */
  createdBy: string;
}

/** The part of a package the saga reads. */
export interface PackageView {
  createdBy?: string;
}

/** The package service's routes the saga calls. Answers come back as they are; the saga classifies them. */
export class PackageApi {
  constructor(private readonly http: ResilientHttpClient) {}

  /** Its breaker, which the consumer watches to hold commands back while calls would be rejected. */
  get circuit(): CircuitView {
    return this.http;
  }

  upsert(packageId: string, body: PackageUpsert): Promise<DownstreamResponse> {
    return this.http.put(packagePath(packageId), body);
  }

  get(packageId: string): Promise<DownstreamResponse<PackageView>> {
    return this.http.get(packagePath(packageId));
  }

  delete(packageId: string): Promise<DownstreamResponse> {
    return this.http.delete(packagePath(packageId));
  }
}

function packagePath(packageId: string): string {
  return `/api/packages/${encodeURIComponent(packageId)}`;
}
