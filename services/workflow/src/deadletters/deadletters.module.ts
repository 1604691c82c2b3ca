import { APP_CONFIG } from '@dronedelivery/platform';
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkflowConfig } from '../config';
import { WORKFLOW_REDIS } from '../store/store.module';
import { DeadLettersController } from './deadletters.controller';
import { DEAD_LETTERS_REPOSITORY } from './deadletters.repository';
import { DeadLettersService } from './deadletters.service';
import { RedisDeadLettersRepository } from './redis-deadletters.repository';

@Module({
  controllers: [DeadLettersController],
  providers: [
    DeadLettersService,
    {
      provide: DEAD_LETTERS_REPOSITORY,
      inject: [WORKFLOW_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: WorkflowConfig) =>
        new RedisDeadLettersRepository(redis, config.DEADLETTER_STREAM_KEY, config.COMMAND_STREAM_KEY),
    },
  ],
})
export class DeadLettersModule {}
