import { type Package, applyChanges, fingerprintOf, monthRange, roundWeight } from './package.model';

const base: Package = {
  id: 'p1',
  ownerId: 'o1',
  size: 'Small',
  weight: 1.5,
  tag: 't',
  createdAt: '2027-01-01T00:00:00.000Z',
  updatedAt: '2027-01-01T00:00:00.000Z',
};

describe('fingerprintOf (idempotency of PUT)', () => {
  const creation = { ownerId: 'o1', size: 'Small', weight: 1.5, tag: 't' } as const;
  it('is the same for the same body, whatever the property order', () => {
    expect(fingerprintOf({ tag: 't', weight: 1.5, size: 'Small', ownerId: 'o1' })).toBe(fingerprintOf(creation));
  });
  it.each([{ ownerId: 'o2' }, { size: 'Large' as const }, { weight: 1.501 }, { tag: 'T' }])(
    'differs when any field differs: %o',
    (change) => {
      expect(fingerprintOf({ ...creation, ...change })).not.toBe(fingerprintOf(creation));
    },
  );
  it('cannot be fooled by field values that run into each other', () => {
    expect(fingerprintOf({ ...creation, ownerId: 'a', tag: 'b,c' })).not.toBe(fingerprintOf({ ...creation, ownerId: 'a,b', tag: 'c' }));
  });
});

describe('applyChanges', () => {
  it('applies given fields only, stamps updatedAt, keeps id, owner and createdAt', () => {
    expect(applyChanges(base, { weight: 3 }, '2027-02-01T00:00:00.000Z')).toEqual({
      ...base,
      weight: 3,
      updatedAt: '2027-02-01T00:00:00.000Z',
    });
  });
  it('returns undefined when nothing would change, so no write happens', () => {
    expect(applyChanges(base, {}, 'later')).toBeUndefined();
    expect(applyChanges(base, { size: 'Small', tag: 't' }, 'later')).toBeUndefined();
  });
});

describe('monthRange (the creation month a package counts toward)', () => {
  it('is the half-open UTC month', () => {
    expect(monthRange(2027, 3)).toEqual({ from: '2027-03-01T00:00:00.000Z', to: '2027-04-01T00:00:00.000Z' });
  });
  it('rolls December over into January of the next year', () => {
    expect(monthRange(2026, 12)).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
  });
  it('puts the last millisecond of a month inside it and the first of the next outside (string comparison)', () => {
    const { from, to } = monthRange(2028, 2);
    expect('2028-02-29T23:59:59.999Z' >= from && '2028-02-29T23:59:59.999Z' < to).toBe(true);
    expect('2028-03-01T00:00:00.000Z' < to).toBe(false);
  });
});

describe('roundWeight', () => {
  it('removes floating-point noise from sums of gram-precision weights', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(roundWeight(0.1 + 0.2)).toBe(0.3);
    expect(roundWeight(0.1 + 0.2 + 12.345)).toBe(12.645);
  });
});
