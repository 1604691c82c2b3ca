import {
  AllowCallers,
  BatchEndpoint,
  BatchRequestDto,
  BatchResponseView,
  type ItemAnswer,
  ParseIdPipe,
  runBatch,
} from '@dronedelivery/platform';
import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Put, Query, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPreconditionFailedResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Package, PackageSummary } from './package.model';
import { CreatePackageDto, PackageSummaryView, PackageView, SummaryQueryDto, UpdatePackageDto } from './packages.dto';
import { PackagesService, type PackageResult } from './packages.service';

const packageId = new ParseIdPipe('packageId');
const ownerId = new ParseIdPipe('ownerId');
const CREATE_ONE = 'PUT /api/packages/{id}';
/** Cosmos DB writes of one batch in flight at once: each holds a request pipeline's worth of memory until it ends. */
const BATCH_CONCURRENCY = 8;
const ETAG_HEADER = {
  etag: { description: 'Version of the package; send it back in If-Match to update only that version.', schema: { type: 'string' } },
};

@ApiTags('packages')
@Controller('api/packages')
export class PackagesController {
  constructor(private readonly packages: PackagesService) {}

  @AllowCallers('gateway')
  @Get('summary/:ownerId')
  @ApiOkResponse({ type: PackageSummaryView })
  summary(@Param('ownerId', ownerId) owner: string, @Query() query: SummaryQueryDto): Promise<PackageSummary> {
    return this.packages.summary(owner, query.year, query.month);
  }

  @AllowCallers('workflow')
  @Put(':id')
  @ApiCreatedResponse({ type: PackageView, description: 'Created.', headers: ETAG_HEADER })
  @ApiOkResponse({ type: PackageView, description: 'Already existed with the same details (idempotent replay).', headers: ETAG_HEADER })
  @ApiConflictResponse({ description: 'Exists with different details, or was created by another creator.' })
  async create(
    @Param('id', packageId) id: string,
    @Body() body: CreatePackageDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Package> {
    const answer = await this.createAnswer(id, body);
    void reply.status(answer.status).headers(answer.headers);
    return answer.body;
  }

  /** For the saga: many creates in one request, each answered as PUT /api/packages/{id} would answer it. */
  @AllowCallers('workflow')
  @BatchEndpoint(CREATE_ONE)
  createMany(@Body() batch: BatchRequestDto): Promise<BatchResponseView> {
    return runBatch(batch, {
      name: CREATE_ONE,
      idField: 'packageId',
      dto: CreatePackageDto,
      handle: (id, body) => this.createAnswer(id, body),
      concurrency: BATCH_CONCURRENCY,
    });
  }

  private async createAnswer(id: string, body: CreatePackageDto): Promise<Required<ItemAnswer<Package>>> {
    const outcome = await this.packages.create(id, body);
    const headers: Record<string, string> = outcome.created
      ? { etag: outcome.etag, location: `/api/packages/${id}` }
      : { etag: outcome.etag };
    return { status: outcome.created ? 201 : 200, headers, body: outcome.package };
  }

  @AllowCallers('gateway', 'workflow')
  @Get(':id')
  @ApiOkResponse({ type: PackageView, headers: ETAG_HEADER })
  @ApiNotFoundResponse()
  async get(@Param('id', packageId) id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<Package> {
    return withEtag(reply, await this.packages.get(id));
  }

  @AllowCallers('workflow')
  @Patch(':id')
  @ApiHeader({
    name: 'if-match',
    required: false,
    description: 'ETag from a previous read: update only if the package is still that version.',
  })
  @ApiOkResponse({ type: PackageView, headers: ETAG_HEADER })
  @ApiNotFoundResponse()
  @ApiPreconditionFailedResponse({ description: 'If-Match does not match the current ETag.' })
  async update(
    @Param('id', packageId) id: string,
    @Body() body: UpdatePackageDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Package> {
    return withEtag(reply, await this.packages.update(id, body, ifMatch));
  }

  @AllowCallers('workflow')
  @Delete(':id')
  @HttpCode(204)
  @ApiHeader({
    name: 'if-match',
    required: false,
    description: 'ETag from a previous read: delete only if the package is still that version.',
  })
  @ApiNoContentResponse({ description: 'Deleted, or did not exist (idempotent: saga compensation retries it).' })
  @ApiPreconditionFailedResponse({ description: 'If-Match does not match the current ETag: another version is stored, and kept.' })
  async delete(@Param('id', packageId) id: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    await this.packages.delete(id, ifMatch);
  }
}

function withEtag(reply: FastifyReply, outcome: PackageResult): Package {
  void reply.header('etag', outcome.etag);
  return outcome.package;
}
