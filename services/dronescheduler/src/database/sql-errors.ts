import { StoreUnavailableError } from '@dronedelivery/platform';

/** How the service reacts to a failed statement, the same on both engines. */
export type SqlFailure = 'unavailable' | 'unique-violation' | 'transient' | 'other';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** mssql / tedious connection-level codes (ETIMEOUT = request timeout). */
const MSSQL_UNAVAILABLE_CODES = new Set(['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ENOTOPEN', 'ELOGIN', 'EINSTLOOKUP', 'ENOCONN']);
/** PostgreSQL SQLSTATEs: class 08 connection exceptions, admin/crash shutdown, cannot connect now, too many connections, statement timeout. */
const PG_UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Connection ended|not queryable|connection error|Driver not Connected|Query read timeout|Failed to connect/i;

export function classifySqlError(error: unknown): SqlFailure {
  for (const candidate of causes(error)) {
    const code = (candidate as { code?: unknown }).code;
    const number = (candidate as { number?: unknown }).number;
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || MSSQL_UNAVAILABLE_CODES.has(code) || PG_UNAVAILABLE_STATES.has(code) || code.startsWith('08')) {
        return 'unavailable';
      }
      if (code === '23505') return 'unique-violation';
      if (code === '40001' || code === '40P01') return 'transient';
    }
    if (typeof number === 'number') {
      if (number === 2627 || number === 2601) return 'unique-violation';
      if (number === 1205 || number === 3960) return 'transient'; // deadlock victim, snapshot update conflict
    }
    const name = (candidate as { name?: unknown }).name;
    if (name === 'ConnectionError' || name === 'ConnectionIsNotSetError') return 'unavailable';
    const message = (candidate as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return 'unavailable';
  }
  return 'other';
}

/** Runs a store call; a store that cannot answer becomes StoreUnavailableError (503 + Retry-After). */
export async function guardSql<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (classifySqlError(error) === 'unavailable') throw new StoreUnavailableError('sql', error);
    throw error;
  }
}

/** The error and the driver errors TypeORM and mssql wrap inside it. */
function causes(error: unknown): unknown[] {
  const found: unknown[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && found.length < 5 && !found.includes(current)) {
    found.push(current);
    const next =
      (current as { driverError?: unknown }).driverError ??
      (current as { originalError?: unknown }).originalError ??
      (current as { cause?: unknown }).cause;
    current = next;
  }
  return found;
}
