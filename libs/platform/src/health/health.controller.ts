import { Controller, Get, Inject, type OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Lifecycle } from './lifecycle';
import { STORE_PROBES, type StoreProbe } from './store-probe';

export const HEALTH_CHECK_TIMEOUT_MS = Symbol('HEALTH_CHECK_TIMEOUT_MS');

@ApiExcludeController()
@Controller('health')
export class HealthController implements OnModuleInit {
  private probes: StoreProbe[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly moduleRef: ModuleRef,
    @Inject(HEALTH_CHECK_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /** A service declares its stores by providing STORE_PROBES in any of its modules. */
  onModuleInit(): void {
    try {
      this.probes = this.moduleRef.get<StoreProbe[]>(STORE_PROBES, { strict: false });
    } catch {
      this.probes = [];
    }
  }

  /** Liveness: the event loop answers. No dependency checks, so a store outage never restarts pods. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('startup')
  @HealthCheck()
  startup() {
    return this.health.check([() => this.lifecycleCheck('startup', this.lifecycle.started, 'bootstrap not finished')]);
  }

  /** Readiness: started, not draining, and every own store answers within the timeout. */
  @Get('ready')
  @HealthCheck()
  ready() {
    if (this.lifecycle.draining) {
      throw new ServiceUnavailableException({ status: 'error', details: { lifecycle: { status: 'down', message: 'shutting down' } } });
    }
    return this.health.check([
      () => this.lifecycleCheck('lifecycle', this.lifecycle.started, 'bootstrap not finished'),
      ...this.probes.map((probe) => () => this.pingWithTimeout(probe)),
    ]);
  }

  private lifecycleCheck(key: string, ok: boolean, message: string) {
    const indicator = this.indicators.check(key);
    return ok ? indicator.up() : indicator.down({ message });
  }

  private async pingWithTimeout(probe: StoreProbe) {
    const indicator = this.indicators.check(probe.name);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : 'unreachable' });
    } finally {
      clearTimeout(timer);
    }
  }
}
