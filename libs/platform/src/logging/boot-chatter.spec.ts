import type { LoggerService } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { quietBootChatter } from './boot-chatter';

function recording(): { logger: LoggerService; calls: Array<[string, unknown[]]> } {
  const calls: Array<[string, unknown[]]> = [];
  const record =
    (level: string) =>
    (...args: unknown[]) =>
      calls.push([level, args]);
  return {
    calls,
    logger: { log: record('log'), error: record('error'), warn: record('warn'), debug: record('debug'), verbose: record('verbose') },
  };
}

describe('quietBootChatter', () => {
  it("logs Nest's route and module lines at debug", () => {
    const { logger, calls } = recording();
    const quiet = quietBootChatter(logger);
    quiet.log('Mapped {/api/deliveries/:id, GET} route', 'RouterExplorer');
    quiet.log('AppModule dependencies initialized', 'InstanceLoader');
    expect(calls).toEqual([
      ['debug', ['Mapped {/api/deliveries/:id, GET} route', 'RouterExplorer']],
      ['debug', ['AppModule dependencies initialized', 'InstanceLoader']],
    ]);
  });

  it("keeps the service's own lines and every warning and error at their level", () => {
    const { logger, calls } = recording();
    const quiet = quietBootChatter(logger);
    quiet.log('consumer started', 'CommandConsumer');
    quiet.warn('store unreachable', 'store');
    quiet.error('boot failed', 'RouterExplorer');
    quiet.fatal?.('fatal without a fatal level');
    expect(calls.map(([level]) => level)).toEqual(['log', 'warn', 'error', 'error']);
  });
});
