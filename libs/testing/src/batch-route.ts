import type { JsonAnswer } from './http';
import { sharedServiceTokens } from './service-tokens';

type Call = (base: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<JsonAnswer>;

interface Item {
  id: string;
  body: Record<string, unknown>;
}

export interface BatchRouteOptions {
  /** The running service's base URL (read when a test runs). */
  base: () => string;
  /** The service's name: the audience of its service tokens. */
  audience: string;
  /** The batch route, e.g. `/api/packages/batch`. */
  path: string;
  /** The single route each item stands for (a PUT), for an id. */
  singlePath: (id: string) => string;
  /** Calls the service as its callers do: PUT and POST as the workflow, GET as a caller its GET route allows. */
  call: Call;
  /** A caller the service knows that the batch route refuses. */
  refusedCaller: string;
  /** An item with a fresh id and a valid body. */
  newItem: () => Item;
  /** The status the single PUT answers for a new resource (201 Created, or 200 where the route does not create). */
  createdStatus: number;
  /** The name the single route gives a malformed path id in its validation error. */
  idField: string;
  /** A body with one invalid field, and that field's name as the single route reports it. */
  invalidBody: { body: Record<string, unknown>; field: string };
}

const BATCH_MAX_ITEMS = 100;

/**
 * The behaviour every batch route shares (libs/platform runBatch), over real HTTP against the service and its real
 * store: each item is answered exactly as its single PUT would be, one bad item never fails its neighbours, the
 * envelope is bounded, and only the allowed caller gets in.
 */
export function batchRouteSuite(options: BatchRouteOptions): void {
  const { call, path, singlePath } = options;
  const base = () => options.base();
  const single = (item: Item) => call(base(), 'PUT', singlePath(item.id), item.body);

  /** Whether the item's resource exists: the single route's GET (every one of these has one) finds it. */
  const stored = async (item: Item) => (await call(base(), 'GET', singlePath(item.id))).status === 200;

  describe(`POST ${path} (batch)`, () => {
    it('answers each item as its single PUT would, and one bad item never fails its neighbours', async () => {
      const fresh = options.newItem();
      const replay = options.newItem();
      const alone = await single(replay);
      expect(alone.status).toBe(options.createdStatus);
      const malformedId = { ...options.newItem(), id: 'not an id!' };
      const invalid = { ...options.newItem(), body: options.invalidBody.body };
      const last = options.newItem();

      const response = await call(base(), 'POST', path, { items: [fresh, replay, malformedId, invalid, last] });
      expect(response.status).toBe(200);
      const results = response.body.results as { id: string; status: number; body: Record<string, unknown> }[];
      expect(results.map((result) => result.id)).toEqual([fresh.id, replay.id, malformedId.id, invalid.id, last.id]);
      expect(results.map((result) => result.status)).toEqual([options.createdStatus, 200, 400, 400, options.createdStatus]);
      // The replay got what a second single PUT gets: the stored resource, unchanged.
      expect(results[1].body).toEqual(alone.body);
      expect(results[2].body).toMatchObject({
        type: 'https://dronedelivery.dev/problems/validation-error',
        errors: [expect.objectContaining({ field: options.idField })],
      });
      expect(results[3].body).toMatchObject({
        type: 'https://dronedelivery.dev/problems/validation-error',
        errors: expect.arrayContaining([expect.objectContaining({ field: options.invalidBody.field })]),
      });
      // Stored: the good items, as a single PUT of the same body now replays them; not stored: the invalid one.
      const again = await single(fresh);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(results[0].body);
      expect(await stored(last)).toBe(true);
      expect(await stored(invalid)).toBe(false);
    });

    it('refuses a malformed or oversized envelope as a whole with a 400 naming items, storing nothing', async () => {
      const empty = await call(base(), 'POST', path, { items: [] });
      expect(empty.status).toBe(400);
      expect(empty.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'items' })]));

      const tooMany = Array.from({ length: BATCH_MAX_ITEMS + 1 }, () => options.newItem());
      const oversized = await call(base(), 'POST', path, { items: tooMany });
      expect(oversized.status).toBe(400);
      expect(oversized.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'items' })]));
      expect(await stored(tooMany[0])).toBe(false);

      const unknownField = options.newItem();
      const extra = await call(base(), 'POST', path, { items: [{ ...unknownField, extra: 1 }] });
      expect(extra.status).toBe(400);
      expect(await stored(unknownField)).toBe(false);
    });

    it(`answers 403 to a caller other than the one its single route allows (${options.refusedCaller})`, async () => {
      const item = options.newItem();
      const headers = await sharedServiceTokens().headers(options.refusedCaller, options.audience);
      const refused = await call(base(), 'POST', path, { items: [item] }, headers);
      expect(refused.status).toBe(403);
      expect(await stored(item)).toBe(false);
    });
  });
}
