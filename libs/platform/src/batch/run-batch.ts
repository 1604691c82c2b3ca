import { Logger, type Type } from '@nestjs/common';
import { type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { ParseIdPipe, createValidationPipe } from '../errors/validation';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { toProblem } from '../errors/to-problem';
import { baggageIsSynthetic, runMarked } from '../telemetry/synthetic';
import type { BatchItem, BatchItemResult, BatchRequestDto, BatchResponse } from './batch.contract';

/** What a single-resource handler answers, as its route would: status, the headers it sets, the body. */
export interface ItemAnswer<T = unknown> {
  status: number;
  headers?: Record<string, string>;
  body?: T;
}

/** An item that passed its id and body validation, as a route that handles its items together receives it. */
export interface ValidBatchItem<Dto> {
  id: string;
  body: Dto;
}

/** How one item of work done for many at once turned out: its value, or what it failed with. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface BatchRouteShape<Dto extends object> {
  /** The single route, e.g. `PUT /api/packages/{id}`: each item is traced and logged as that request. */
  name: string;
  /** The field the single route's path id is reported as when it is malformed (as its ParseIdPipe names it). */
  idField: string;
  /** The single route's body DTO: each item's body is validated exactly as that route validates it. */
  dto: Type<Dto>;
}

export type BatchRoute<Dto extends object> = BatchRouteShape<Dto> &
  (
    | {
        /** The single route's work for one item; what it throws becomes that item's problem+json, as on the route. */
        handle: (id: string, body: Dto) => Promise<ItemAnswer>;
        /**
         * Items worked on at once (default: all of the batch). A bound keeps a batch from holding as many store
         * calls, and the memory they allocate, as it has items.
         */
        concurrency?: number;
        handleAll?: never;
      }
    | {
        /**
         * Instead of `handle`: the work for all the batch's valid items at once, called once every item is validated,
         * with the valid ones in the request's order (and in the batch request's own trace context). It answers one
         * result per item, in that order; a failed one becomes that item's problem+json, as `handle` throwing would.
         */
        handleAll: (items: ValidBatchItem<Dto>[]) => Promise<Settled<ItemAnswer>[]>;
        handle?: never;
        concurrency?: never;
      }
  );

/** How the items that passed validation get their answers; `refused` counts an item that did not pass. */
interface ItemWork<Dto> {
  answer(index: number, item: ValidBatchItem<Dto>): Promise<ItemAnswer>;
  refused(index: number): void;
}

const logger = new Logger('batch');
const tracer = trace.getTracer('dronedelivery-platform');
const validation = createValidationPipe();

/**
 * Runs every item of a batch as its own request would run: id and body validated on their own, the work done, and
 * any failure turned into that item's problem+json, so one bad or failing item never fails its neighbours. Each item
 * runs in its own trace context (a server span under the caller's traceparent) and synthetic mark. Answers the batch
 * route's response: one result per item, in the order of the items.
 */
export async function runBatch<Dto extends object>(request: BatchRequestDto, route: BatchRoute<Dto>): Promise<BatchResponse> {
  const idPipe = new ParseIdPipe(route.idField);
  const work: ItemWork<Dto> = route.handleAll
    ? together(route.handleAll, request.items.length, context.active())
    : { answer: (_index, { id, body }) => route.handle(id, body), refused: () => undefined };
  const results = await mapBounded(request.items, route.concurrency ?? request.items.length, (item, index) =>
    runItem(item, index, route, idPipe, work),
  );
  return { results };
}

/** `fn` over every item, at most `limit` at once, the results in the items' order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * Collects the valid items as each passes its validation and, once every item of the batch has passed or been
 * refused, runs `handleAll` once for them in the request's order; each item is answered from its own result.
 */
