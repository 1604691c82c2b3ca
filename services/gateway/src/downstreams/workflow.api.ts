import type { DownstreamResponse, ResilientHttpClient } from '@dronedelivery/platform';

/** The workflow's dead-letter routes, which the gateway exposes to operators. */
export class WorkflowApi {
  constructor(private readonly http: ResilientHttpClient) {}

  deadLetters(): Promise<DownstreamResponse> {
    return this.http.get('/api/deadletters');
  }

  replayDeadLetter(deadLetterId: string): Promise<DownstreamResponse> {
    return this.http.post(`/api/deadletters/${encodeURIComponent(deadLetterId)}/replay`, {});
  }
}
