import type { Settled } from './dronedeliveries.service';

/**
 * Collects the items of one batch request as runBatch hands them over one by one (each after its own id and body
 * validation) and runs them together: the first item schedules the run for the next turn of the event loop, by
 * which time every item of the batch has been validated (validation settles in microtasks). An item arriving later
 * still is simply run in a further group, so the grouping affects only the cost, never an answer. Items reach
 * add() in the order their validation finished; `position` puts each group back in the request's order (which
 * decides, e.g., which items of one owner are past the cap).
 */
export class BatchCoalescer<In, Out> {
  private pending: { input: In; resolve: (value: Out) => void; reject: (error: unknown) => void }[] = [];

  constructor(
    private readonly run: (inputs: In[]) => Promise<Settled<Out>[]>,
    private readonly position: (input: In) => number = () => 0,
  ) {}

  add(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ input, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const group = this.pending.sort((a, b) => this.position(a.input) - this.position(b.input));
    this.pending = [];
    try {
      const results = await this.run(group.map((entry) => entry.input));
      results.forEach((result, i) => (result.ok ? group[i].resolve(result.value) : group[i].reject(result.error)));
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }
}
