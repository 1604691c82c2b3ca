import type { DownstreamResponse, ResilientHttpClient } from '@dronedelivery/platform';

/** The workflow's dead-letter routes, which the gateway exposes to operators. */
export class WorkflowApi {
  constructor(private readonly http: ResilientHttpClient) {}

  /** One page: `limit` entries at most, after the dead letter `after` (the last of the previous page). */
  deadLetters(page: { limit?: number; after?: string } = {}): Promise<DownstreamResponse> {
    const params = new URLSearchParams();
    if (page.limit !== undefined) params.set('limit', String(page.limit));
    if (page.after !== undefined) params.set('after', page.after);
    const query = params.size > 0 ? `?${params}` : '';
    return this.http.get(`/api/deadletters${query}`);
  }

  replayDeadLetter(deadLetterId: string): Promise<DownstreamResponse> {
    return this.http.post(`/api/deadletters/${encodeURIComponent(deadLetterId)}/replay`, {});
  }
}
