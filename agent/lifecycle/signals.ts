/**
 * Stop signals, handled once and removed when done. The first SIGTERM/SIGINT starts a stop; a later one asks
 * for a faster stop (the scheduler's kill grace period is running out).
 */
export interface StopSignals {
  /** Resolves with the first stop signal. */
  first: Promise<NodeJS.Signals>;
  dispose(): void;
}

const stopSignals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export function listenForStop(onRepeat: (signal: NodeJS.Signals, count: number) => void): StopSignals {
  let count = 0;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const handler = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count === 1) resolveFirst(signal);
    else onRepeat(signal, count);
  };
  for (const signal of stopSignals) process.on(signal, handler);
  return {
    first,
    dispose: () => {
      for (const signal of stopSignals) process.off(signal, handler);
    },
  };
}
