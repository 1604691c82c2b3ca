import { type ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { Principal } from './principal';

export const OPS_ONLY = 'gateway:ops-only';

/** The route needs the ops role (403 otherwise). */
export const OpsOnly = () => SetMetadata(OPS_ONLY, true);

/** The authenticated caller, set by the AuthGuard. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = principalOf(context.switchToHttp().getRequest());
  if (!principal) throw new Error('@Caller() used on a route the AuthGuard does not protect');
  return principal;
});

const PRINCIPAL = Symbol('principal');

export function attachPrincipal(request: object, principal: Principal): void {
  (request as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

export function principalOf(request: object): Principal | undefined {
  return (request as Record<symbol, Principal | undefined>)[PRINCIPAL];
}
