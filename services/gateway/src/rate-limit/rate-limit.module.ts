import { APP_CONFIG, ProblemException, problemType } from '@dronedelivery/platform';
import { Inject, Logger, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { isApiRoute } from '../auth/auth.guard';
import { AUTHENTICATOR, type Authenticator } from '../auth/authenticator';
import type { GatewayConfig } from '../config';
import { GATEWAY_REDIS } from '../store/store.module';
import { redisWithLocalFallback } from './fallback-store';

export class TooManyRequestsProblem extends ProblemException {
  constructor(retryAfterSeconds: number) {
    super(
      {
        type: problemType('too-many-requests'),
        title: 'Too many requests',
        status: 429,
        detail: `Rate limit exceeded; retry in ${retryAfterSeconds}s.`,
      },
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

/**
 * The path the router matched (its pattern), else the decoded path of an unmatched request; undecodable counts as
 * an API path, so nothing escapes the limit by its spelling.
 */
export function routedPath(request: FastifyRequest): string {
  if (request.routeOptions.url !== undefined) return request.routeOptions.url;
  const path = request.url.split('?', 1)[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return '/api/';
  }
}

const logger = new Logger('rate-limit');

/** The one bucket every caller with the load-test role shares (Redis key gateway:ratelimit:role:loadtest). */
export const LOADTEST_RATE_LIMIT_KEY = 'role:loadtest';

/**
 * Per-client rate limit on /api routes with @fastify/rate-limit, counted in the gateway's Redis so the limit
 * holds across replicas. The client is the authenticated caller (the token is verified once per request and
 * shared with the AuthGuard), else the remote address. Callers with the load-test role share one budget of their
 * own (RATE_LIMIT_LOADTEST_*): a load generator acting for many synthetic owners from one identity is not held to
 * one user's limit, and all synthetic traffic together stays bounded.
 */
@Module({})
export class RateLimitModule {
  constructor(
    adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_REDIS) redis: Redis,
    @Inject(AUTHENTICATOR) authenticator: Authenticator,
  ) {
    const fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const registered = fastify.register(rateLimit, {
      global: false,
      max: (_request, key) => (key === LOADTEST_RATE_LIMIT_KEY ? config.RATE_LIMIT_LOADTEST_MAX : config.RATE_LIMIT_MAX),
      timeWindow: (_request, key) => (key === LOADTEST_RATE_LIMIT_KEY ? config.RATE_LIMIT_LOADTEST_WINDOW_MS : config.RATE_LIMIT_WINDOW_MS),
      // Redis down: requests still reach their handlers (Redis-backed ones answer 503 themselves, reads through
      // other services keep working), counted per replica in memory meanwhile (fallback-store.ts).
      store: redisWithLocalFallback(redis, 'gateway:ratelimit:', {
        onFallback: (error) => logger.warn(`Redis unavailable (${error.message}): rate limits counted in this replica's memory`),
        onRecovered: () => logger.log('Redis available again: rate limits counted in Redis'),
      }),
      // The routed path, as the router decoded it: the raw URL (`/%61pi/...`) would escape the limit.
      allowList: (request) => !isApiRoute(routedPath(request)),
      keyGenerator: async (request) => {
        const result = await authenticator.authenticate(request);
        if (!('principal' in result)) return `ip:${request.ip}`;
        return result.principal.loadTestOwnerPrefix === undefined ? `owner:${result.principal.ownerId}` : LOADTEST_RATE_LIMIT_KEY;
      },
      errorResponseBuilder: (_request, context) => new TooManyRequestsProblem(Math.max(1, Math.ceil(context.ttl / 1000))),
    });
    // Nest adds its routes before Fastify loads plugins, so the plugin's own onRoute hook (global: true) would miss
    // them; a root onRequest hook, added once the plugin is loaded, applies to every route instead.
    registered.after((error) => {
      if (error) throw error;
      fastify.addHook('onRequest', fastify.rateLimit());
    });
  }
}
