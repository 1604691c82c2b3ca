import { AllowCallers } from '@dronedelivery/platform';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DRONES_REPOSITORY, type DronesRepository } from './drones.repository';
import { DronePageView, DronesQueryDto } from './drones.dto';

@ApiTags('drones')
@Controller('api/drones')
export class DronesController {
  constructor(@Inject(DRONES_REPOSITORY) private readonly drones: DronesRepository) {}

  /** The fleet by id, a page at a time (fleets run to thousands). */
  @AllowCallers('gateway')
  @Get()
  @ApiOkResponse({ type: DronePageView })
  async list(@Query() query: DronesQueryDto): Promise<DronePageView> {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const { items, total } = await this.drones.page(limit, offset);
    return {
      items: items.map(({ id, model, maxPayloadKg, status }) => ({ id, model, maxPayloadKg, status })),
      total,
      limit,
      offset,
    };
  }
}
