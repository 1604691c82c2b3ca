import { ID_MESSAGE, ID_PATTERN } from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';

export class MonthQueryDto {
  @ApiProperty({ minimum: 2000, maximum: 2100 }) @Type(() => Number) @IsInt() @Min(2000) @Max(2100) year: number;
  @ApiProperty({ minimum: 1, maximum: 12 }) @Type(() => Number) @IsInt() @Min(1) @Max(12) month: number;
}

export class UtilizationQueryDto extends MonthQueryDto {
  @ApiProperty({ description: 'The owner whose deliveries count.' }) @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
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
