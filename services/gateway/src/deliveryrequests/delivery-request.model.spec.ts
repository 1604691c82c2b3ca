import { type DeliveryRequestInput, fingerprintOf, normalizeRequest } from './delivery-request.model';

const input: DeliveryRequestInput = {
  pickupLocation: '1 Main St',
  dropOffLocation: '9 Side Rd',
  pickupTime: '2026-12-01T10:00:00+01:00',
  deadline: '2026-12-01T12:00:00Z',
  expedited: false,
  confirmationRequired: 'Picture',
  packageInfo: { packageId: 'pkg-1', size: 'Small', weight: 2.5, tag: 'fragile' },
};

describe('request normalisation and fingerprint', () => {
  it('writes times as UTC ISO and keeps a fixed key order', () => {
    const normalised = normalizeRequest(input, 'owner-1');
    expect(normalised.pickupTime).toBe('2026-12-01T09:00:00.000Z');
    expect(Object.keys(normalised)).toEqual([
      'ownerId',
      'pickupLocation',
      'dropOffLocation',
      'pickupTime',
      'deadline',
      'expedited',
      'confirmationRequired',
      'packageInfo',
    ]);
  });

  it('gives the same fingerprint for the same instant in another offset and for reordered keys', () => {
    const { packageInfo: _packageInfo, ...rest } = input;
    const reordered = {
      packageInfo: { tag: 'fragile', weight: 2.5, size: 'Small', packageId: 'pkg-1' },
      ...rest,
      pickupTime: '2026-12-01T09:00:00.000Z',
    } as DeliveryRequestInput;
    expect(fingerprintOf(normalizeRequest(reordered, 'owner-1'))).toBe(fingerprintOf(normalizeRequest(input, 'owner-1')));
  });

  it('changes the fingerprint when anything that matters changes, including the owner and nested fields', () => {
    const base = fingerprintOf(normalizeRequest(input, 'owner-1'));
    expect(fingerprintOf(normalizeRequest(input, 'owner-2'))).not.toBe(base);
    expect(fingerprintOf(normalizeRequest({ ...input, expedited: true }, 'owner-1'))).not.toBe(base);
    expect(fingerprintOf(normalizeRequest({ ...input, packageInfo: { ...input.packageInfo, weight: 2.501 } }, 'owner-1'))).not.toBe(base);
  });

  it('drops fields that are not part of the request', () => {
    const withExtra = { ...input, isAdmin: true, packageInfo: { ...input.packageInfo, secret: 1 } } as DeliveryRequestInput;
    expect(fingerprintOf(normalizeRequest(withExtra, 'owner-1'))).toBe(fingerprintOf(normalizeRequest(input, 'owner-1')));
  });
});
