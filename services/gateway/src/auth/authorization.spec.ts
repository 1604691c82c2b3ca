import { assertMayQueryOwner, assertOps, assertVisible, ownerForCreate } from './authorization';
import type { Principal } from './principal';

const alice: Principal = { ownerId: 'alice', ops: false };
const operator: Principal = { ownerId: 'op', ops: true };

describe('authorisation rules', () => {
  it('a create belongs to the caller unless ops names another owner', () => {
    expect(ownerForCreate(alice, undefined)).toBe('alice');
    expect(ownerForCreate(alice, 'alice')).toBe('alice');
    expect(() => ownerForCreate(alice, 'bob')).toThrow(expect.objectContaining({ problem: expect.objectContaining({ status: 403 }) }));
    expect(ownerForCreate(operator, 'bob')).toBe('bob');
    expect(ownerForCreate(operator, undefined)).toBe('op');
  });

  it('another owner\'s resource is indistinguishable from a missing one', () => {
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

function captured(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return (error as { problem: unknown }).problem;
  }
  throw new Error('expected a problem');
}
