import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { BATCH_MAX_ITEMS } from './batch-limits';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';

/**
 * Batch routes let a caller that works on many resources at once (the workflow's saga) send one request for many
 * items of one kind of call. Each item is what one single-resource request would carry (the id of its path and its
 * body) plus that request's trace context and synthetic mark; each gets the answer the single request would get.
 */
export { BATCH_MAX_ITEMS };

/** W3C trace context headers are bounded by the spec; these limits only keep a batch's size predictable. */
const MAX_TRACE_HEADER_LENGTH = 512;

export class BatchItemDto {
  @ApiProperty({ description: 'The id the single-resource route takes in its path.' })
  @IsString()
  @MaxLength(64)
  id!: string;

  @ApiProperty({ description: "The single-resource route's request body.", type: 'object', additionalProperties: true })
  @IsObject()
  body!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'W3C traceparent of the work this item belongs to.' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TRACE_HEADER_LENGTH)
  traceparent?: string;

  @ApiPropertyOptional({ description: 'W3C tracestate of the work this item belongs to.' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TRACE_HEADER_LENGTH)
  tracestate?: string;

  @ApiPropertyOptional({ description: 'W3C baggage of the work this item belongs to.' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TRACE_HEADER_LENGTH)
  baggage?: string;

  @ApiPropertyOptional({ description: 'The item belongs to synthetic traffic (as X-Synthetic-Request: true on a single request).' })
  @IsOptional()
  @IsBoolean()
  synthetic?: boolean;
}

/** The envelope is checked as a whole; each item's id and body are checked on their own, so one never fails another. */
export class BatchRequestDto {
  /** The platform's validation pipe leaves the per-string checks of a batch to its items (see runBatch). */
  static readonly itemsValidatedSeparately = true;

  @ApiProperty({ type: [BatchItemDto], minItems: 1, maxItems: BATCH_MAX_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BATCH_MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => BatchItemDto)
  items!: BatchItemDto[];
}

/** What one item got: exactly the status, headers and body the single-resource request would have answered. */
export class BatchItemResultView {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'The HTTP status the single request would have answered.' })
  status!: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: "The single request's response body: the resource, or a problem+json document." })
  body?: unknown;
}

export class BatchResponseView {
  @ApiProperty({ type: [BatchItemResultView], description: 'One result per item, in the order of the items.' })
  results!: BatchItemResultView[];
}

export interface BatchItem {
  id: string;
  body: unknown;
  traceparent?: string;
  tracestate?: string;
  baggage?: string;
  synthetic?: boolean;
}

export interface BatchItemResult<T = unknown> {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: T;
}

export interface BatchResponse<T = unknown> {
  results: BatchItemResult<T>[];
}
