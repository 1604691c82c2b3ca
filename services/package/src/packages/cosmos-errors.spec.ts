import { ErrorResponse, TimeoutError } from '@azure/cosmos';
import { StoreUnavailableError } from '@dronedelivery/platform';
import { guardCosmos, isTransientCosmosError } from './cosmos-errors';

function cosmosError(code: number | string): ErrorResponse {
  const error = new ErrorResponse(`status ${code}`);
  error.code = code;
  return error;
}

describe('isTransientCosmosError', () => {
  it.each([408, 429, 449, 500, 503])('status %s is transient (503 + Retry-After)', (code) => {
    expect(isTransientCosmosError(cosmosError(code))).toBe(true);
  });
  it.each([400, 401, 403, 404, 409, 412, 413])('status %s is not', (code) => {
    expect(isTransientCosmosError(cosmosError(code))).toBe(false);
  });
  it('network errors, SDK timeouts and aborted requests are transient', () => {
    expect(isTransientCosmosError(cosmosError('ECONNREFUSED'))).toBe(true);
    expect(isTransientCosmosError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientCosmosError(new TimeoutError())).toBe(true);
    expect(isTransientCosmosError(new DOMException('aborted', 'AbortError'))).toBe(true);
  });
  it('programming errors are not', () => {
    expect(isTransientCosmosError(new TypeError('x is undefined'))).toBe(false);
    expect(isTransientCosmosError(undefined)).toBe(false);
  });
});

describe('guardCosmos', () => {
  it('turns transient failures into StoreUnavailableError and lets others through unchanged', async () => {
    await expect(guardCosmos(() => Promise.reject(cosmosError(429)))).rejects.toBeInstanceOf(StoreUnavailableError);
    const conflict = cosmosError(409);
    await expect(guardCosmos(() => Promise.reject(conflict))).rejects.toBe(conflict);
    await expect(guardCosmos(() => Promise.resolve(7))).resolves.toBe(7);
  });

  it("carries the store's back-off to the client: a 429 asking for 2.5 s becomes Retry-After 3", async () => {
    const throttled = Object.assign(cosmosError(429), { retryAfterInMs: 2500 });
    await expect(guardCosmos(() => Promise.reject(throttled))).rejects.toMatchObject({ retryAfterSeconds: 3 });
    await expect(guardCosmos(() => Promise.reject(cosmosError(503)))).rejects.toMatchObject({ retryAfterSeconds: 1 });
  });
});
