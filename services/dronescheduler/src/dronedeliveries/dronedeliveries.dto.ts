import { ID_MESSAGE, ID_PATTERN, MAX_WEIGHT_KG, PACKAGE_SIZES, type PackageSize, STRICT_ISO_8601 } from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, Matches, Max, Min } from 'class-validator';
import { ASSIGNMENT_STATUSES, type AssignmentStatus } from '../entities/assignment.entity';

export class AssignDroneDto {
  @ApiProperty({ example: 'owner-1' }) @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
  @ApiProperty({
    format: 'date-time',
    description: 'For a booking written now: not in the past (DELIVERY_PICKUP_SKEW_SECONDS allowed), at most DELIVERY_MAX_LEAD_DAYS ahead.',
  })
  @IsISO8601(STRICT_ISO_8601)
  pickupTime: string;
  @ApiProperty({
    format: 'date-time',
    description: 'After pickupTime, at most DELIVERY_MAX_WINDOW_HOURS later; the drone is booked for [pickupTime, deadline).',
  })
  @IsISO8601(STRICT_ISO_8601)
  deadline: string;
  @ApiProperty({ description: 'Kilograms.', minimum: 0, exclusiveMinimum: true, maximum: MAX_WEIGHT_KG, example: 2.5 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(MAX_WEIGHT_KG)
  packageWeight: number;
  @ApiProperty({ enum: PACKAGE_SIZES }) @IsIn(PACKAGE_SIZES) packageSize: PackageSize;
  @ApiProperty() @IsBoolean() expedited: boolean;
}

export class DroneAssignedView {
  @ApiProperty() deliveryId: string;
  @ApiProperty() droneId: string;
}

export class AssignmentView {
  @ApiProperty() deliveryId: string;
  @ApiProperty() droneId: string;
  @ApiProperty() ownerId: string;
  @ApiProperty({ format: 'date-time' }) pickupTime: string;
  @ApiProperty({ format: 'date-time' }) deadline: string;
  @ApiProperty({ description: 'Kilograms.' }) packageWeight: number;
  @ApiProperty({ enum: PACKAGE_SIZES }) packageSize: PackageSize;
  @ApiProperty() expedited: boolean;
  @ApiProperty({ enum: ASSIGNMENT_STATUSES, description: 'Only Assigned occupies the drone.' }) status: AssignmentStatus;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({ format: 'date-time' }) releasedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) completedAt?: string;
}

export class UtilizationQueryDto {
  @ApiProperty() @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
  @ApiProperty({ minimum: 2000, maximum: 2100 }) @Type(() => Number) @IsInt() @Min(2000) @Max(2100) year: number;
  @ApiProperty({ minimum: 1, maximum: 12 }) @Type(() => Number) @IsInt() @Min(1) @Max(12) month: number;
}

export class UtilizationView {
  @ApiProperty() ownerId: string;
  @ApiProperty() year: number;
  @ApiProperty() month: number;
  @ApiProperty({
    description: 'Assignments of the owner with pickup in that UTC month, Assigned or Completed (Released ones do not count).',
  })
  deliveries: number;
  @ApiProperty({ description: 'Sum over those assignments of deadline - pickupTime, in hours (to 3 decimals).' })
  assignedHours: number;
}
