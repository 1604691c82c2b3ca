import type { LoggerService } from '@nestjs/common';

/** Nest's own per-module and per-route boot lines: useful when debugging wiring, noise in every other start. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Nest passes the context as the last optional parameter of a log call. */
function contextOf(params: unknown[]): unknown {
  return params[params.length - 1];
}

/**
 * Wraps the service logger so Nest's boot chatter logs at debug instead of info; the `listening` line (startService)
 * says what a start needs to say. Everything else passes through unchanged.
 */
export function quietBootChatter(logger: LoggerService): LoggerService {
  return {
    log: (message: unknown, ...params: unknown[]) => {
      const context = contextOf(params);
      if (typeof context === 'string' && BOOT_CONTEXTS.has(context) && logger.debug) logger.debug(message, ...params);
      else logger.log(message, ...params);
    },
    error: (message: unknown, ...params: unknown[]) => logger.error(message, ...params),
    warn: (message: unknown, ...params: unknown[]) => logger.warn(message, ...params),
    debug: (message: unknown, ...params: unknown[]) => logger.debug?.(message, ...params),
    verbose: (message: unknown, ...params: unknown[]) => logger.verbose?.(message, ...params),
    fatal: (message: unknown, ...params: unknown[]) => (logger.fatal ? logger.fatal(message, ...params) : logger.error(message, ...params)),
  };
}
