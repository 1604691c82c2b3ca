import {
  AllowCallers,
  BatchEndpoint,
  BatchRequestDto,
  BatchResponseView,
  ConfirmationDto,
  type ItemAnswer,
  ParseIdPipe,
  runBatch,
} from '@dronedelivery/platform';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Delivery, DeliveryEvent, DeliverySummary } from './delivery.model';
import {
  CreateDeliveryDto,
  DeliveryEventView,
  DeliveryOwnerView,
  DeliveryStatusView,
  DeliverySummaryView,
  DeliveryView,
  RescheduleDeliveryDto,
  SetStatusDto,
  SummaryQueryDto,
} from './deliveries.dto';
import { DeliveriesService } from './deliveries.service';

const deliveryId = new ParseIdPipe('deliveryId');
const CREATE_ONE = 'PUT /api/deliveries/{id}';

@ApiTags('deliveries')
@Controller('api/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @AllowCallers('gateway')
  @Get('summary')
  @ApiOkResponse({ type: DeliverySummaryView })
  summary(@Query() query: SummaryQueryDto): Promise<DeliverySummary> {
    return this.deliveries.summary(query.ownerId, query.year, query.month);
  }

  @AllowCallers('workflow')
  @Put(':id')
  @ApiCreatedResponse({ type: DeliveryView, description: 'Created.' })
  @ApiOkResponse({ type: DeliveryView, description: 'Already existed with the same details (idempotent replay).' })
  @ApiConflictResponse({ description: 'Exists with different details.' })
  async create(
    @Param('id', deliveryId) id: string,
    @Body() body: CreateDeliveryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Delivery> {
    const answer = await this.createAnswer(id, body);
    void reply.status(answer.status).headers(answer.headers);
    return answer.body;
  }

  /** For the saga: many creates in one request, each answered as PUT /api/deliveries/{id} would answer it. */
  @AllowCallers('workflow')
  @BatchEndpoint(CREATE_ONE)
  createMany(@Body() batch: BatchRequestDto): Promise<BatchResponseView> {
    return runBatch(batch, {
      name: CREATE_ONE,
      idField: 'deliveryId',
      dto: CreateDeliveryDto,
      handle: (id, body) => this.createAnswer(id, body),
    });
  }

  private async createAnswer(id: string, body: CreateDeliveryDto): Promise<Required<ItemAnswer<Delivery>>> {
    const { created, delivery } = await this.deliveries.create(id, body);
    return { status: created ? 201 : 200, headers: created ? { location: `/api/deliveries/${id}` } : {}, body: delivery };
  }

  @AllowCallers('gateway', 'workflow')
  @Get(':id')
  @ApiOkResponse({ type: DeliveryView })
  @ApiNotFoundResponse()
  get(@Param('id', deliveryId) id: string): Promise<Delivery> {
    return this.deliveries.get(id);
  }

  @AllowCallers('gateway')
  @Get(':id/owner')
  @ApiOkResponse({ type: DeliveryOwnerView })
  async owner(@Param('id', deliveryId) id: string): Promise<DeliveryOwnerView> {
    const { ownerId } = await this.deliveries.get(id);
    return { deliveryId: id, ownerId };
  }

  @AllowCallers('gateway')
  @Get(':id/status')
  @ApiOkResponse({ type: DeliveryStatusView })
  async status(@Param('id', deliveryId) id: string): Promise<DeliveryStatusView> {
    const delivery = await this.deliveries.get(id);
    return { deliveryId: id, status: delivery.status, droneId: delivery.droneId, updatedAt: delivery.updatedAt, reason: delivery.reason };
  }

  @AllowCallers('gateway')
  @Get(':id/events')
  @ApiOkResponse({ type: [DeliveryEventView] })
  events(@Param('id', deliveryId) id: string): Promise<DeliveryEvent[]> {
    return this.deliveries.events(id);
  }

  @AllowCallers('workflow')
  @Patch(':id')
  @ApiOkResponse({ type: DeliveryView, description: 'Rescheduled (only while Scheduled).' })
  @ApiConflictResponse({ description: 'Not Scheduled any more.' })
  reschedule(@Param('id', deliveryId) id: string, @Body() body: RescheduleDeliveryDto): Promise<Delivery> {
    return this.deliveries.reschedule(id, body);
  }

  @AllowCallers('workflow')
  @Delete(':id')
  @ApiOkResponse({ type: DeliveryView, description: 'Cancelled; kept for the configured retention, then expires.' })
  cancel(@Param('id', deliveryId) id: string): Promise<Delivery> {
    return this.deliveries.cancel(id);
  }

  @AllowCallers('workflow')
  @Post(':id/confirmations')
  @HttpCode(200)
  @ApiOkResponse({ type: DeliveryView, description: 'Marked Delivered.' })
  confirm(@Param('id', deliveryId) id: string, @Body() body: ConfirmationDto): Promise<Delivery> {
    return this.deliveries.confirm(id, body);
  }

  @AllowCallers('workflow')
  @Put(':id/status')
  @ApiOkResponse({ type: DeliveryView, description: 'Status set by the saga (Failed with a reason, or Cancelled).' })
  @ApiCreatedResponse({ type: DeliveryView, description: 'Did not exist: recorded in this status from `delivery`, without a drone.' })
  @ApiNotFoundResponse({ description: 'Does not exist and no `delivery` details were given.' })
  async setStatus(
    @Param('id', deliveryId) id: string,
    @Body() body: SetStatusDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Delivery> {
    const { created, delivery } = await this.deliveries.setStatus(id, body.status, body.reason, body.delivery);
    if (created) void reply.status(201).header('location', `/api/deliveries/${id}`);
    return delivery;
  }
}
