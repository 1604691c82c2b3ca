import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { DRONE_STATUSES, type DroneStatus } from '../entities/drone.entity';

export class DronesQueryDto {
  @ApiProperty({ required: false, minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiProperty({ required: false, minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class DroneView {
  @ApiProperty() id: string;
  @ApiProperty() model: string;
  @ApiProperty({ description: 'Kilograms.' }) maxPayloadKg: number;
  @ApiProperty({ enum: DRONE_STATUSES, description: 'Only Available drones get new assignments.' }) status: DroneStatus;
}

export class DronePageView {
  @ApiProperty({ type: [DroneView] }) items: DroneView[];
  @ApiProperty({ description: 'Drones in the fleet.' }) total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
