/**
 * Polls until the check passes or the deadline expires, then rethrows the last failure.
 * For conditions reached by another process (a server starting, a key expiring), never as a fixed sleep.
 */
export async function eventually<T>(check: () => Promise<T> | T, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const interval = options.intervalMs ?? 50;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
}

/** Waits until GET url answers 200, as a load balancer would before sending traffic. */
export function untilOk(url: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  return eventually(async () => {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  }, options);
}
