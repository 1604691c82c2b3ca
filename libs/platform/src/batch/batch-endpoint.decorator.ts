import { HttpCode, Post, applyDecorators } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { BatchResponseView } from './batch.contract';

/**
 * Makes a handler the controller's batch route, `POST …/batch`, for many calls of its single route `single` (e.g.
 * `PUT /api/packages/{id}`, as runBatch names it): 200 with one result per item. Who may call it is the handler's own
 * AllowCallers.
 */
export function BatchEndpoint(single: string): MethodDecorator {
  return applyDecorators(
    Post('batch'),
    HttpCode(200),
    ApiOkResponse({ type: BatchResponseView, description: `One result per item, as ${single} would answer it.` }),
  );
}
