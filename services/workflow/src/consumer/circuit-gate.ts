import type { CircuitView } from '@dronedelivery/platform';

/**
 * How much new work the consumer may claim now: `all` it has room for (every breaker closed), `none` (a breaker is
 * open, or half-open with its trial call taken or handed to a waiting command), or a single command as the `trial`
 * call of a half-open breaker that no waiting command can make.
 */
export type Admission = 'all' | 'trial' | 'none';

/** Ends a command's turn after waitFor: if it was the trial and did not use it, the next waiting command gets it. */
export type EndTurn = () => void;

const NO_TURN: EndTurn = () => undefined;

/**
 * Holds commands back while a downstream's breaker refuses calls, and lets them go the moment it takes them again.
 *
 * A command whose call an open breaker refused waits here (still pending in the stream, still this consumer's) and
 * runs again when that breaker closes: the refusal was no attempt, so it neither counts toward dead-lettering nor
 * waits out a retry backoff. While a breaker is half-open, one waiting command at a time is let go as its trial
 * call: success closes the breaker and lets every other go, failure opens it again. Wakes on the breakers' own
 * events, never by polling.
 */
export class CircuitGate {
  private readonly circuits = new Map<string, CircuitView>();
  /** Per downstream, the waiting commands in arrival order. */
  private readonly queues = new Map<string, ((end: EndTurn) => void)[]>();
  /** Per half-open downstream, the token of the command its trial was handed to. */
  private readonly trials = new Map<string, object>();
  private readonly listeners = new Set<() => void>();
  private stopped = false;

  constructor(circuits: readonly CircuitView[]) {
    for (const circuit of circuits) {
      this.circuits.set(circuit.name, circuit);
      this.queues.set(circuit.name, []);
      circuit.onStateChange(() => {
        this.trials.delete(circuit.name);
        this.letGo(circuit);
        this.changed();
      });
    }
  }

  get admission(): Admission {
    let admission: Admission = 'all';
    for (const circuit of this.circuits.values()) {
      if (circuit.state === 'closed') continue;
      if (!circuit.admitting || this.trials.has(circuit.name) || this.waitingFor(circuit.name) > 0) return 'none';
      admission = 'trial';
    }
    return admission;
  }

  /** Whether waitFor can hold commands for this downstream (it knows its breaker). */
  watches(downstream: string): boolean {
    return this.circuits.has(downstream);
  }

  waitingFor(downstream: string): number {
    return this.queues.get(downstream)?.length ?? 0;
  }

  /**
   * Resolves when a call to `downstream` would reach it again: at once if it would now, when its breaker closes,
   * or when it is half-open and this command's turn to be the trial has come; at once after stop(). Call the
   * returned function when the command has run.
   */
  waitFor(downstream: string): Promise<EndTurn> {
    const circuit = this.circuits.get(downstream);
    if (!circuit || this.stopped || circuit.state === 'closed') return Promise.resolve(NO_TURN);
    return new Promise((resolve) => {
      this.queues.get(downstream)!.push(resolve);
      this.letGo(circuit);
      this.changed();
    });
  }

  /** Calls `listener` whenever admission may have changed. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Lets every waiting command go (to leave it pending at shutdown) and holds none from now on. */
  stop(): void {
    this.stopped = true;
    for (const queue of this.queues.values()) for (const resolve of queue.splice(0)) resolve(NO_TURN);
    this.changed();
  }

  /** Lets go as many waiting commands as the breaker's state allows: all when closed, one trial when half-open. */
  private letGo(circuit: CircuitView): void {
    const queue = this.queues.get(circuit.name)!;
    if (queue.length === 0) return;
    if (circuit.state === 'closed') {
      for (const resolve of queue.splice(0)) resolve(NO_TURN);
      return;
    }
    if (circuit.state !== 'half-open' || !circuit.admitting || this.trials.has(circuit.name)) return;
    const token = {};
    this.trials.set(circuit.name, token);
    queue.shift()!(() => {
      // Still ours after the command ran: it never made the trial call (a duplicate, a path without this
      // downstream, or another call took the trial first), so hand it on.
      if (this.trials.get(circuit.name) !== token) return;
      this.trials.delete(circuit.name);
      this.letGo(circuit);
      this.changed();
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
