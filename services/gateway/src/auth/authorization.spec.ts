import { assertMayQueryOwner, assertOps, assertVisible, ownerForCreate } from './authorization';
import type { Principal } from './principal';

const alice: Principal = { ownerId: 'alice', ops: false };
const operator: Principal = { ownerId: 'op', ops: true };
const loadGenerator: Principal = { ownerId: 'loadgen', ops: false, loadTestOwnerPrefix: 'loadtest-' };

describe('authorisation rules', () => {
  it('a create belongs to the caller unless ops names another owner', () => {
    expect(ownerForCreate(alice, undefined)).toBe('alice');
    expect(ownerForCreate(alice, 'alice')).toBe('alice');
    expect(() => ownerForCreate(alice, 'bob')).toThrow(expect.objectContaining({ problem: expect.objectContaining({ status: 403 }) }));
    expect(ownerForCreate(operator, 'bob')).toBe('bob');
    expect(ownerForCreate(operator, undefined)).toBe('op');
  });

  it("another owner's resource is indistinguishable from a missing one", () => {
    const foreign = captured(() => assertVisible(alice, 'bob', 'Delivery d1'));
    const missing = captured(() => assertVisible(alice, undefined, 'Delivery d1'));
    expect(foreign).toEqual(missing);
    expect(foreign).toMatchObject({ status: 404, detail: 'Delivery d1 does not exist.' });
    expect(() => assertVisible(alice, 'alice', 'x')).not.toThrow();
    expect(() => assertVisible(operator, 'bob', 'x')).not.toThrow();
    expect(captured(() => assertVisible(operator, undefined, 'x'))).toMatchObject({ status: 404 });
  });

  it('owner queries and ops routes answer 403', () => {
    expect(captured(() => assertMayQueryOwner(alice, 'bob'))).toMatchObject({ status: 403 });
    expect(() => assertMayQueryOwner(alice, 'alice')).not.toThrow();
    expect(() => assertMayQueryOwner(operator, 'bob')).not.toThrow();
    expect(captured(() => assertOps(alice))).toMatchObject({ status: 403 });
    expect(() => assertOps(operator)).not.toThrow();
  });
});

describe('the load-test role', () => {
  it('acts for owners with the synthetic prefix and for itself, never for anyone else', () => {
    expect(ownerForCreate(loadGenerator, 'loadtest-7')).toBe('loadtest-7');
    expect(ownerForCreate(loadGenerator, undefined)).toBe('loadgen');
    expect(captured(() => ownerForCreate(loadGenerator, 'alice'))).toMatchObject({
      status: 403,
      detail: expect.stringContaining("'loadtest-'"),
    });
    expect(captured(() => ownerForCreate(loadGenerator, 'loadtest-'))).toMatchObject({ status: 403 });
    expect(captured(() => ownerForCreate(loadGenerator, 'xloadtest-7'))).toMatchObject({ status: 403 });
    expect(() => assertVisible(loadGenerator, 'loadtest-7', 'x')).not.toThrow();
    expect(captured(() => assertVisible(loadGenerator, 'alice', 'Delivery d1'))).toEqual(
      captured(() => assertVisible(loadGenerator, undefined, 'Delivery d1')),
    );
    expect(() => assertMayQueryOwner(loadGenerator, 'loadtest-7')).not.toThrow();
    expect(captured(() => assertMayQueryOwner(loadGenerator, 'alice'))).toMatchObject({ status: 403 });
    expect(captured(() => assertOps(loadGenerator))).toMatchObject({ status: 403 });
    // Without the role, a synthetic owner is just another owner.
    expect(captured(() => ownerForCreate(alice, 'loadtest-7'))).toMatchObject({ status: 403 });
  });
});

function captured(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return (error as { problem: unknown }).problem;
  }
  throw new Error('expected a problem');
}
