import { fieldsOf, parseCommand } from './command';

const create = {
  ownerId: 'o1',
  pickupLocation: 'a',
  dropOffLocation: 'b',
  pickupTime: '2030-01-01T10:00:00.000Z',
  deadline: '2030-01-01T12:00:00.000Z',
  expedited: false,
  confirmationRequired: 'None',
  packageInfo: { packageId: 'p1', size: 'Small', weight: 1.5, tag: 't' },
};
const entry = (overrides: Record<string, string> = {}) => ({
  type: 'create',
  commandId: 'c1',
  deliveryId: 'd1',
  ownerId: 'o1',
  payload: JSON.stringify(create),
  requestedAt: '2030-01-01T00:00:00.000Z',
  ...overrides,
});

describe('parseCommand', () => {
  it('parses the entry the gateway writes', () => {
    expect(parseCommand(entry(), '1-0')).toEqual({
      ok: true,
      command: { type: 'create', commandId: 'c1', deliveryId: 'd1', ownerId: 'o1', acceptedId: '1-0', payload: create },
    });
    expect(parseCommand(entry({ type: 'cancel', payload: '{}' }), '1-0')).toMatchObject({ ok: true, command: { type: 'cancel' } });
  });

  it('rejects what no retry could fix: unknown type, missing ids, broken JSON, a payload of the wrong shape', () => {
    expect(parseCommand(entry({ type: 'launch' }), '1-0')).toEqual({ ok: false, reason: 'malformed command: unknown type "launch"' });
    expect(parseCommand(entry({ deliveryId: '' }), '1-0')).toMatchObject({ ok: false });
    expect(parseCommand(entry({ payload: '{' }), '1-0')).toEqual({ ok: false, reason: 'malformed command: payload is not JSON' });
    const bad = parseCommand(entry({ payload: JSON.stringify({ ...create, packageInfo: { ...create.packageInfo, weight: -1 } }) }), '1-0');
    expect(bad).toMatchObject({ ok: false, reason: expect.stringContaining('packageInfo.weight') });
    expect(parseCommand(entry({ type: 'reschedule', payload: '{}' }), '1-0')).toMatchObject({ ok: false });
    expect(parseCommand(entry({ payload: 'null' }), '1-0')).toMatchObject({ ok: false });
  });

  it('orders a replayed command by the id it was first accepted with', () => {
    expect(parseCommand(entry({ acceptedId: '7-3' }), '9-0')).toMatchObject({ ok: true, command: { acceptedId: '7-3' } });
    expect(parseCommand(entry({ acceptedId: 'later' }), '9-0')).toEqual({
      ok: false,
      reason: 'malformed command: acceptedId is not a stream id',
    });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])('rejects the inherited key %j as a type', (type) => {
    expect(parseCommand(entry({ type }), '1-0')).toEqual({ ok: false, reason: `malformed command: unknown type ${JSON.stringify(type)}` });
  });

  it('rejects a missing type and missing ids, also when the entry has fields named like inherited keys', () => {
    const { type: _type, ...withoutType } = entry();
    expect(parseCommand(withoutType, '1-0')).toEqual({ ok: false, reason: 'malformed command: unknown type null' });
    const { commandId: _commandId, ...withoutCommandId } = entry();
    expect(parseCommand(fieldsOf(Object.entries({ ...withoutCommandId, constructor: 'x' }).flat()), '1-0')).toMatchObject({ ok: false });
  });

  it('accepts W3C baggage and rejects what no header could carry', () => {
    for (const baggage of ['synthetic_request=true', 'tenant=t1, synthetic_request=true;prop=1', 'k=%E2%82%AC;flag'])
      expect(parseCommand(entry({ baggage }), '1-0')).toMatchObject({ ok: true });
    for (const baggage of [
      '',
      'no-equals',
      'k=v\r\nX-Injected: 1',
      'k=a b',
      'k=\u00e9',
      `k=${'v'.repeat(8200)}`,
      Array(181).fill('k=v').join(','),
    ])
      expect(parseCommand(entry({ baggage }), '1-0')).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^malformed command: baggage /),
      });
  });
});

it('fieldsOf turns the flat stream list into a record', () => {
  expect(fieldsOf(['type', 'cancel', 'payload', '{}'])).toEqual({ type: 'cancel', payload: '{}' });
  const poisoned = fieldsOf(['__proto__', 'x', 'type', 'cancel']);
  expect(Object.keys(poisoned)).toEqual(['__proto__', 'type']);
  expect(poisoned.constructor).toBeUndefined();
});
