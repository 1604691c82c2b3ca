import { context, propagation } from '@opentelemetry/api';
import type { BatchItem, BatchItemResult, BatchResponse } from '../batch/batch.contract';
import { isSynthetic, runUnmarked } from '../telemetry/synthetic';
import { type CallFence, CallFencedError, currentFence, runFenced } from './call-fence';
import type { DownstreamResponse, ResilientHttpClient } from './resilient-http-client';

export interface BatchingPolicy {
  /** Items per batch request, at most the batch route's limit (BATCH_MAX_ITEMS). */
  maxItems: number;
  /** Batch requests in flight at once; further calls wait and go in the next batch. */
  maxInFlight: number;
  /** Told the size of every batch sent (the batch route's path and its items), e.g. for a histogram. */
  onBatch?: (path: string, items: number) => void;
}

interface Pending<R> {
  item: BatchItem;
  fence: CallFence | undefined;
  resolve: (response: DownstreamResponse<R>) => void;
  reject: (error: unknown) => void;
}

const THROTTLING = 429;

/**
 * Sends calls of one kind (one batch route of one downstream) together: a call made while the batches allowed in
 * flight are busy waits for the next one, so batches stay small (one call each) when traffic is light and grow as it
 * rises, with no timer adding latency. Each call resolves with exactly the answer its single request would get.
 *
 * Every call keeps what it would have had alone: its trace context and synthetic mark travel with its item, and its
 * call fence is checked before every attempt of the batch; a fenced call is taken out and fails alone with
 * CallFencedError, the rest are sent again. A batch whose every item failed for the downstream's own reasons (5xx,
 * 429) counts as that failure for the client's breaker and retries, as the single calls would have.
 */
export class BatchingCaller<B, R = unknown> {
  private readonly queue: Pending<R>[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly http: ResilientHttpClient,
    private readonly path: string,
    private readonly policy: BatchingPolicy,
  ) {}

  call(id: string, body: B): Promise<DownstreamResponse<R>> {
    const item: BatchItem = { id, body };
    propagation.inject(context.active(), item as unknown as Record<string, string>);
    if (isSynthetic()) item.synthetic = true;
    return new Promise((resolve, reject) => {
      this.queue.push({ item, fence: currentFence(), resolve, reject });
      this.scheduleFlush();
    });
  }

  /** On the next turn of the event loop, so the calls made in this one share a batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0 || this.inFlight >= this.policy.maxInFlight) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      while (this.inFlight < this.policy.maxInFlight && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.policy.maxItems);
        this.policy.onBatch?.(this.path, batch.length);
        this.inFlight++;
        void this.send(batch).finally(() => {
          this.inFlight--;
          this.scheduleFlush();
        });
      }
    });
  }

  private async send(batch: Pending<R>[]): Promise<void> {
    const fenced = new Map<Pending<R>, string>();
    const fence: CallFence = (attemptMs) => {
      for (const pending of batch) {
        const refusal = fenced.has(pending) ? undefined : pending.fence?.(attemptMs);
        if (refusal !== undefined) fenced.set(pending, refusal);
      }
      return fenced.size > 0 ? `${fenced.size} of ${batch.length} batched calls fenced off` : undefined;
    };
    let response: DownstreamResponse<BatchResponse<R>>;
    try {
      // The batch belongs to no one call: each carries its own trace context, mark and fence (checked by `fence`).
      response = await runUnmarked(() =>
        runFenced(fence, () =>
          this.http.request<BatchResponse<R>>({
            method: 'POST',
            path: this.path,
            body: { items: batch.map((pending) => pending.item) },
            idempotent: true,
            failureStatus: everyItemFailed,
          }),
        ),
      );
    } catch (error) {
      if (error instanceof CallFencedError && fenced.size > 0) {
        for (const [pending, reason] of fenced) pending.reject(new CallFencedError(reason));
        this.queue.unshift(...batch.filter((pending) => !fenced.has(pending)));
        return;
      }
      for (const pending of batch) pending.reject(error);
      return;
    }
    const results = response.status === 200 ? response.body?.results : undefined;
    if (!Array.isArray(results) || results.length !== batch.length) {
      // The batch as a whole was refused (401, 403, 400...): that is the answer each single call would have had.
      if (response.status !== 200) for (const pending of batch) pending.resolve(response as DownstreamResponse<R>);
      else
        for (const pending of batch)
          pending.reject(new Error(`${this.path} answered ${results?.length ?? 'no'} results for ${batch.length} items`));
      return;
    }
    batch.forEach((pending, index) => {
      const result = results[index];
      if (result.id !== pending.item.id)
        pending.reject(new Error(`${this.path} answered item ${result.id} in place of ${pending.item.id}`));
      else pending.resolve({ status: result.status, headers: result.headers ?? {}, body: result.body as R });
    });
  }
}

/** The status a batch stands for when every item failed for the downstream's own reasons; undefined otherwise. */
function everyItemFailed(response: DownstreamResponse): number | undefined {
  const results = (response.body as BatchResponse | undefined)?.results;
  if (!Array.isArray(results) || results.length === 0) return undefined;
  const failing = (result: BatchItemResult) => result.status >= 500 || result.status === THROTTLING;
  return results.every(failing) ? results[0].status : undefined;
}
