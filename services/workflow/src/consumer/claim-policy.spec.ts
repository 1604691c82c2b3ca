import { RECLAIM_SCAN_LIMIT, claimBudget, reclaimPageSize } from './claim-policy';

describe('claimBudget', () => {
  it('is the free concurrency while every breaker admits calls', () => {
    expect(claimBudget({ concurrency: 16, inFlight: 0, admission: 'all' })).toBe(16);
    expect(claimBudget({ concurrency: 16, inFlight: 10, admission: 'all' })).toBe(6);
    expect(claimBudget({ concurrency: 16, inFlight: 16, admission: 'all' })).toBe(0);
    expect(claimBudget({ concurrency: 16, inFlight: 20, admission: 'all' })).toBe(0);
  });

  it('is nothing while a breaker refuses calls, however much room there is', () => {
    expect(claimBudget({ concurrency: 16, inFlight: 0, admission: 'none' })).toBe(0);
  });

  it('is one trial command while a half-open breaker has nothing in flight to make its trial call, else nothing', () => {
    expect(claimBudget({ concurrency: 16, inFlight: 0, admission: 'trial' })).toBe(1);
    expect(claimBudget({ concurrency: 16, inFlight: 1, admission: 'trial' })).toBe(0);
  });
});

describe('reclaimPageSize', () => {
  it('grows with the room to claim instead of a fixed small page, up to the scan limit', () => {
    expect(reclaimPageSize(1)).toBe(4);
    expect(reclaimPageSize(16)).toBe(64);
    expect(reclaimPageSize(200)).toBe(800);
    expect(reclaimPageSize(10_000)).toBe(RECLAIM_SCAN_LIMIT);
  });

  it('never asks for an empty page', () => {
    expect(reclaimPageSize(0)).toBe(4);
  });
});
