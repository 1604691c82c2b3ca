import { AllowCallers, ValidationProblem } from '@dronedelivery/platform';
import { Controller, Get, HttpCode, Param, Post, Query, type PipeTransform } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNotFoundResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { type DeadLetterView, DeadLettersService } from './deadletters.service';

/** Redis stream ids: milliseconds-sequence. They also match the gateway's id pattern, so it can proxy them. */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

class ParseStreamIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!STREAM_ID.test(value)) throw new ValidationProblem([{ field: 'id', message: 'id must be a stream id like 1700000000000-0' }]);
    return value;
  }
}

export class DeadLetterListQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
  @ApiPropertyOptional({ description: 'Page after this dead-letter id (the last id of the previous page).' })
  @IsOptional()
  @Matches(STREAM_ID, { message: 'after must be a stream id' })
  after?: string;
}

export class DeadLetterItem {
  @ApiProperty({ description: 'Dead-letter id (its id in the dead-letter stream).' }) id: string;
  @ApiProperty({ enum: ['create', 'cancel', 'reschedule', 'confirm'] }) type: string;
  @ApiProperty() deliveryId: string;
  @ApiProperty() commandId: string;
  @ApiProperty() reason: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ format: 'date-time' }) failedAt: string;
  @ApiProperty({ description: 'Id the command had on the command stream.' }) originalId: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'The original stream entry.' }) fields: Record<
    string,
    string
  >;
}

export class DeadLetterList {
  @ApiProperty({ type: [DeadLetterItem] }) items: DeadLetterItem[];
  @ApiProperty() total: number;
}

export class ReplayAccepted {
  @ApiProperty() deadLetterId: string;
  @ApiProperty() commandId: string;
  @ApiProperty({ description: 'Id of the re-appended command on the command stream.' }) streamId: string;
}

@ApiTags('deadletters')
@Controller('api/deadletters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @AllowCallers('gateway')
  @Get()
  @ApiOkResponse({ type: DeadLetterList, description: 'Oldest first.' })
  list(@Query() query: DeadLetterListQuery): Promise<{ items: DeadLetterView[]; total: number }> {
    return this.deadLetters.list(query.limit ?? 100, query.after);
  }

  @AllowCallers('gateway')
  @Post(':id/replay')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: ReplayAccepted,
    description: 'The original command (same commandId) is back on the command stream; the dead letter is gone.',
  })
  @ApiNotFoundResponse()
  replay(@Param('id', new ParseStreamIdPipe()) id: string): Promise<ReplayAccepted> {
    return this.deadLetters.replay(id);
  }
}
