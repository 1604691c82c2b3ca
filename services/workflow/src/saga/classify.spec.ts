import { DownstreamUnavailableError, StoreUnavailableError } from '@dronedelivery/platform';
import { classifyError, classifyResponse, rejectedByOpenCircuit } from './classify';

const answer = (status: number, body: unknown = {}) => ({ status, headers: {}, body });
const problem = (slug: string, detail = 'x') => ({ type: `https://dronedelivery.dev/problems/${slug}`, title: 't', status: 409, detail });

describe('classifyResponse', () => {
  it('treats every 2xx as done, including idempotent replays (200) and deletes (204)', () => {
    for (const status of [200, 201, 202, 204]) expect(classifyResponse('package', answer(status))).toEqual({ kind: 'ok' });
  });

  it('leaves 404 to the step', () => {
    expect(classifyResponse('delivery', answer(404))).toEqual({ kind: 'not-found' });
  });

  it('retries load and outage answers: 408, 425, 429 and every 5xx', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504]) expect(classifyResponse('package', answer(status)).kind).toBe('transient');
  });

  it('retries a 409 only when the step names it as "retry later" (no drone free yet)', () => {
    const noDrone = answer(409, problem('no-drone-available', 'all busy'));
    expect(classifyResponse('dronescheduler', noDrone, ['no-drone-available'])).toEqual({
      kind: 'transient',
      reason: 'dronescheduler answered 409 no-drone-available: all busy',
    });
    expect(classifyResponse('dronescheduler', noDrone).kind).toBe('permanent');
    expect(classifyResponse('dronescheduler', answer(409, problem('assignment-exists')), ['no-drone-available']).kind).toBe('permanent');
  });

  it("gives up on the owner's cap of active bookings, with the scheduler's detail as the delivery's reason", () => {
    const capped = answer(409, problem('active-bookings-exceeded', 'Owner o-1 already holds 100 active bookings'));
    expect(classifyResponse('dronescheduler', capped, ['no-drone-available'])).toEqual({
      kind: 'permanent',
      reason: 'dronescheduler answered 409 active-bookings-exceeded: Owner o-1 already holds 100 active bookings',
    });
  });

  it('gives up on validation and conflicts, naming the downstream and its problem type', () => {
    expect(classifyResponse('package', answer(409, problem('package-exists', 'different body')))).toEqual({
      kind: 'permanent',
      reason: 'package answered 409 package-exists: different body',
    });
    expect(classifyResponse('delivery', answer(400, { type: 'https://dronedelivery.dev/problems/validation-error' })).kind).toBe(
      'permanent',
    );
    expect(classifyResponse('delivery', answer(422, 'plain text'))).toEqual({ kind: 'permanent', reason: 'delivery answered 422' });
  });
});

describe('classifyError', () => {
  it('treats an unreachable downstream (timeout, open breaker, full bulkhead, network) and our own Redis as transient', () => {
    for (const reason of ['timeout', 'open-circuit', 'bulkhead-full', 'network'] as const) {
      expect(classifyError(new DownstreamUnavailableError('package', reason))).toEqual({
        kind: 'transient',
        reason: `package unavailable: ${reason}`,
      });
    }
    expect(classifyError(new StoreUnavailableError('redis', new Error('down'))).reason).toBe('workflow redis unavailable');
  });

  it('retries an unexpected error too, keeping its message for the dead letter', () => {
    expect(classifyError(new TypeError('boom'))).toEqual({ kind: 'transient', reason: 'unexpected error: boom' });
  });
});

describe('rejectedByOpenCircuit', () => {
  it('names the downstream of an open-circuit rejection, and nothing for a call that was made and failed', () => {
    expect(rejectedByOpenCircuit(new DownstreamUnavailableError('package', 'open-circuit'))).toBe('package');
    for (const reason of ['timeout', 'network', 'status', 'bulkhead-full'] as const) {
      expect(rejectedByOpenCircuit(new DownstreamUnavailableError('package', reason))).toBeUndefined();
    }
    expect(rejectedByOpenCircuit(new StoreUnavailableError('redis', new Error('down')))).toBeUndefined();
  });
});
