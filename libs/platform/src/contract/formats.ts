/**
 * Values the public API contract fixes for every service, so one service never accepts what another refuses:
 * this file the wire formats, packages.ts and deliveries.ts the bounds of their fields.
 */

/** Resource ids: URL-safe, bounded, so they can be used as store keys without escaping. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The message of an id field in a body or query: `@Matches(ID_PATTERN, ID_MESSAGE)`. */
export const ID_MESSAGE = { message: '$property must be 1-64 letters, digits, - or _' };

/** Date-times are ISO 8601 with a 'T' separator and real calendar dates: `@IsISO8601(STRICT_ISO_8601)`. */
export const STRICT_ISO_8601 = { strict: true, strictSeparator: true };
