import {
  ID_MESSAGE,
  ID_PATTERN,
  MAX_TAG_LENGTH,
  MAX_WEIGHT_KG,
  PACKAGE_SIZES,
  type PackageSize,
  WEIGHT_DECIMALS,
} from '@dronedelivery/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsPositive, IsString, Length, Matches, Max, Min } from 'class-validator';

const WEIGHT = { allowNaN: false, allowInfinity: false, maxDecimalPlaces: WEIGHT_DECIMALS };

export class CreatePackageDto {
  @ApiProperty({ example: 'owner-1' }) @Matches(ID_PATTERN, ID_MESSAGE) ownerId: string;
  @ApiProperty({ enum: PACKAGE_SIZES }) @IsIn(PACKAGE_SIZES) size: PackageSize;
  @ApiProperty({ description: `Kilograms, greater than 0, at most ${MAX_WEIGHT_KG}, up to ${WEIGHT_DECIMALS} decimals.`, example: 2.5 })
  @IsNumber(WEIGHT)
  @IsPositive()
  @Max(MAX_WEIGHT_KG)
  weight: number;
  @ApiProperty({ minLength: 1, maxLength: MAX_TAG_LENGTH, example: 'fragile' }) @IsString() @Length(1, MAX_TAG_LENGTH) tag: string;
  @ApiPropertyOptional({
    description:
      'Opaque reference of the creator (the saga sends its delivery id). Stored by the create that succeeds; a package id names one package of one creator, so a create of an existing id is a replay (200) only from the same creator and with the same details, else 409.',
    example: 'b3c5d9e2-6f1a-4c8e-9d2b-7a1e0f3c4d5b',
  })
  @IsOptional()
  @Matches(ID_PATTERN, ID_MESSAGE)
  createdBy?: string;
}

export class UpdatePackageDto {
  @ApiPropertyOptional({ enum: PACKAGE_SIZES }) @IsOptional() @IsIn(PACKAGE_SIZES) size?: PackageSize;
  @ApiPropertyOptional({ description: `Kilograms, greater than 0, at most ${MAX_WEIGHT_KG}, up to ${WEIGHT_DECIMALS} decimals.` })
  @IsOptional()
  @IsNumber(WEIGHT)
  @IsPositive()
  @Max(MAX_WEIGHT_KG)
  weight?: number;
  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_TAG_LENGTH }) @IsOptional() @IsString() @Length(1, MAX_TAG_LENGTH) tag?: string;
}

export class SummaryQueryDto {
  @ApiProperty({ minimum: 2000, maximum: 2100 }) @Type(() => Number) @IsInt() @Min(2000) @Max(2100) year: number;
  @ApiProperty({ minimum: 1, maximum: 12 }) @Type(() => Number) @IsInt() @Min(1) @Max(12) month: number;
}

export class PackageView extends CreatePackageDto {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time', description: 'When the package was created; it counts toward that month (UTC) in summaries.' })
  createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class PackageSummaryView {
  @ApiProperty() ownerId: string;
  @ApiProperty() year: number;
  @ApiProperty() month: number;
  @ApiProperty({ description: 'Packages of the owner created in that month (UTC) that still exist.' }) count: number;
  @ApiProperty({ description: 'Their total weight in kilograms.' }) totalWeight: number;
}
