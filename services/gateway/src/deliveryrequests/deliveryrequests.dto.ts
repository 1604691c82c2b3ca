import {
  CONFIRMATION_TYPES,
  type ConfirmationType,
  ID_MESSAGE,
  ID_PATTERN,
  MAX_LOCATION_LENGTH,
  MAX_TAG_LENGTH,
  MAX_WEIGHT_KG,
  PACKAGE_SIZES,
  type PackageSize,
  STRICT_ISO_8601,
  WEIGHT_DECIMALS,
} from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  ValidateNested,
} from 'class-validator';

const WEIGHT = { allowNaN: false, allowInfinity: false, maxDecimalPlaces: WEIGHT_DECIMALS };
/** The delivery window's rule (libs/platform/src/contract/windows.ts), as the OpenAPI document states it. */
const PICKUP_RULE = 'Not in the past (DELIVERY_PICKUP_SKEW_SECONDS of clock skew allowed), at most DELIVERY_MAX_LEAD_DAYS ahead.';
const DEADLINE_RULE = 'After pickupTime, at most DELIVERY_MAX_WINDOW_HOURS later.';

export class PackageInfoDto {
  @ApiProperty({ example: 'pkg-1' }) @Matches(ID_PATTERN, ID_MESSAGE) packageId: string;
  @ApiProperty({ enum: PACKAGE_SIZES }) @IsIn(PACKAGE_SIZES) size: PackageSize;
  @ApiProperty({ description: `Kilograms, greater than 0, at most ${MAX_WEIGHT_KG}, up to ${WEIGHT_DECIMALS} decimals.`, example: 2.5 })
  @IsNumber(WEIGHT)
  @IsPositive()
  @Max(MAX_WEIGHT_KG)
  weight: number;
  @ApiProperty({ minLength: 1, maxLength: MAX_TAG_LENGTH, example: 'fragile' }) @IsString() @Length(1, MAX_TAG_LENGTH) tag: string;
}

export class CreateDeliveryRequestDto {
  @ApiPropertyOptional({ description: 'Defaults to the caller; another owner needs the ops role.', example: 'owner-1' })
  @IsOptional()
  @Matches(ID_PATTERN, ID_MESSAGE)
  ownerId?: string;
  @ApiProperty({ example: '1 Main St' }) @IsString() @Length(1, MAX_LOCATION_LENGTH) pickupLocation: string;
  @ApiProperty({ example: '9 Side Rd' }) @IsString() @Length(1, MAX_LOCATION_LENGTH) dropOffLocation: string;
  @ApiProperty({ format: 'date-time', description: PICKUP_RULE }) @IsISO8601(STRICT_ISO_8601) pickupTime: string;
  @ApiProperty({ format: 'date-time', description: DEADLINE_RULE }) @IsISO8601(STRICT_ISO_8601) deadline: string;
  @ApiProperty() @IsBoolean() expedited: boolean;
  @ApiProperty({ enum: CONFIRMATION_TYPES }) @IsIn(CONFIRMATION_TYPES) confirmationRequired: ConfirmationType;
  @ApiProperty({ type: PackageInfoDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PackageInfoDto)
  packageInfo: PackageInfoDto;
}

export class RescheduleRequestDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_LOCATION_LENGTH) pickupLocation?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_LOCATION_LENGTH) dropOffLocation?: string;
  @ApiPropertyOptional({ format: 'date-time', description: PICKUP_RULE }) @IsOptional() @IsISO8601(STRICT_ISO_8601) pickupTime?: string;
  @ApiPropertyOptional({ format: 'date-time', description: DEADLINE_RULE }) @IsOptional() @IsISO8601(STRICT_ISO_8601) deadline?: string;
}

export class PackageInfoView extends PackageInfoDto {}

export class DeliveryRequestAcceptedView {
  @ApiProperty({ format: 'uuid' }) deliveryId: string;
  @ApiProperty({ enum: ['Requested'] }) status: 'Requested';
  @ApiProperty() ownerId: string;
  @ApiProperty() pickupLocation: string;
  @ApiProperty() dropOffLocation: string;
  @ApiProperty({ format: 'date-time' }) pickupTime: string;
  @ApiProperty({ format: 'date-time' }) deadline: string;
  @ApiProperty() expedited: boolean;
  @ApiProperty({ enum: CONFIRMATION_TYPES }) confirmationRequired: ConfirmationType;
  @ApiProperty({ type: PackageInfoView }) packageInfo: PackageInfoView;
}

export class CommandAcceptedView {
  @ApiProperty() deliveryId: string;
  @ApiProperty({ format: 'uuid', description: 'The command on the stream; the saga applies it once.' }) commandId: string;
  @ApiProperty({ enum: ['cancel', 'reschedule', 'confirm'] }) type: string;
}
