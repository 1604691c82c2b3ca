import { StoreUnavailableError } from '@dronedelivery/platform';
import { classifySqlError, guardSql } from './sql-errors';

/** Shapes as the drivers produce them: TypeORM's QueryFailedError keeps the driver error in driverError. */
const wrapped = (driverError: object) => Object.assign(new Error('query failed'), { name: 'QueryFailedError', driverError });

describe('classifySqlError', () => {
  it.each([
    ['pg connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'unavailable'],
    ['pg admin shutdown', wrapped({ code: '57P01', message: 'terminating connection due to administrator command' }), 'unavailable'],
    ['pg connection exception class 08', wrapped({ code: '08006' }), 'unavailable'],
    ['pg statement timeout', wrapped({ code: '57014' }), 'unavailable'],
    ['pg pool connect timeout', new Error('timeout exceeded when trying to connect'), 'unavailable'],
    ['mssql socket error', Object.assign(new Error('Connection lost'), { name: 'ConnectionError', code: 'ESOCKET' }), 'unavailable'],
    ['mssql request timeout', wrapped({ code: 'ETIMEOUT', message: 'Timeout: Request failed to complete in 5000ms' }), 'unavailable'],
    ['pg unique violation', wrapped({ code: '23505' }), 'unique-violation'],
    ['mssql primary key violation', wrapped({ number: 2627, originalError: { info: { number: 2627 } } }), 'unique-violation'],
    ['mssql unique index violation', wrapped({ number: 2601 }), 'unique-violation'],
    ['pg deadlock', wrapped({ code: '40P01' }), 'transient'],
    ['pg serialization failure', wrapped({ code: '40001' }), 'transient'],
    ['mssql deadlock victim', wrapped({ number: 1205 }), 'transient'],
    ['pg syntax error', wrapped({ code: '42601' }), 'other'],
    ['plain bug', new TypeError('x is undefined'), 'other'],
  ])('%s → %s', (_name, error, expected) => {
    expect(classifySqlError(error)).toBe(expected);
  });
});

describe('guardSql', () => {
  it('turns an unreachable store into StoreUnavailableError (503) and passes anything else through', async () => {
    await expect(guardSql(() => Promise.reject(wrapped({ code: '57P03' })))).rejects.toBeInstanceOf(StoreUnavailableError);
    const bug = wrapped({ code: '42P01' });
    await expect(guardSql(() => Promise.reject(bug))).rejects.toBe(bug);
    await expect(guardSql(async () => 42)).resolves.toBe(42);
  });
});
