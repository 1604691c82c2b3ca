import { Logger, type Type } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { ParseIdPipe, createValidationPipe } from '../errors/validation';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { toProblem } from '../errors/to-problem';
import { baggageIsSynthetic, runMarked } from '../telemetry/synthetic';
import type { BatchItem, BatchItemResult, BatchRequestDto } from './batch.contract';

/** What a single-resource handler answers, as its route would: status, the headers it sets, the body. */
export interface ItemAnswer<T = unknown> {
  status: number;
  headers?: Record<string, string>;
  body?: T;
}

export interface BatchRoute<Dto extends object> {
  /** The single route, e.g. `PUT /api/packages/{id}`: each item is traced and logged as that request. */
  name: string;
  /** The field the single route's path id is reported as when it is malformed (as its ParseIdPipe names it). */
  idField: string;
  /** The single route's body DTO: each item's body is validated exactly as that route validates it. */
  dto: Type<Dto>;
  /** The single route's work for one item; what it throws becomes that item's problem+json, as on the route. */
  handle: (id: string, body: Dto) => Promise<ItemAnswer>;
}

const logger = new Logger('batch');
const tracer = trace.getTracer('dronedelivery-platform');
const validation = createValidationPipe();

/**
 * Runs every item of a batch as its own request would run: id and body validated on their own, the work done, and
 * any failure turned into that item's problem+json, so one bad or failing item never fails its neighbours. Each item
 * runs in its own trace context (a server span under the caller's traceparent) and synthetic mark.
 */
export async function runBatch<Dto extends object>(request: BatchRequestDto, route: BatchRoute<Dto>): Promise<BatchItemResult[]> {
  const idPipe = new ParseIdPipe(route.idField);
  return Promise.all(request.items.map((item) => runItem(item, route, idPipe)));
}

function runItem<Dto extends object>(item: BatchItem, route: BatchRoute<Dto>, idPipe: ParseIdPipe): Promise<BatchItemResult> {
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
          const id = idPipe.transform(item.id);
          const body = (await validation.transform(item.body, { type: 'body', metatype: route.dto })) as Dto;
          result = { id: item.id, ...(await route.handle(id, body)) };
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
