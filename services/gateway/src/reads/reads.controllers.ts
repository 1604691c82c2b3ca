import { ParseIdPipe } from '@dronedelivery/platform';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiAcceptedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Caller, OpsOnly } from '../auth/auth.decorators';
import { assertMayQueryOwner, assertVisible } from '../auth/authorization';
import type { Principal } from '../auth/principal';
import { DeliveryRequestsService } from '../deliveryrequests/deliveryrequests.service';
import { answerOf } from '../downstreams/answer-of';
import { DeliveryApi } from '../downstreams/delivery.api';
import { DroneSchedulerApi } from '../downstreams/dronescheduler.api';
import { PackageApi } from '../downstreams/package.api';
import { WorkflowApi } from '../downstreams/workflow.api';
import { DeadLetterPageQueryDto, MonthQueryDto, PackageSummaryView, RequestedStatusView, UtilizationQueryDto } from './reads.dto';

const deliveryIdPipe = new ParseIdPipe('deliveryId');
const UNAVAILABLE = { description: 'The owning service is down or its breaker is open; retry after Retry-After.' };

/**
 * Deliveries are read from the delivery service, authorised by the gateway's request record (the owner the
 * caller was authenticated as when creating it), or by the delivery service's owner once that record expired.
 * While the saga has not created the delivery yet, the delivery service answers 404 and the gateway answers from
 * its record, so an accepted id never 404s.
 */
@ApiBearerAuth()
@ApiTags('deliveries')
@ApiServiceUnavailableResponse(UNAVAILABLE)
@Controller('api/deliveries')
export class DeliveryReadsController {
  constructor(
    private readonly requests: DeliveryRequestsService,
    private readonly delivery: DeliveryApi,
  ) {}

  @Get(':id')
  @ApiOkResponse({ description: 'The delivery, or the accepted request with status Requested while the saga runs.' })
  @ApiNotFoundResponse({ description: "Unknown, or another owner's." })
  async get(@Caller() caller: Principal, @Param('id', deliveryIdPipe) id: string): Promise<unknown> {
    const { record } = await this.requests.visibleDelivery(caller, id);
    const response = await this.delivery.get(id);
    if (response.status === 404 && record) {
      return { deliveryId: id, status: 'Requested', ...record.request, createdAt: record.createdAt, updatedAt: record.updatedAt };
    }
    return answerOf(response, `Delivery ${id}`, 'authorised');
  }

  @Get(':id/status')
  @ApiOkResponse({ type: RequestedStatusView })
  @ApiNotFoundResponse({ description: "Unknown, or another owner's." })
  async status(@Caller() caller: Principal, @Param('id', deliveryIdPipe) id: string): Promise<unknown> {
    const { record } = await this.requests.visibleDelivery(caller, id);
    const response = await this.delivery.status(id);
    if (response.status === 404 && record) return { deliveryId: id, status: 'Requested', updatedAt: record.updatedAt };
    return answerOf(response, `Delivery ${id}`, 'authorised');
  }
}

@ApiBearerAuth()
@ApiTags('packages')
@ApiServiceUnavailableResponse(UNAVAILABLE)
@Controller('api/packages')
export class PackageReadsController {
  constructor(private readonly packages: PackageApi) {}

  @Get('summary/:ownerId')
  @ApiOkResponse({ type: PackageSummaryView })
  @ApiForbiddenResponse({ description: "Another owner's summary without the ops role." })
  async summary(
    @Caller() caller: Principal,
    @Param('ownerId', new ParseIdPipe('ownerId')) ownerId: string,
    @Query() query: MonthQueryDto,
  ): Promise<unknown> {
    // Checked before calling: the package service is never asked about data the caller may not see.
    assertMayQueryOwner(caller, ownerId);
    return answerOf(await this.packages.summary(ownerId, query.year, query.month), `Summary for ${ownerId}`, 'authorised');
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The package.' })
  @ApiNotFoundResponse({ description: "Unknown, or another owner's." })
  async get(@Caller() caller: Principal, @Param('id', new ParseIdPipe('packageId')) id: string): Promise<unknown> {
    // Unchecked: the owner is known only from the answer.
    const pkg = answerOf(await this.packages.get(id), `Package ${id}`, 'unchecked');
    // The owner is only known from the package itself; another owner's package answers like a missing one.
    assertVisible(caller, pkg?.ownerId, `Package ${id}`);
    return pkg;
  }
}

@ApiBearerAuth()
@ApiTags('dronedeliveries')
@ApiServiceUnavailableResponse(UNAVAILABLE)
@ApiForbiddenResponse({ description: 'Needs the ops role.' })
@OpsOnly()
@Controller('api/dronedeliveries')
export class DroneDeliveriesController {
  constructor(private readonly scheduler: DroneSchedulerApi) {}

  @Get('utilization')
  @ApiOkResponse({ description: 'Drone utilization for the month.' })
  async utilization(@Query() query: UtilizationQueryDto): Promise<unknown> {
    return answerOf(await this.scheduler.utilization(query), 'Utilization', 'authorised');
  }
}

@ApiBearerAuth()
@ApiTags('deadletters')
@ApiServiceUnavailableResponse(UNAVAILABLE)
@ApiForbiddenResponse({ description: 'Needs the ops role.' })
@OpsOnly()
@Controller('api/deadletters')
export class DeadLettersController {
  constructor(private readonly workflow: WorkflowApi) {}

  @Get()
  @ApiOkResponse({ description: 'Dead-lettered commands, oldest first, a page at a time, from the workflow service.' })
  async list(@Query() page: DeadLetterPageQueryDto): Promise<unknown> {
    return answerOf(await this.workflow.deadLetters(page), 'Dead letters', 'authorised');
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'The dead letter is back on the command stream.' })
  @ApiNotFoundResponse()
  async replay(@Param('id', new ParseIdPipe('deadLetterId')) id: string): Promise<unknown> {
    return answerOf(await this.workflow.replayDeadLetter(id), `Dead letter ${id}`, 'authorised');
  }
}
