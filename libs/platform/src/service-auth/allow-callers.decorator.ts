import { SetMetadata } from '@nestjs/common';

export const ALLOWED_CALLERS = 'platform:allowed-callers';

/**
 * The services that may call this route (by service name), checked against the caller's service token. A route under
 * /api without it admits no caller at all, so a route is never open by omission.
 */
export const AllowCallers = (...services: [string, ...string[]]) => SetMetadata(ALLOWED_CALLERS, services);
