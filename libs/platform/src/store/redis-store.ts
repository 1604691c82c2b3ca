import type { DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisConnectionConfig } from '../redis/redis-settings';
import { closeRedis, redisProbe } from '../redis/redis';
import { createCheckedRedisClient, type RedisRequirements } from '../redis/redis-capabilities';
import { storeModule } from './store.module';

export interface RedisStoreOptions<Config extends RedisConnectionConfig> {
  token: symbol;
  /** The connection name, and the service named when the server is refused. */
  name: string;
  /** What the service needs of the server; a function when that depends on the config. */
  requirements: RedisRequirements | ((config: Config) => RedisRequirements);
}

/** A store module for a service's own Redis: a checked client (refused when unsuitable), its probe, a graceful close. */
export function redisStore<Config extends RedisConnectionConfig>(options: RedisStoreOptions<Config>): DynamicModule {
  const requirements = (config: Config) =>
    typeof options.requirements === 'function' ? options.requirements(config) : options.requirements;
  return storeModule<Redis, Config>({
    token: options.token,
    name: 'Redis',
    create: (config) => createCheckedRedisClient(config, options.name, requirements(config)),
    probe: (client) => redisProbe(client),
    close: (client) => closeRedis(client),
  });
}
