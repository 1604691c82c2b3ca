import { AllowCallers, BatchRequestDto, BatchResponseView, ParseIdPipe, runBatch } from '@dronedelivery/platform';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AssignmentView as Assignment, Utilization } from './assignment.model';
import { AssignDroneDto, AssignmentView, DroneAssignedView, UtilizationQueryDto, UtilizationView } from './dronedeliveries.dto';
import { BatchCoalescer } from './batch-coalescer';
import { DroneDeliveriesService, toView } from './dronedeliveries.service';

const deliveryId = new ParseIdPipe('deliveryId');

@ApiTags('dronedeliveries')
@Controller('api/dronedeliveries')
export class DroneDeliveriesController {
  constructor(private readonly deliveries: DroneDeliveriesService) {}

  @AllowCallers('gateway')
  @Get('utilization')
  @ApiOkResponse({ type: UtilizationView })
  utilization(@Query() query: UtilizationQueryDto): Promise<Utilization> {
    return this.deliveries.utilization(query.ownerId, query.year, query.month);
  }

  @AllowCallers('workflow')
  @Put(':deliveryId')
  @ApiOkResponse({ type: DroneAssignedView, description: 'Assigned; the same request again returns the same drone.' })
  @ApiConflictResponse({
    description:
      'no-drone-available (retry later), assignment-completed, assignment-exists (other owner) or active-bookings-exceeded (OWNER_MAX_ACTIVE_BOOKINGS).',
  })
  async assign(@Param('deliveryId', deliveryId) id: string, @Body() body: AssignDroneDto): Promise<DroneAssignedView> {
    const assignment = await this.deliveries.assign(id, body);
    return { deliveryId: assignment.deliveryId, droneId: assignment.droneId };
  }

  /** For the saga: many assignments in one request, each answered as PUT /api/dronedeliveries/{deliveryId} would. */
  @AllowCallers('workflow')
  @Post('batch')
  @HttpCode(200)
  @ApiOkResponse({ type: BatchResponseView, description: 'One result per item, as PUT /api/dronedeliveries/{deliveryId} would answer it.' })
  async assignMany(@Body() batch: BatchRequestDto): Promise<BatchResponseView> {
    // The valid items are assigned together (DroneDeliveriesService.assignMany), each answered as its PUT would be.
    const positions = new Map<string, number>();
    batch.items.forEach((item, index) => positions.has(String(item.id)) || positions.set(String(item.id), index));
    const together = new BatchCoalescer(
      (items: { deliveryId: string; request: AssignDroneDto }[]) => this.deliveries.assignMany(items),
      (item) => positions.get(item.deliveryId) ?? 0,
    );
    const results = await runBatch(batch, {
      name: 'PUT /api/dronedeliveries/{deliveryId}',
      idField: 'deliveryId',
      dto: AssignDroneDto,
      handle: async (id, body) => {
        const assignment = await together.add({ deliveryId: id, request: body });
        return { status: 200, body: { deliveryId: assignment.deliveryId, droneId: assignment.droneId } };
      },
    });
    return { results };
  }

  @AllowCallers('gateway', 'workflow')
  @Get(':deliveryId')
  @ApiOkResponse({ type: AssignmentView })
  @ApiNotFoundResponse()
  async get(@Param('deliveryId', deliveryId) id: string): Promise<Assignment> {
    return toView(await this.deliveries.get(id));
  }

  @AllowCallers('workflow')
  @Delete(':deliveryId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Released (idempotent; also for unknown deliveries).' })
  async release(@Param('deliveryId', deliveryId) id: string): Promise<void> {
    await this.deliveries.release(id);
  }

  @AllowCallers('workflow')
  @Post(':deliveryId/completion')
  @HttpCode(200)
  @ApiOkResponse({ type: AssignmentView, description: 'Completed; the drone is free again (idempotent).' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'assignment-released: the delivery was released, not delivered.' })
  async complete(@Param('deliveryId', deliveryId) id: string): Promise<Assignment> {
    return toView(await this.deliveries.complete(id));
  }
}
