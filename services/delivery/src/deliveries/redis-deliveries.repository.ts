import { guardRedis } from '@dronedelivery/platform';
import type { Redis } from 'ioredis';
import {
  DELIVERY_STATUSES,
  type Delivery,
  type DeliveryEvent,
  type DeliveryStatus,
  type DeliverySummary,
  summaryMonth,
} from './delivery.model';
import type { DeliveriesRepository, NewEvent, StoredDelivery } from './deliveries.repository';

/**
 * Keys (the braces are Redis Cluster hash tags: one delivery's keys share a slot):
 *   delivery:{id}                    hash: doc (JSON), version, fingerprint
 *   delivery:{id}:events             list of tracking events, oldest first
 *   delivery-summary:{owner}:YYYY-MM hash: status -> count, for the month of pickup
 * Every write is one Lua script, so document, event and counters change together or not at all, and the
 * version check makes concurrent writers retry instead of overwriting each other.
 */
const WRITE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'version', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'fingerprint', ARGV[4]) end
redis.call('RPUSH', KEYS[2], ARGV[5])
if ARGV[6] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[6], -1) end
redis.call('HINCRBY', KEYS[4], ARGV[7], 1)
local ttl = tonumber(ARGV[8])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return 1
`;

type WriteDelivery = (
  deliveryKey: string,
  eventsKey: string,
  previousSummaryKey: string,
  nextSummaryKey: string,
  expectedVersion: string,
  doc: string,
  version: string,
  fingerprint: string,
  event: string,
  previousStatus: string,
  nextStatus: string,
  ttlSeconds: string,
) => Promise<number>;

export class RedisDeliveriesRepository implements DeliveriesRepository {
  private readonly writeDelivery: WriteDelivery;

  constructor(private readonly redis: Redis) {
    redis.defineCommand('writeDelivery', { numberOfKeys: 4, lua: WRITE_SCRIPT });
    this.writeDelivery = (redis as unknown as { writeDelivery: WriteDelivery }).writeDelivery.bind(redis);
  }

  async get(id: string): Promise<StoredDelivery | undefined> {
    const [doc, fingerprint] = await guardRedis(() => this.redis.hmget(deliveryKey(id), 'doc', 'fingerprint'));
    if (!doc) return undefined;
    return { delivery: JSON.parse(doc) as Delivery, fingerprint: fingerprint ?? '' };
  }

  async create(delivery: Delivery, fingerprint: string, event: NewEvent, expireAfterSeconds = 0): Promise<boolean> {
    const summary = summaryKey(delivery);
    const written = await guardRedis(() =>
      this.writeDelivery(
        deliveryKey(delivery.id),
        eventsKey(delivery.id),
        summary,
        summary,
        '',
        JSON.stringify(delivery),
        String(delivery.version),
        fingerprint,
        JSON.stringify(event),
        '',
        delivery.status,
        String(expireAfterSeconds),
      ),
    );
    return written === 1;
  }

  async update(previous: Delivery, next: Delivery, event: NewEvent, expireAfterSeconds = 0, fingerprint = ''): Promise<boolean> {
    const written = await guardRedis(() =>
      this.writeDelivery(
        deliveryKey(next.id),
        eventsKey(next.id),
        summaryKey(previous),
        summaryKey(next),
        String(previous.version),
        JSON.stringify(next),
        String(next.version),
        fingerprint,
        JSON.stringify(event),
        previous.status,
        next.status,
        String(expireAfterSeconds),
      ),
    );
    return written === 1;
  }

  async events(id: string): Promise<DeliveryEvent[]> {
    const raw = await guardRedis(() => this.redis.lrange(eventsKey(id), 0, -1));
    return raw.map((json, index) => ({ sequence: index + 1, ...(JSON.parse(json) as NewEvent) }));
  }

  async summary(ownerId: string, year: number, month: number): Promise<DeliverySummary> {
    const counts = await guardRedis(() => this.redis.hgetall(monthKey(ownerId, year, month)));
    const byStatus = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, Math.max(0, Number(counts[status] ?? 0))])) as Record<
      DeliveryStatus,
      number
    >;
    const count = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
    return { ownerId, year, month, count, byStatus };
  }
}

function deliveryKey(id: string): string {
  return `delivery:{${id}}`;
}

function eventsKey(id: string): string {
  return `delivery:{${id}}:events`;
}

function summaryKey(delivery: Delivery): string {
  const { year, month } = summaryMonth(delivery.pickupTime);
  return monthKey(delivery.ownerId, year, month);
}

function monthKey(ownerId: string, year: number, month: number): string {
  return `delivery-summary:${ownerId}:${year}-${String(month).padStart(2, '0')}`;
}
