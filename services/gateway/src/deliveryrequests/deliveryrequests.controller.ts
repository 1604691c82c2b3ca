import { ConfirmationDto, ParseIdPipe } from '@dronedelivery/platform';
import { Body, Controller, Delete, Headers, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Caller } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import type { AcceptedAnswer } from './delivery-request.model';
import { CommandAcceptedView, CreateDeliveryRequestDto, DeliveryRequestAcceptedView, RescheduleRequestDto } from './deliveryrequests.dto';
import { type CommandAccepted, DeliveryRequestsService } from './deliveryrequests.service';

const deliveryId = new ParseIdPipe('deliveryId');

@ApiBearerAuth()
@ApiTags('deliveryrequests')
@ApiUnauthorizedResponse({ description: 'Missing, invalid or expired token.' })
@ApiServiceUnavailableResponse({
  description: 'Redis unreachable or replicas did not confirm; nothing was accepted. Retry (same Idempotency-Key).',
})
@Controller('api/deliveryrequests')
export class DeliveryRequestsController {
  constructor(private readonly requests: DeliveryRequestsService) {}

  @Post()
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and body → the same answer, no second delivery.' })
  @ApiAcceptedResponse({ type: DeliveryRequestAcceptedView, description: 'Durably queued; Location names the delivery.' })
  @ApiForbiddenResponse({ description: 'ownerId names another owner and the caller lacks the ops role.' })
  @ApiUnprocessableEntityResponse({ description: 'Idempotency-Key reused with a different body.' })
  async create(
    @Caller() caller: Principal,
    @Body() body: CreateDeliveryRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedAnswer['body']> {
    const answer = await this.requests.create(caller, body, idempotencyKey);
    void reply.header('location', answer.location);
    return answer.body;
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: CommandAcceptedView, description: 'Cancel queued.' })
  @ApiNotFoundResponse()
  cancel(@Caller() caller: Principal, @Param('id', deliveryId) id: string): Promise<CommandAccepted> {
    return this.requests.cancel(caller, id);
  }

  @Patch(':id')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: CommandAcceptedView, description: 'Reschedule queued.' })
  @ApiNotFoundResponse()
  reschedule(
    @Caller() caller: Principal,
    @Param('id', deliveryId) id: string,
    @Body() body: RescheduleRequestDto,
  ): Promise<CommandAccepted> {
    return this.requests.reschedule(caller, id, body);
  }
}

@ApiBearerAuth()
@ApiTags('deliveries')
@Controller('api/deliveries')
export class DeliveryConfirmationsController {
  constructor(private readonly requests: DeliveryRequestsService) {}

  @Post(':id/confirmations')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: CommandAcceptedView, description: 'Confirmation queued.' })
  @ApiNotFoundResponse()
  confirm(@Caller() caller: Principal, @Param('id', deliveryId) id: string, @Body() body: ConfirmationDto): Promise<CommandAccepted> {
    return this.requests.confirm(caller, id, body);
  }
}
