import { IsString } from 'class-validator';
import { runBatch } from './run-batch';

class ItemDto {
  @IsString() name!: string;
}

const ids = Array.from({ length: 10 }, (_, i) => `item-${i}`);
const request = { items: ids.map((id) => ({ id, body: { name: id } })) };

/** A handler that records how many calls overlap: each yields to the event loop before it answers. */
function overlapping() {
  let active = 0;
  const stats = { peak: 0 };
  const handle = async (id: string) => {
    active++;
    stats.peak = Math.max(stats.peak, active);
    await new Promise((resolve) => setImmediate(resolve));
    active--;
    return { status: 201, body: { id } };
  };
  return { stats, handle };
}

describe('runBatch', () => {
  it('works on at most `concurrency` items at once, and answers every item in its place', async () => {
    const { stats, handle } = overlapping();
    const response = await runBatch(request, { name: 'PUT /things/{id}', idField: 'thingId', dto: ItemDto, handle, concurrency: 3 });
    expect(stats.peak).toBe(3);
    expect(response.results.map((result) => [result.id, result.status, result.body])).toEqual(ids.map((id) => [id, 201, { id }]));
  });

  it('without a bound works on every item at once', async () => {
    const { stats, handle } = overlapping();
    await runBatch(request, { name: 'PUT /things/{id}', idField: 'thingId', dto: ItemDto, handle });
    expect(stats.peak).toBe(ids.length);
  });

  it('with a bound, an item refused by validation still gets its own 400, in its place', async () => {
    const { handle } = overlapping();
    const mixed = { items: [...request.items.slice(0, 4), { id: 'bad-1', body: { name: 7 } }, { id: 'bad/2', body: { name: 'x' } }] };
    const response = await runBatch(mixed, { name: 'PUT /things/{id}', idField: 'thingId', dto: ItemDto, handle, concurrency: 1 });
    expect(response.results.map((result) => [result.id, result.status])).toEqual([
      ['item-0', 201],
      ['item-1', 201],
      ['item-2', 201],
      ['item-3', 201],
      ['bad-1', 400],
      ['bad/2', 400],
    ]);
  });
});
