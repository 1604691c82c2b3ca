import {
  CONFIRMATION_TYPES,
  type ConfirmationType,
  ID_MESSAGE,
  ID_PATTERN,
  MAX_LOCATION_LENGTH,
  STRICT_ISO_8601,
} from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { DELIVERY_STATUSES, EVENT_TYPES, type DeliveryStatus } from './delivery.model';

/** The delivery's details without a drone: what the saga knows when it must record a delivery it never scheduled. */
export class UnscheduledDeliveryDto {
  @ApiProperty({ example: 'owner-1' }) @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
  @ApiProperty({ example: '1 Main St' }) @IsString() @Length(1, MAX_LOCATION_LENGTH) pickupLocation: string;
  @ApiProperty({ example: '9 Side Rd' }) @IsString() @Length(1, MAX_LOCATION_LENGTH) dropOffLocation: string;
  @ApiProperty({ format: 'date-time' }) @IsISO8601(STRICT_ISO_8601) pickupTime: string;
  @ApiProperty({ format: 'date-time' }) @IsISO8601(STRICT_ISO_8601) deadline: string;
  @ApiProperty() @IsBoolean() expedited: boolean;
  @ApiProperty({ enum: CONFIRMATION_TYPES }) @IsIn(CONFIRMATION_TYPES) confirmationRequired: ConfirmationType;
  @ApiProperty() @Matches(ID_PATTERN, ID_MESSAGE) packageId: string;
}

export class CreateDeliveryDto extends UnscheduledDeliveryDto {
  @ApiProperty() @Matches(ID_PATTERN, ID_MESSAGE) droneId: string;
}

export class RescheduleDeliveryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_LOCATION_LENGTH) pickupLocation?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_LOCATION_LENGTH) dropOffLocation?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601(STRICT_ISO_8601) pickupTime?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601(STRICT_ISO_8601) deadline?: string;
  @ApiPropertyOptional({ description: 'Set by the saga when the drone scheduler re-planned onto another drone.' })
  @IsOptional()
  @Matches(ID_PATTERN, ID_MESSAGE)
  droneId?: string;
}

export class SetStatusDto {
  @ApiProperty({ enum: ['Failed', 'Cancelled'] }) @IsIn(['Failed', 'Cancelled']) status: DeliveryStatus;
  @ApiPropertyOptional({ example: 'no drone available' }) @IsOptional() @IsString() @Length(1, 512) reason?: string;
  @ApiPropertyOptional({
    type: UnscheduledDeliveryDto,
    description:
      'When the delivery does not exist yet (the saga failed or was cancelled before scheduling it), it is created in this status from these details, without a drone. Ignored when it exists.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => UnscheduledDeliveryDto)
  delivery?: UnscheduledDeliveryDto;
}

export class SummaryQueryDto {
  @ApiProperty() @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
  @ApiProperty({ minimum: 2000, maximum: 2100 }) @Type(() => Number) @IsInt() @Min(2000) @Max(2100) year: number;
  @ApiProperty({ minimum: 1, maximum: 12 }) @Type(() => Number) @IsInt() @Min(1) @Max(12) month: number;
}

export class ConfirmationView {
  @ApiProperty({ format: 'date-time' }) dateTime: string;
  @ApiProperty({ enum: CONFIRMATION_TYPES }) confirmationType: ConfirmationType;
  @ApiPropertyOptional() confirmationBlob?: string;
}

export class DeliveryView extends UnscheduledDeliveryDto {
  @ApiProperty() id: string;
  @ApiPropertyOptional({ description: 'Absent on a delivery that failed or was cancelled before a drone was assigned.' }) droneId?: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiPropertyOptional() reason?: string;
  @ApiPropertyOptional({ type: ConfirmationView }) confirmation?: ConfirmationView;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}

export class DeliveryStatusView {
  @ApiProperty() deliveryId: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiPropertyOptional() droneId?: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional() reason?: string;
}

export class DeliveryOwnerView {
  @ApiProperty() deliveryId: string;
  @ApiProperty() ownerId: string;
}

export class DeliveryEventView {
  @ApiProperty() sequence: number;
  @ApiProperty({ enum: EVENT_TYPES }) type: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) details?: Record<string, unknown>;
}

export class DeliverySummaryView {
  @ApiProperty() ownerId: string;
  @ApiProperty() year: number;
  @ApiProperty() month: number;
  @ApiProperty({ description: 'Deliveries with pickup in that month, in any status.' }) count: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } }) byStatus: Record<DeliveryStatus, number>;
}
