import type { Confirmation, Delivery, DeliveryEventType, DeliveryStatus, Reschedule } from './delivery.model';

/** The outcome of applying a command to the current state. Pure, so it is unit-tested without a store. */
export type Transition =
  | { kind: 'change'; next: Delivery; event: { type: DeliveryEventType; details?: Record<string, unknown> } }
  | { kind: 'unchanged' }
  | { kind: 'illegal'; detail: string };

function illegal(delivery: Delivery, action: string): Transition {
  return { kind: 'illegal', detail: `Cannot ${action} delivery ${delivery.id}: it is ${delivery.status}.` };
}

function changed(current: Delivery, patch: Partial<Delivery>, now: string): Delivery {
  return { ...current, ...patch, updatedAt: now, version: current.version + 1 };
}

export function cancel(current: Delivery, now: string): Transition {
  if (current.status === 'Cancelled') return { kind: 'unchanged' };
  if (current.status !== 'Scheduled') return illegal(current, 'cancel');
  return { kind: 'change', next: changed(current, { status: 'Cancelled' }, now), event: { type: 'Cancelled' } };
}

export function confirm(current: Delivery, confirmation: Confirmation, now: string): Transition {
  if (current.status === 'Delivered') {
    return sameConfirmation(current.confirmation, confirmation)
      ? { kind: 'unchanged' }
      : { kind: 'illegal', detail: `Delivery ${current.id} was already confirmed with a different confirmation.` };
  }
  if (current.status !== 'Scheduled') return illegal(current, 'confirm');
  return {
    kind: 'change',
    next: changed(current, { status: 'Delivered', confirmation }, now),
    event: { type: 'Delivered', details: { confirmationType: confirmation.confirmationType, dateTime: confirmation.dateTime } },
  };
}

export function reschedule(current: Delivery, changes: Reschedule, now: string): Transition {
  if (current.status !== 'Scheduled') return illegal(current, 'reschedule');
  const applied = Object.fromEntries(
    Object.entries(changes).filter(([key, value]) => value !== undefined && current[key as keyof Reschedule] !== value),
  ) as Reschedule;
  if (Object.keys(applied).length === 0) return { kind: 'unchanged' };
  const next = changed(current, applied, now);
  if (Date.parse(next.deadline) < Date.parse(next.pickupTime)) {
    return { kind: 'illegal', detail: 'The deadline would fall before the pickup time.' };
  }
  return { kind: 'change', next, event: { type: 'Rescheduled', details: { ...applied } } };
}

export function fail(current: Delivery, reason: string, now: string): Transition {
  if (current.status === 'Failed') return { kind: 'unchanged' };
  if (current.status !== 'Scheduled') return illegal(current, 'fail');
  return { kind: 'change', next: changed(current, { status: 'Failed', reason }, now), event: { type: 'Failed', details: { reason } } };
}

export function setStatus(current: Delivery, status: DeliveryStatus, reason: string | undefined, now: string): Transition {
  switch (status) {
    case 'Failed':
      return fail(current, reason ?? 'unspecified', now);
    case 'Cancelled':
      return cancel(current, now);
    default:
      return { kind: 'illegal', detail: `Status ${status} cannot be set directly; use the matching command.` };
  }
}

function sameConfirmation(a: Confirmation | undefined, b: Confirmation): boolean {
  return (
    a !== undefined &&
    a.confirmationType === b.confirmationType &&
    Date.parse(a.dateTime) === Date.parse(b.dateTime) &&
    (a.confirmationBlob ?? null) === (b.confirmationBlob ?? null)
  );
}
