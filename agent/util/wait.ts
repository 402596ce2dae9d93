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

/**
 * `work`, or what `late()` gives (or throws) once `timeoutMs` passed first. The work itself is not cancelled: a read
 * stuck in the kernel cannot be; it settles later, unobserved (never an unhandled rejection).
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error as Error);
      }
    }, timeoutMs);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
