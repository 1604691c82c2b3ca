import type { BreakerState, CircuitView } from '@dronedelivery/platform';
import { CircuitGate, type EndTurn } from './circuit-gate';

/** A breaker whose state the test sets; it tells its listeners as the real one does on open, halfOpen and close. */
class TestCircuit implements CircuitView {
  state: BreakerState = 'closed';
  admitting = true;
  private readonly listeners = new Set<(state: BreakerState) => void>();

  constructor(readonly name: string) {}

  onStateChange(listener: (state: BreakerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(state: BreakerState): void {
    this.state = state;
    this.admitting = state !== 'open';
    for (const listener of this.listeners) listener(state);
  }

  /** A call went through the half-open breaker: the trial is taken, no state change yet. */
  takeTrial(): void {
    this.admitting = false;
  }
}

/** Tracks a waitFor promise: whether it has resolved, and its end-of-turn function. */
function track(promise: Promise<EndTurn>) {
  const tracked: { done: boolean; end?: EndTurn } = { done: false };
  void promise.then((end) => Object.assign(tracked, { done: true, end }));
  return tracked;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CircuitGate', () => {
  let pkg: TestCircuit;
  let delivery: TestCircuit;
  let gate: CircuitGate;
  let changes: number;

  beforeEach(() => {
    pkg = new TestCircuit('package');
    delivery = new TestCircuit('delivery');
    gate = new CircuitGate([pkg, delivery]);
    changes = 0;
    gate.onChange(() => changes++);
  });

  it('admits all work while every breaker is closed, and a wait for a closed breaker ends at once', async () => {
    expect(gate.admission).toBe('all');
    const turn = track(gate.waitFor('package'));
    await settle();
    expect(turn.done).toBe(true);
    expect(gate.waitingFor('package')).toBe(0);
  });

  it('while a breaker is open: claims nothing and holds every waiting command until the close event lets all go', async () => {
    pkg.set('open');
    expect(gate.admission).toBe('none');
    expect(changes).toBe(1);
    const turns = [track(gate.waitFor('package')), track(gate.waitFor('package'))];
    await settle();
    expect(turns.map((t) => t.done)).toEqual([false, false]);
    expect(gate.waitingFor('package')).toBe(2);

    pkg.set('closed');
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, true]);
    expect(gate.waitingFor('package')).toBe(0);
    expect(gate.admission).toBe('all');
  });

  it('half-open: lets go one waiting command as the trial, the rest wait; a failed trial re-opens and the next half-open hands on', async () => {
    pkg.set('open');
    const turns = [track(gate.waitFor('package')), track(gate.waitFor('package')), track(gate.waitFor('package'))];
    pkg.set('half-open');
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, false, false]);
    // The trial is out: no new work, even though the breaker would still admit a call.
    expect(gate.admission).toBe('none');

    pkg.takeTrial();
    pkg.set('open'); // the trial failed
    turns[0].end!();
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, false, false]);

    pkg.set('half-open');
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, true, false]);
    pkg.takeTrial();
    pkg.set('closed'); // this trial succeeded
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, true, true]);
    expect(gate.admission).toBe('all');
  });

  it('hands the trial on when the command it went to ran without making the call', async () => {
    pkg.set('open');
    const turns = [track(gate.waitFor('package')), track(gate.waitFor('package'))];
    pkg.set('half-open');
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, false]);
    turns[0].end!(); // e.g. a duplicate acknowledged without calling the package service
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, true]);
    // Ending a turn twice, or after the state moved on, hands nothing on.
    turns[0].end!();
    expect(gate.waitingFor('package')).toBe(0);
  });

  it('half-open with nobody waiting: admits a single trial; once the trial is taken, nothing', () => {
    pkg.set('open');
    pkg.set('half-open');
    expect(gate.admission).toBe('trial');
    pkg.takeTrial();
    expect(gate.admission).toBe('none');
  });

  it('one breaker open is enough to claim nothing; the others keep their waiters apart', async () => {
    delivery.set('open');
    pkg.set('open');
    const forPackage = track(gate.waitFor('package'));
    const forDelivery = track(gate.waitFor('delivery'));
    pkg.set('closed');
    await settle();
    expect([forPackage.done, forDelivery.done]).toEqual([true, false]);
    expect(gate.admission).toBe('none');
    delivery.set('closed');
    await settle();
    expect(forDelivery.done).toBe(true);
    expect(gate.admission).toBe('all');
  });

  it('stop() lets every waiting command go, and holds none afterwards', async () => {
    pkg.set('open');
    const before = track(gate.waitFor('package'));
    gate.stop();
    const after = track(gate.waitFor('package'));
    await settle();
    expect([before.done, after.done]).toEqual([true, true]);
  });

  it('knows only the breakers it was given', async () => {
    expect(gate.watches('package')).toBe(true);
    expect(gate.watches('inventory')).toBe(false);
    const turn = track(gate.waitFor('inventory'));
    await settle();
    expect(turn.done).toBe(true);
  });
});
