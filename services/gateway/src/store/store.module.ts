import { type RedisRequirements, redisStore } from '@dronedelivery/platform';
import type { GatewayConfig } from '../config';

/** The gateway's own store: request records, idempotency answers, the command stream and rate-limit counters. */
export const GATEWAY_REDIS = Symbol('GATEWAY_REDIS');

/** Streams for the command stream, Lua for the atomic record + append; WAIT only when replica acks are asked for. */
export function gatewayRedisRequirements(config: Pick<GatewayConfig, 'REDIS_WAIT_REPLICAS'>): RedisRequirements {
  return {
    minVersion: '5.0.0',
    versionReason: 'streams: XADD',
    commands: ['xadd', 'eval', 'evalsha', ...(config.REDIS_WAIT_REPLICAS > 0 ? ['wait'] : [])],
  };
}

export const StoreModule = redisStore<GatewayConfig>({ token: GATEWAY_REDIS, name: 'gateway', requirements: gatewayRedisRequirements });
