import { SIGNING_KEYS_RETRY_AFTER_SECONDS, ServiceUnavailableProblem, UnauthorizedProblem } from '@dronedelivery/platform';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { assertOps } from './authorization';
import { OPS_ONLY, attachPrincipal } from './auth.decorators';
import { AUTHENTICATOR, type Authenticator } from './authenticator';

/**
 * Global guard, secure by default: every route under /api needs a valid bearer token. Operational routes
 * (health, metrics, OpenAPI) live outside /api and stay public for probes and scrapers.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!isApiRoute(request.routeOptions.url ?? request.url)) return true;
    const result = await this.authenticator.authenticate(request);
    if ('failure' in result) {
      // jose refetches a failed key set on the next request; a few seconds spare an endpoint that is struggling.
      if (result.failure === 'unavailable') throw new ServiceUnavailableProblem(result.detail, SIGNING_KEYS_RETRY_AFTER_SECONDS);
      throw new UnauthorizedProblem(result.detail, result.failure === 'invalid');
    }
    attachPrincipal(request, result.principal);
    const opsOnly = this.reflector.getAllAndOverride<boolean>(OPS_ONLY, [context.getHandler(), context.getClass()]);
    if (opsOnly) assertOps(result.principal);
    return true;
  }
}

export function isApiRoute(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}
