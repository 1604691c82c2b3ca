// The Nest-free entry point: main.ts loads this before telemetry starts.
import {
  REDIS_PASSWORD_SECRET,
  platformConfigSchema,
  redisConnectionSettings,
  positiveInt,
  serviceAuthBackendSettings,
} from '@dronedelivery/platform/config';
import { z } from 'zod';

export const deliveryConfigSchema = platformConfigSchema.extend({
  ...serviceAuthBackendSettings(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3004),
  ...redisConnectionSettings(),
  /** How long a cancelled delivery stays readable before Redis expires it. */
  DELIVERY_CANCELLED_RETENTION_SECONDS: positiveInt().default(7 * 24 * 3600),
  /**
   * Optimistic-concurrency attempts for one update before answering 409. An attempt only fails when another
   * write to the same delivery succeeded meanwhile, so N concurrent writers all succeed within N attempts.
   */
  DELIVERY_UPDATE_MAX_ATTEMPTS: positiveInt().default(50),
});

export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;

export const DELIVERY_SECRETS = [REDIS_PASSWORD_SECRET] as const;
