/** Waiting on observed facts: every wait has a deadline, and the error tells what was last seen. */

export class WaitTimeout extends Error {
  override readonly name = 'WaitTimeout';
  constructor(
    message: string,
    readonly lastError: unknown,
  ) {
    super(message);
  }
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls `probe` until it returns something other than undefined, `timeoutMs` passes, or `signal` aborts.
 * A probe that throws counts as "not yet"; its last error travels with the timeout.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs, what, signal }: { timeoutMs: number; intervalMs: number; what: string; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new WaitTimeout(`${what}: not seen within ${timeoutMs} ms${reason}`, lastError);
    }
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())), signal);
  }
}
