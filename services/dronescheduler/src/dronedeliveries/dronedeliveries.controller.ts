import {
  AllowCallers,
  BatchEndpoint,
  BatchRequestDto,
  BatchResponseView,
  type ItemAnswer,
  ParseIdPipe,
  type Settled,
  runBatch,
} from '@dronedelivery/platform';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AssignmentView as Assignment, Utilization } from './assignment.model';
import { AssignDroneDto, AssignmentView, DroneAssignedView, UtilizationQueryDto, UtilizationView } from './dronedeliveries.dto';
import { DroneDeliveriesService, toView } from './dronedeliveries.service';

const deliveryId = new ParseIdPipe('deliveryId');
const ASSIGN_ONE = 'PUT /api/dronedeliveries/{deliveryId}';

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
    return assigned(await this.deliveries.assign(id, body));
  }

  /** For the saga: many assignments in one request, each answered as PUT /api/dronedeliveries/{deliveryId} would. */
  @AllowCallers('workflow')
  @BatchEndpoint(ASSIGN_ONE)
  assignMany(@Body() batch: BatchRequestDto): Promise<BatchResponseView> {
    // The valid items are assigned together (DroneDeliveriesService.assignMany), each answered as its PUT would be.
    return runBatch(batch, {
      name: ASSIGN_ONE,
      idField: 'deliveryId',
      dto: AssignDroneDto,
      handleAll: async (items) => {
        const settled = await this.deliveries.assignMany(items.map(({ id, body }) => ({ deliveryId: id, request: body })));
        return settled.map((one): Settled<ItemAnswer> => (one.ok ? { ok: true, value: { status: 200, body: assigned(one.value) } } : one));
      },
    });
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

/** What PUT /api/dronedeliveries/{deliveryId} answers for an assignment. */
function assigned(assignment: { deliveryId: string; droneId: string }): DroneAssignedView {
  return { deliveryId: assignment.deliveryId, droneId: assignment.droneId };
}
