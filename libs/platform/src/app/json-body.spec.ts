import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-body';

describe('nestedDeeperThan', () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('allows the limit and refuses one level more, objects and arrays alike', () => {
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestedDeeperThan('{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestedDeeperThan(JSON.stringify({ tag: '['.repeat(100) }), 2)).toBe(false);
    expect(nestedDeeperThan(JSON.stringify({ tag: '\\"' + '{'.repeat(100) }), 2)).toBe(false);
  });

  it('counts depth, not the number of siblings', () => {
    expect(nestedDeeperThan(JSON.stringify(Array.from({ length: 100 }, () => ({ a: [1] }))), 3)).toBe(false);
  });
});
