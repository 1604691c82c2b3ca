import type { DownstreamResponse, ResilientHttpClient } from '@dronedelivery/platform';

export interface UtilizationQuery {
  ownerId: string;
  year: number;
  month: number;
}

/** The dronescheduler's read routes the gateway calls; bodies are passed on to the caller as they are. */
export class DroneSchedulerApi {
  constructor(private readonly http: ResilientHttpClient) {}

  utilization({ ownerId, year, month }: UtilizationQuery): Promise<DownstreamResponse> {
    const params = new URLSearchParams({ ownerId, year: String(year), month: String(month) });
    return this.http.get(`/api/dronedeliveries/utilization?${params}`);
  }
}
