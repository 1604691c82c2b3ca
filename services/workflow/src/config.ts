// The Nest-free entry point: main.ts loads this before telemetry starts.
import {
  REDIS_PASSWORD_SECRET,
  downstreamBatchingSettings,
  downstreamPolicySettings,
  platformConfigSchema,
  redisConnectionSettings,
  positiveInt,
  serviceAuthBackendSettings,
  serviceAuthCallerSettings,
} from '@dronedelivery/platform/config';
import { hostname } from 'node:os';
import { z } from 'zod';

const serviceUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const workflowConfigSchema = platformConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(3001),
    ...redisConnectionSettings(),
    /** The stream the gateway appends to (docs/command-stream.md). */
    COMMAND_STREAM_KEY: z.string().min(1).default('dronedelivery:commands'),
    DEADLETTER_STREAM_KEY: z.string().min(1).default('dronedelivery:deadletters'),
    CONSUMER_GROUP: z.string().min(1).default('workflow'),
    /** Unique per replica: a pod name is. Two processes sharing a name would share (and fight over) one pending list. */
    CONSUMER_NAME: z.string().min(1).default(hostname()),
    /**
     * Where a group created by this service starts: 0 = every entry still in the stream. The gateway may accept
     * commands before the workflow first runs; `$` would skip them forever, 0 only replays idempotent commands.
     * Ignored once the group exists.
     */
    CONSUMER_GROUP_START_ID: z.enum(['0', '$']).default('0'),
    /** Entries one XREADGROUP asks for, at most (never more than free concurrency slots). */
    CONSUMER_BATCH_SIZE: positiveInt().max(1000).default(128),
    /**
     * Commands processed in parallel; commands for one delivery always run one after another. The create steps'
     * batches grow with it (docs/performance.md), so it is set well above what one replica's downstream calls need.
     */
    CONSUMER_CONCURRENCY: positiveInt().max(1000).default(128),
    CONSUMER_BLOCK_MS: positiveInt().default(2_000),
    /** Attempts (stream delivery count) before a transient failure becomes compensation and a dead letter. */
    MAX_ATTEMPTS: positiveInt().default(10),
    /**
     * Attempts at compensating a failed create before it is dead-lettered with the reason (its forward steps never
     * run again once compensation started; a replay of that dead letter compensates again).
     */
    MAX_COMPENSATION_ATTEMPTS: positiveInt().default(10),
    /** Redelivery backoff: base * 2^(attempt-1), capped; a failed command is reclaimed once idle that long. */
    RETRY_BASE_DELAY_MS: positiveInt().default(1_000),
    RETRY_MAX_DELAY_MS: positiveInt().default(60_000),
    /**
     * Minimum idle time before a pending command is claimed: the crashed-consumer timeout. A consumer working on a
     * command refreshes its idle time every third of this, so live work is never claimed away.
     */
    CLAIM_MIN_IDLE_MS: positiveInt().default(15_000),
    RECLAIM_INTERVAL_MS: positiveInt().default(1_000),
    /** Trimming (XTRIM MINID), removing departed consumers and the stream gauges. */
    MAINTENANCE_INTERVAL_MS: positiveInt().default(5_000),
    /**
     * A consumer of the group with nothing pending and idle this long has gone (a replaced pod: names are pod
     * names) and is removed from the group. A live one reads every CONSUMER_BLOCK_MS, so it is never this idle.
     */
    CONSUMER_REMOVE_IDLE_MS: positiveInt().default(3_600_000),
    TOMBSTONE_TTL_SECONDS: positiveInt().default(7 * 24 * 3600),
    /**
     * How long a delivery's saga state outlives its deadline: it expires this long after the deadline, or after its
     * last change when that is later. Commands for the delivery (a cancel, a confirmation) need it until then.
     */
    SAGA_STATE_TTL_SECONDS: positiveInt().default(30 * 24 * 3600),
    PACKAGE_URL: serviceUrl().default('http://127.0.0.1:3002'),
    DRONESCHEDULER_URL: serviceUrl().default('http://127.0.0.1:3003'),
    DELIVERY_URL: serviceUrl().default('http://127.0.0.1:3004'),
    ...downstreamPolicySettings({ timeoutMs: 3_000, retryMaxDelayMs: 1_000 }),
    ...downstreamBatchingSettings(),
    ...serviceAuthBackendSettings(),
    ...serviceAuthCallerSettings(),
  })
  .superRefine((config, context) => {
    if (config.CONSUMER_REMOVE_IDLE_MS <= Math.max(config.CONSUMER_BLOCK_MS, config.CLAIM_MIN_IDLE_MS)) {
      context.addIssue({
        code: 'custom',
        path: ['CONSUMER_REMOVE_IDLE_MS'],
        message: 'must exceed CONSUMER_BLOCK_MS and CLAIM_MIN_IDLE_MS (a live consumer is idle up to that long)',
      });
    }
    if (config.CONSUMER_BATCH_SIZE > config.CONSUMER_CONCURRENCY) {
      context.addIssue({
        code: 'custom',
        path: ['CONSUMER_BATCH_SIZE'],
        message: 'must not exceed CONSUMER_CONCURRENCY (entries read are held until processed)',
      });
    }
  });

export type WorkflowConfig = z.infer<typeof workflowConfigSchema>;

export const WORKFLOW_SECRETS = [REDIS_PASSWORD_SECRET] as const;
