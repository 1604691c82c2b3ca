import { BatchingCaller, type BatchingPolicy, type CircuitView, type ResilientHttpClient } from '@dronedelivery/platform';

/**
 * What the saga's typed clients share: the resilient client of their downstream, its breaker for the consumer to
 * watch, and the batching policy (DOWNSTREAM_BATCH_*, via DownstreamClientsModule) that a call with a batch route
 * goes through when the settings turn batching on.
 */
export abstract class DownstreamApi {
  constructor(
    protected readonly http: ResilientHttpClient,
    private readonly batching?: BatchingPolicy,
  ) {}

  /** Its breaker, which the consumer watches to hold commands back while calls would be rejected. */
  get circuit(): CircuitView {
    return this.http;
  }

  /** The caller that sends calls through the batch route `path`, or undefined when calls go one at a time. */
  protected batched<B, R = unknown>(path: string): BatchingCaller<B, R> | undefined {
    return this.batching && new BatchingCaller<B, R>(this.http, path, this.batching);
  }
}
