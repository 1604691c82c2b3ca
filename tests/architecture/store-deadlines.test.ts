import type { z } from 'zod';
import { STATEMENT_CLIENT_MARGIN_MS } from '../../services/dronescheduler/src/store/data-source';
import { callGraph, callersOf } from '../deploy/call-graph';
import { SERVICE_CONFIG, type Service } from '../deploy/services';

/**
 * A service's store gives up before its callers do, with every setting at its default: otherwise a request whose
 * caller has timed out (and retried, or redelivered its command) keeps working on the store for nobody, and under
 * an outage the abandoned work piles up. For each service with a store deadline, the longest a request may wait on
 * its store stays below the per-attempt timeout (`DOWNSTREAM_TIMEOUT_MS`) of every service that calls it.
 */
function defaultOf(service: Service, key: string): number {
  const schema: z.ZodObject = SERVICE_CONFIG[service].schema;
  return (schema.shape[key] as z.ZodType<number>).parse(undefined);
}

const storeWaits: Partial<Record<Service, { what: string; ms: () => number }>> = {
  package: {
    // A request runs at most two store operations one after the other: a create, then the read of a replay; a read,
    // then a conditional delete (src/packages/packages.service.ts). Each has its own deadline.
    what: '2 × COSMOS_OPERATION_TIMEOUT_MS',
    ms: () => 2 * defaultOf('package', 'COSMOS_OPERATION_TIMEOUT_MS'),
  },
  dronescheduler: {
    // One statement: the server cancels it after DB_STATEMENT_TIMEOUT_MS; a server that stopped answering is given
    // up by the client a margin later.
    what: 'DB_STATEMENT_TIMEOUT_MS + the client margin',
    ms: () => defaultOf('dronescheduler', 'DB_STATEMENT_TIMEOUT_MS') + STATEMENT_CLIENT_MARGIN_MS,
  },
};

const callers = callersOf(callGraph());

describe.each(Object.entries(storeWaits))('%s', (service, wait) => {
  it('has callers (so this check checks something)', () => {
    expect(callers[service as Service].length).toBeGreaterThan(0);
  });

  it.each(callers[service as Service])(`waits on its store for less than %s's downstream timeout`, (caller) => {
    const timeout = defaultOf(caller, 'DOWNSTREAM_TIMEOUT_MS');
    expect(wait.ms(), `${service}: ${wait.what} must stay below ${caller}'s DOWNSTREAM_TIMEOUT_MS (${timeout})`).toBeLessThan(timeout);
  });
});

it('the package service: one attempt of a Cosmos request never outlasts the operation it belongs to', () => {
  expect(defaultOf('package', 'COSMOS_REQUEST_TIMEOUT_MS')).toBeLessThanOrEqual(defaultOf('package', 'COSMOS_OPERATION_TIMEOUT_MS'));
});
