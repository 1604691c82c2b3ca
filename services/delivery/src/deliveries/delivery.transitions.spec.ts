import type { Delivery } from './delivery.model';
import { cancel, confirm, fail, reschedule, setStatus } from './delivery.transitions';

const now = '2026-06-01T12:00:00.000Z';
const scheduled: Delivery = {
  id: 'd1',
  ownerId: 'o1',
  pickupLocation: 'a',
  dropOffLocation: 'b',
  pickupTime: '2026-06-02T10:00:00.000Z',
  deadline: '2026-06-02T12:00:00.000Z',
  expedited: false,
  confirmationRequired: 'None',
  packageId: 'p1',
  droneId: 'dr1',
  status: 'Scheduled',
  createdAt: now,
  updatedAt: now,
  version: 3,
};
const confirmation = { dateTime: '2026-06-02T11:00:00.000Z', confirmationType: 'Picture' as const };

describe('delivery transitions', () => {
  it('cancels a scheduled delivery, bumping the version', () => {
    const result = cancel(scheduled, now);
    expect(result).toMatchObject({ kind: 'change', next: { status: 'Cancelled', version: 4 }, event: { type: 'Cancelled' } });
  });

  it('treats a repeated cancel as unchanged and refuses to cancel a delivered one', () => {
    expect(cancel({ ...scheduled, status: 'Cancelled' }, now)).toEqual({ kind: 'unchanged' });
    expect(cancel({ ...scheduled, status: 'Delivered' }, now)).toMatchObject({ kind: 'illegal' });
  });

  it('confirms once; the same confirmation again is unchanged, a different one illegal', () => {
    const done = confirm(scheduled, confirmation, now);
    expect(done).toMatchObject({ kind: 'change', next: { status: 'Delivered', confirmation } });
    const delivered = (done as { next: Delivery }).next;
    expect(confirm(delivered, { ...confirmation }, now)).toEqual({ kind: 'unchanged' });
    expect(confirm(delivered, { ...confirmation, confirmationType: 'Voice' }, now)).toMatchObject({ kind: 'illegal' });
    expect(confirm({ ...scheduled, status: 'Cancelled' }, confirmation, now)).toMatchObject({ kind: 'illegal' });
  });

  it('reschedules only changed fields, only while scheduled, never with deadline before pickup', () => {
    expect(reschedule(scheduled, { pickupLocation: 'a' }, now)).toEqual({ kind: 'unchanged' });
    expect(reschedule(scheduled, { dropOffLocation: 'c' }, now)).toMatchObject({
      kind: 'change',
      next: { dropOffLocation: 'c', version: 4 },
      event: { type: 'Rescheduled', details: { dropOffLocation: 'c' } },
    });
    expect(reschedule(scheduled, { deadline: '2026-06-02T09:00:00.000Z' }, now)).toMatchObject({ kind: 'illegal' });
    expect(reschedule({ ...scheduled, status: 'Delivered' }, { dropOffLocation: 'c' }, now)).toMatchObject({ kind: 'illegal' });
  });

  it('fails with a reason and refuses statuses that have their own command', () => {
    expect(fail(scheduled, 'no drone', now)).toMatchObject({ kind: 'change', next: { status: 'Failed', reason: 'no drone' } });
    expect(setStatus(scheduled, 'Delivered', undefined, now)).toMatchObject({ kind: 'illegal' });
    expect(setStatus({ ...scheduled, status: 'Failed' }, 'Failed', 'x', now)).toEqual({ kind: 'unchanged' });
  });
});
