import { type RedisRequirements, redisStore } from '@dronedelivery/platform';
import type { DeliveryConfig } from '../config';

/** The delivery service's own store: one hash per delivery. */
export const DELIVERY_REDIS = Symbol('DELIVERY_REDIS');

/** Every write is one Lua script that sets several hash fields at once (HSET with many fields: Redis 4.0). */
export const DELIVERY_REDIS_REQUIREMENTS: RedisRequirements = {
  minVersion: '4.0.0',
  versionReason: 'HSET with several fields',
  commands: ['eval', 'evalsha'],
};

export const StoreModule = redisStore<DeliveryConfig>({
  token: DELIVERY_REDIS,
  name: 'delivery',
  requirements: DELIVERY_REDIS_REQUIREMENTS,
});
