import type { DownstreamResponse, ResilientHttpClient } from '@dronedelivery/platform';

/** The part of a package the gateway reads itself: its owner, for authorisation. */
export interface PackageOwner {
  ownerId?: string;
}

/** The package service's read routes the gateway calls; bodies are passed on to the caller as they are. */
export class PackageApi {
  constructor(private readonly http: ResilientHttpClient) {}

  get(packageId: string): Promise<DownstreamResponse<PackageOwner>> {
    return this.http.get(`/api/packages/${encodeURIComponent(packageId)}`);
  }

  summary(ownerId: string, year: number, month: number): Promise<DownstreamResponse> {
    return this.http.get(`/api/packages/summary/${encodeURIComponent(ownerId)}?year=${year}&month=${month}`);
  }
}
