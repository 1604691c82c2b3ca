import { answerOf } from './answer-of';

const response = (status: number, body: unknown) => ({ status, headers: {}, body });

function problemOf(action: () => unknown): any {
  try {
    action();
  } catch (error) {
    return (error as { problem: unknown }).problem;
  }
  throw new Error('expected a problem');
}

describe("answerOf (a downstream answer as the gateway's)", () => {
  it('returns 2xx bodies as they are', () => {
    expect(answerOf(response(200, { id: 'p1' }), 'Package p1', 'unchecked')).toEqual({ id: 'p1' });
  });

  it("turns a 404 into our own not-found, without the downstream's wording", () => {
    expect(problemOf(() => answerOf(response(404, { detail: 'cosmos said no' }), 'Package p1', 'authorised'))).toMatchObject({
      status: 404,
      type: expect.stringMatching(/not-found$/),
      detail: 'Package p1 does not exist.',
    });
  });

  it("passes other 4xx about the caller's own data through with status, problem type, detail and field errors, dropping anything else", () => {
    const conflict = {
      type: 'https://dronedelivery.dev/problems/illegal-transition',
      title: 'Illegal',
      status: 409,
      detail: 'd',
      stack: 'at x.ts:1',
    };
    expect(problemOf(() => answerOf(response(409, conflict), 'x', 'authorised'))).toEqual({
      type: conflict.type,
      title: 'Illegal',
      status: 409,
      detail: 'd',
    });
    const invalid = { type: 'https://dronedelivery.dev/problems/validation-error', errors: [{ field: 'year', message: 'bad' }] };
    expect(problemOf(() => answerOf(response(400, invalid), 'x', 'authorised'))).toMatchObject({ status: 400, errors: invalid.errors });
    expect(problemOf(() => answerOf(response(410, 'gone'), 'x', 'authorised'))).toMatchObject({
      status: 410,
      type: expect.stringMatching(/bad-request$/),
      title: 'Gone',
    });
  });

  it("keeps status and problem type of data not yet known to be the caller's, with a generic detail and no field errors", () => {
    const conflict = {
      type: 'https://dronedelivery.dev/problems/package-exists',
      title: 'Package exists',
      status: 409,
      detail: 'Package p1 belongs to owner bob, created 2030-01-01.',
      errors: [{ field: 'ownerId', message: 'bob' }],
    };
    expect(problemOf(() => answerOf(response(409, conflict), 'Package p1', 'unchecked'))).toEqual({
      type: conflict.type,
      title: 'Package exists',
      status: 409,
      detail: 'The request for Package p1 was refused.',
    });
    // A 404 is our own wording in either scope.
    expect(problemOf(() => answerOf(response(404, { detail: 'owner bob' }), 'Package p1', 'unchecked'))).toMatchObject({
      detail: 'Package p1 does not exist.',
    });
  });
});
