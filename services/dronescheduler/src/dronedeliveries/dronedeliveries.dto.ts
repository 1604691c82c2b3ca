import { ID_PATTERN } from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, Matches, Max, Min } from 'class-validator';
import { ASSIGNMENT_STATUSES, type AssignmentStatus, PACKAGE_SIZES, type PackageSize } from '../entities/assignment.entity';

const ID_MESSAGE = { message: '$property must be 1-64 letters, digits, - or _' };
const ISO = { strict: true, strictSeparator: true };

export class AssignDroneDto {
  @ApiProperty({ example: 'owner-1' }) @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
  @ApiProperty({ format: 'date-time' }) @IsISO8601(ISO) pickupTime: string;
  @ApiProperty({ format: 'date-time', description: 'After pickupTime; the drone is booked for [pickupTime, deadline).' })
  @IsISO8601(ISO)
  deadline: string;
  @ApiProperty({ description: 'Kilograms.', minimum: 0, exclusiveMinimum: true, maximum: 1000, example: 2.5 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(1000)
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
