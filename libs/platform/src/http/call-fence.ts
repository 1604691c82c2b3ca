import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Decides, before each attempt of an outgoing call made in its scope, whether the caller may still make it: a
 * caller that owns a piece of work only for a while (a lease) must not start a call it might not finish while it
 * still owns the work. `attemptMs` is the longest the attempt may take. Returns the reason to refuse, or undefined.
 */
export type CallFence = (attemptMs: number) => string | undefined;

/** A call the scope's fence refused before it was sent: no attempt was made, and none is retried. */
export class CallFencedError extends Error {
  constructor(reason: string) {
    super(`call fenced off: ${reason}`);
    this.name = 'CallFencedError';
  }
}

const fences = new AsyncLocalStorage<CallFence>();

/** Runs `work` with every outgoing call it makes (through ResilientHttpClient) checked by `fence` first. */
export function runFenced<T>(fence: CallFence, work: () => T): T {
  return fences.run(fence, work);
}

/** Throws CallFencedError when the current scope's fence refuses an attempt that may take `attemptMs`. */
export function checkFence(attemptMs: number): void {
  const refusal = fences.getStore()?.(attemptMs);
  if (refusal !== undefined) throw new CallFencedError(refusal);
}

/** The fence of the current scope, if any: for work that is sent later, outside that scope (a batch). */
export function currentFence(): CallFence | undefined {
  return fences.getStore();
}
