import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ALLOWED_CALLERS } from './allow-callers.decorator';
import { ServiceUnavailableProblem } from '../errors/problem';
import { ForbiddenProblem, UnauthorizedProblem } from './auth.problems';
import { SIGNING_KEYS_RETRY_AFTER_SECONDS, SigningKeysUnavailableError } from './remote-signing-keys';
import { InvalidServiceTokenError, type ServiceTokenVerifier } from './service-token-verifier';

export const SERVICE_TOKEN_VERIFIER = Symbol('SERVICE_TOKEN_VERIFIER');

/**
 * Global guard of a backend: every route under /api needs a service token for this service from a caller its
 * `@AllowCallers` names (401 without a valid token, 403 for any other caller; 503 with Retry-After when the signing
 * keys could not be fetched, so no token can be judged). Health, metrics and the OpenAPI document are outside /api.
 */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  constructor(
    @Inject(SERVICE_TOKEN_VERIFIER) private readonly verifier: ServiceTokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const path = request.routeOptions.url ?? request.url;
    if (path !== '/api' && !path.startsWith('/api/')) return true;
    const [scheme, token, extra] = (request.headers.authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token || extra !== undefined) {
      throw new UnauthorizedProblem('This service needs a service token (Authorization: Bearer).', false);
    }
    let caller: string | undefined;
    try {
      caller = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidServiceTokenError) throw new UnauthorizedProblem(error.message, true);
      if (error instanceof SigningKeysUnavailableError)
        throw new ServiceUnavailableProblem(error.message, SIGNING_KEYS_RETRY_AFTER_SECONDS);
      throw error;
    }
    const allowed = this.reflector.getAllAndOverride<string[] | undefined>(ALLOWED_CALLERS, [context.getHandler(), context.getClass()]);
    if (!caller || !allowed?.includes(caller)) throw new ForbiddenProblem('This caller may not use this operation.');
    return true;
  }
}