function together<Dto>(
  handleAll: (items: ValidBatchItem<Dto>[]) => Promise<Settled<ItemAnswer>[]>,
  count: number,
  batchContext: Context,
): ItemWork<Dto> {
  const valid: { index: number; item: ValidBatchItem<Dto>; resolve: (answer: ItemAnswer) => void; reject: (error: unknown) => void }[] = [];
  let decided = 0;
  const decide = () => {
    if (++decided < count || valid.length === 0) return;
    const group = valid.sort((a, b) => a.index - b.index);
    new Promise<Settled<ItemAnswer>[]>((resolve) =>
      resolve(context.with(batchContext, () => handleAll(group.map((entry) => entry.item)))),
    ).then(
      (results) =>
        group.forEach((entry, i) => {
          const result = results[i] ?? { ok: false, error: new Error('handleAll answered no result for this item') };
          if (result.ok) entry.resolve(result.value);
          else entry.reject(result.error);
        }),
      (error: unknown) => group.forEach((entry) => entry.reject(error)),
    );
  };
  return {
    answer: (index, item) =>
      new Promise<ItemAnswer>((resolve, reject) => {
        valid.push({ index, item, resolve, reject });
        decide();
      }),
    refused: () => decide(),
  };
}

/** One item's answer: its id and body validated (a refusal is reported to `work`), then its work done. */
async function answerItem<Dto extends object>(
  item: BatchItem,
  index: number,
  route: BatchRoute<Dto>,
  idPipe: ParseIdPipe,
  work: ItemWork<Dto>,
): Promise<ItemAnswer> {
  let valid: ValidBatchItem<Dto>;
  try {
    valid = { id: idPipe.transform(item.id), body: (await validation.transform(item.body, { type: 'body', metatype: route.dto })) as Dto };
  } catch (error) {
    work.refused(index);
    throw error;
  }
  return work.answer(index, valid);
}

function runItem<Dto extends object>(
  item: BatchItem,
  index: number,
  route: BatchRoute<Dto>,
  idPipe: ParseIdPipe,
  work: ItemWork<Dto>,
): Promise<BatchItemResult> {
  const carrier: Record<string, string> = {};
  if (item.traceparent) carrier.traceparent = item.traceparent;
  if (item.tracestate) carrier.tracestate = item.tracestate;
  if (item.baggage) carrier.baggage = item.baggage;
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const synthetic = item.synthetic === true || baggageIsSynthetic(item.baggage);
  return context.with(parent, () =>
    runMarked(synthetic, () =>
      tracer.startActiveSpan(route.name, { kind: SpanKind.SERVER, attributes: { 'batch.item.id': String(item.id) } }, async (span) => {
        const started = performance.now();
        let result: BatchItemResult;
        try {
          result = { id: item.id, ...(await answerItem(item, index, route, idPipe, work)) };
        } catch (error) {
          const { problem, headers, unexpected } = toProblem(error, itemUrl(route.name, item.id));
          if (unexpected) logger.error({ err: error, itemId: item.id, route: route.name, message: 'batch item failed' });
          if (problem.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: problem.title });
          result = { id: item.id, status: problem.status, headers: { ...headers, 'content-type': PROBLEM_CONTENT_TYPE }, body: problem };
        }
        span.setAttribute('http.response.status_code', result.status);
        span.end();
        logItem(route.name, item.id, result.status, performance.now() - started);
        return result;
      }),
    ),
  );
}

/** The single request's URL for an item (for its problem's `instance` and its log line). */
function itemUrl(name: string, id: string): string {
  return name.slice(name.indexOf(' ') + 1).replace(/\{[^}]+\}/, encodeURIComponent(id));
}

/** The line its single request would have logged, so an item is found in the logs as that request is. */
function logItem(name: string, id: string, status: number, elapsedMs: number): void {
  const line = {
    req: { method: name.slice(0, name.indexOf(' ')), url: itemUrl(name, id) },
    res: { statusCode: status },
    responseTime: Math.round(elapsedMs),
    batchItem: true,
  };
  if (status >= 500) logger.error({ ...line, message: 'request failed' });
  else logger.log({ ...line, message: 'request completed' });
}
