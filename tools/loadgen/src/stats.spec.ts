import { Stats, newHistogram, percentiles, recordMs } from './stats';

describe('HDR percentiles', () => {
  it('match known latencies within the histogram precision (3 significant digits)', () => {
    const h = newHistogram();
    for (let ms = 1; ms <= 1000; ms++) recordMs(h, ms); // 1..1000 ms, one each
    const p = percentiles(h);
    expect(p.count).toBe(1000);
    const close = (actual: number, expected: number) => expect(Math.abs(actual - expected) / expected).toBeLessThan(0.002);
    close(p.p50, 500);
    close(p.p90, 900);
    close(p.p99, 990);
    close(p.p999, 999);
    close(p.max, 1000);
    close(p.mean, 500.5);
  });

  it('a long tail shows in p99.9 and max but not in p50', () => {
    const h = newHistogram();
    for (let i = 0; i < 9990; i++) recordMs(h, 10);
    for (let i = 0; i < 10; i++) recordMs(h, 2000);
    const p = percentiles(h);
    expect(p.p50).toBeCloseTo(10, 1);
    expect(p.p99).toBeCloseTo(10, 1);
    expect(p.max).toBeGreaterThan(1990);
    expect(p.p999).toBeLessThan(2010);
  });

  it('groups errors by status and problem type, and counts drops as errors', () => {
    const stats = new Stats();
    stats.request('cancel', 'create', 5, { status: 503, type: 'https://x/unavailable' });
    stats.request('cancel', 'create', 5, { status: 503, type: 'https://x/unavailable' });
    stats.request('browse', 'owner summary', 5, { status: 429, type: 'https://x/too-many' });
    stats.request('browse', 'owner summary', 5);
    stats.drop('browse');
    expect([...stats.errors.values()].map((e) => [e.status, e.type, e.count])).toEqual([
      [503, 'https://x/unavailable', 2],
      [429, 'https://x/too-many', 1],
      [0, 'dropped', 1],
    ]);
    expect(stats.errorCount).toBe(4);
    expect(stats.errorRate).toBeCloseTo(4 / 5);
  });
});
