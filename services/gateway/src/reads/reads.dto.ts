import { ID_MESSAGE, ID_PATTERN } from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class MonthQueryDto {
  @ApiProperty({ minimum: 2000, maximum: 2100 }) @Type(() => Number) @IsInt() @Min(2000) @Max(2100) year: number;
  @ApiProperty({ minimum: 1, maximum: 12 }) @Type(() => Number) @IsInt() @Min(1) @Max(12) month: number;
}

export class UtilizationQueryDto extends MonthQueryDto {
  @ApiProperty({ description: 'The owner whose deliveries count.' }) @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
}

/** A page of dead letters: passed on to the workflow, which owns them. */
export class DeadLetterPageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
  @ApiPropertyOptional({ description: 'Page after this dead-letter id (the last id of the previous page).' })
  @IsOptional()
  @Matches(/^\d{1,20}-\d{1,20}$/, { message: 'after must be a dead-letter id like 1700000000000-0' })
  after?: string;
}

/** What the gateway answers from its own record while the saga has not created the delivery yet. */
export class RequestedStatusView {
  @ApiProperty() deliveryId: string;
  @ApiProperty({ enum: ['Requested', 'Scheduled', 'Delivered', 'Cancelled', 'Failed'] }) status: string;
  @ApiPropertyOptional() droneId?: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional() reason?: string;
}

export class PackageSummaryView {
  @ApiProperty() ownerId: string;
  @ApiProperty() count: number;
  @ApiProperty({ description: 'Kilograms.' }) totalWeight: number;
}
