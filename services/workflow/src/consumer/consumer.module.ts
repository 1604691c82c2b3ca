import { Module } from '@nestjs/common';
import { SagaModule } from '../saga/saga.module';
import { CommandConsumer } from './command-consumer';
import { StreamMaintenance } from './stream-maintenance';

@Module({
  imports: [SagaModule],
  providers: [CommandConsumer, StreamMaintenance],
})
export class ConsumerModule {}
