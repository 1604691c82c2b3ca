import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { PlatformConfig } from '../config/config';
import { ProblemDetailsFilter } from '../errors/problem.filter';
import { HEALTH_CHECK_TIMEOUT_MS, HealthController } from '../health/health.controller';
import { Lifecycle } from '../health/lifecycle';
import { loggerParams } from '../logging/logging';
import { MetricsController, MetricsRegistry } from '../metrics/metrics';
import { ServiceAuthGuard, SERVICE_TOKEN_VERIFIER } from '../service-auth/service-auth.guard';
import { isServiceAuthBackend } from '../service-auth/service-auth';
import { serviceTokenVerifier } from '../service-auth/service-token-verifier';
import { APP_CONFIG, SERVICE_NAME } from './tokens';

/**
 * Everything a service gets without writing it: config injection, JSON logs, problem+json errors,
 * health probes, Prometheus metrics, and for a backend (serviceAuthBackendSettings) service-to-service
 * authentication of every /api route. Import once in the service's root module.
 */
@Module({})
export class PlatformModule {
  static forRoot(serviceName: string, config: PlatformConfig): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), LoggerModule.forRoot(loggerParams(serviceName, config.LOG_LEVEL))],
      controllers: [HealthController, MetricsController],
      providers: [
        Lifecycle,
        MetricsRegistry,
        { provide: SERVICE_NAME, useValue: serviceName },
        { provide: APP_CONFIG, useValue: config },
        { provide: HEALTH_CHECK_TIMEOUT_MS, useValue: config.HEALTH_CHECK_TIMEOUT_MS },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        ...(isServiceAuthBackend(config)
          ? [
              { provide: SERVICE_TOKEN_VERIFIER, useFactory: () => serviceTokenVerifier(serviceName, config) },
              { provide: APP_GUARD, useClass: ServiceAuthGuard },
            ]
          : []),
      ],
      exports: [Lifecycle, MetricsRegistry, SERVICE_NAME, APP_CONFIG],
    };
  }
}
