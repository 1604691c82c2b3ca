import type { ResilientHttpClient } from '@dronedelivery/platform';
import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DOWNSTREAM_TOKENS, downstreamProviders } from './downstreams';

/** One resilient client (breaker, bulkhead, retries) per service the gateway calls, shared by every feature. */
@Module({
  providers: downstreamProviders,
  exports: DOWNSTREAM_TOKENS,
})
export class DownstreamsModule implements OnApplicationShutdown {
  constructor(private readonly moduleRef: ModuleRef) {}

  /** Stops the breakers' timers so the process can exit. */
  onApplicationShutdown(): void {
    for (const token of DOWNSTREAM_TOKENS) this.moduleRef.get<ResilientHttpClient>(token).shutdown();
  }
}
