import { PlatformModule } from '@dronedelivery/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import type { GatewayConfig } from './config';
import { DeliveryRequestsModule } from './deliveryrequests/deliveryrequests.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { ReadsModule } from './reads/reads.module';
import { StoreModule } from './store/store.module';
import { SERVICE } from './service';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot(SERVICE.name, config),
        StoreModule,
        AuthModule,
        RateLimitModule,
        DeliveryRequestsModule,
        ReadsModule,
      ],
    };
  }
}
