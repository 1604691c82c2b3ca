import { VerifiedTokenCache } from './verified-token-cache';

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('VerifiedTokenCache', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('answers only for the exact token text, including a remembered undefined', () => {
    const cache = new VerifiedTokenCache<string | undefined>({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.remember('a.b.c', 'gateway', nowSeconds() + 600, 0);
    cache.remember('a.b.d', undefined, nowSeconds() + 600, 0);
    expect(cache.lookup('a.b.c')).toEqual({ value: 'gateway' });
    expect(cache.lookup('a.b.d')).toEqual({ value: undefined });
    expect(cache.lookup('a.b.C')).toBeUndefined();
    expect(cache.lookup('a.b.c ')).toBeUndefined();
  });

  it('never answers past exp plus the clock tolerance, however young the entry', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 10 * 60_000, maxEntries: 10 });
    const exp = nowSeconds() + 60;
    cache.remember('t', 'gateway', exp, 30);
    vi.setSystemTime((exp + 30) * 1000 - 1);
    expect(cache.lookup('t')).toEqual({ value: 'gateway' });
    vi.setSystemTime((exp + 30) * 1000);
    expect(cache.lookup('t')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not remember a token already past its expiry, nor one without a numeric exp', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 60_000, maxEntries: 10 });
    cache.remember('expired', 'x', nowSeconds() - 61, 60);
    cache.remember('no-exp', 'x', undefined, 60);
    cache.remember('string-exp', 'x', String(nowSeconds() + 600), 60);
    expect(cache.size).toBe(0);
  });

  it('forgets an entry after maxAgeMs even while the token is valid', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 1_000, maxEntries: 10 });
    cache.remember('t', 'x', nowSeconds() + 3600, 0);
    vi.setSystemTime(Date.now() + 999);
    expect(cache.lookup('t')).toBeDefined();
    vi.setSystemTime(Date.now() + 1);
    expect(cache.lookup('t')).toBeUndefined();
  });

  it('keeps at most maxEntries, dropping the one remembered longest ago', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 60_000, maxEntries: 2 });
    const exp = nowSeconds() + 600;
    cache.remember('a', 'a', exp, 0);
    cache.remember('b', 'b', exp, 0);
    cache.remember('a', 'a', exp, 0); // remembered again: now the newest
    cache.remember('c', 'c', exp, 0);
    expect(cache.size).toBe(2);
    expect(cache.lookup('b')).toBeUndefined();
    expect(cache.lookup('a')).toBeDefined();
    expect(cache.lookup('c')).toBeDefined();
  });

  it('remembers nothing with maxEntries 0', () => {
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 60_000, maxEntries: 0 });
    cache.remember('t', 'x', nowSeconds() + 600, 0);
    expect(cache.lookup('t')).toBeUndefined();
  });
});
