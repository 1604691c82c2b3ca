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
    expect(parseCommand(entry())).toEqual({
      ok: true,
      command: { type: 'create', commandId: 'c1', deliveryId: 'd1', ownerId: 'o1', payload: create },
    });
    expect(parseCommand(entry({ type: 'cancel', payload: '{}' }))).toMatchObject({ ok: true, command: { type: 'cancel' } });
  });

  it('rejects what no retry could fix: unknown type, missing ids, broken JSON, a payload of the wrong shape', () => {
    expect(parseCommand(entry({ type: 'launch' }))).toEqual({ ok: false, reason: 'malformed command: unknown type "launch"' });
    expect(parseCommand(entry({ deliveryId: '' }))).toMatchObject({ ok: false });
    expect(parseCommand(entry({ payload: '{' }))).toEqual({ ok: false, reason: 'malformed command: payload is not JSON' });
    const bad = parseCommand(entry({ payload: JSON.stringify({ ...create, packageInfo: { ...create.packageInfo, weight: -1 } }) }));
    expect(bad).toMatchObject({ ok: false, reason: expect.stringContaining('packageInfo.weight') });
  });
});

it('fieldsOf turns the flat stream list into a record', () => {
  expect(fieldsOf(['type', 'cancel', 'payload', '{}'])).toEqual({ type: 'cancel', payload: '{}' });
});
