import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { CONFIRMATION_TYPES, type ConfirmationType } from './deliveries';
import { STRICT_ISO_8601 } from './formats';

/** The proof of a delivery: the gateway's confirm request, passed on unchanged to the delivery service. */
export class ConfirmationDto {
  @ApiProperty({ format: 'date-time' }) @IsISO8601(STRICT_ISO_8601) dateTime: string;
  @ApiProperty({ enum: CONFIRMATION_TYPES }) @IsIn(CONFIRMATION_TYPES) confirmationType: ConfirmationType;
  @ApiPropertyOptional({ description: 'Reference to the stored proof (photo, voice, fingerprint).' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  confirmationBlob?: string;
}
