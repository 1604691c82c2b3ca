import type { Redis } from 'ioredis';

type Counted = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Counted) => void;

/** Fixed window: the first hit of a window sets its expiry. Same keys and arithmetic as the plugin's own Redis store. */
const INCREMENT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {current, redis.call('PTTL', KEYS[1])}
`;

/** Clients remembered by the in-memory fallback; the least recently seen are forgotten first. */
const LOCAL_CLIENTS = 10_000;

export interface RateLimitStoreEvents {
  /** Redis stopped counting: requests are counted in this replica's memory from now on. */
  onFallback(error: Error): void;
  /** Redis counts again. */
  onRecovered(): void;
}

/**
 * A @fastify/rate-limit store that counts in the gateway's Redis (one limit across replicas) and, while Redis
 * cannot answer, in this replica's memory: the limit then holds per replica instead of not at all. Requests keep
 * flowing during a Redis outage (reads through other services still work), but a client cannot go unbounded.
 */
export class RedisWithLocalFallbackStore {
  private readonly local = new Map<string, { count: number; resetAt: number }>();
  private degraded = false;

  constructor(
    private readonly redis: Redis,
    private readonly nameSpace: string,
    private readonly events: RateLimitStoreEvents,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number): void {
    this.redis.eval(INCREMENT, 1, this.nameSpace + key, timeWindow).then(
      (result) => {
        if (this.degraded) {
          this.degraded = false;
          this.events.onRecovered();
        }
        const [current, ttl] = result as [number, number];
        callback(null, { current, ttl: ttl < 0 ? timeWindow : ttl });
      },
      (error: Error) => {
        if (!this.degraded) {
          this.degraded = true;
          this.events.onFallback(error);
        }
        callback(null, this.countLocally(key, timeWindow));
      },
    );
  }

  child(): this {
    return this;
  }

  private countLocally(key: string, timeWindow: number): Counted {
    const now = Date.now();
    let entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) entry = { count: 0, resetAt: now + timeWindow };
    entry.count++;
    // Re-inserting keeps the Map in least-recently-seen order, so the oldest key is the first one.
    this.local.delete(key);
    this.local.set(key, entry);
    if (this.local.size > LOCAL_CLIENTS) this.local.delete(this.local.keys().next().value!);
    return { current: entry.count, ttl: entry.resetAt - now };
  }
}

/** The store class the plugin instantiates itself (`new Store(options)`), bound to the gateway's Redis. */
export function redisWithLocalFallback(
  redis: Redis,
  nameSpace: string,
  events: RateLimitStoreEvents,
): new () => RedisWithLocalFallbackStore {
  return class extends RedisWithLocalFallbackStore {
    constructor() {
      super(redis, nameSpace, events);
    }
  };
}
