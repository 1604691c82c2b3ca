import { ifMatchSatisfied, toHttpEtag } from './etag';

describe('toHttpEtag', () => {
  it('quotes a bare store token and keeps an already quoted one', () => {
    expect(toHttpEtag('4371ae29-61a7')).toBe('"4371ae29-61a7"');
    expect(toHttpEtag('"00000b00-0000-0000-0000-5d0b4a930000"')).toBe('"00000b00-0000-0000-0000-5d0b4a930000"');
  });
});

describe('ifMatchSatisfied', () => {
  const current = '"v2"';
  it.each([
    ['the current tag', '"v2"', true],
    ['a stale tag', '"v1"', false],
    ['a list containing the current tag', '"v1", "v2"', true],
    ['a list without it', '"v1","v3"', false],
    ['the wildcard', '*', true],
    ['a weak tag of the current version (If-Match compares strongly)', 'W/"v2"', false],
    ['the current tag unquoted', 'v2', false],
    ['an empty header', '', false],
  ])('%s → %s', (_case, header, expected) => {
    expect(ifMatchSatisfied(header, current)).toBe(expected);
  });
});
