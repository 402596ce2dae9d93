import type { TestPool } from '../test/support/pool.ts';
import { agentUsage, ticksPerSecond } from './process-usage.ts';
import { round, window } from './stats.ts';

export interface IdleFootprint {
  seconds: number;
  rssMiB: number;
  anonMiB: number;
  /** Fraction of one core: the agent's Node process alone, and with the processes it ran (condor_status ...). */
  cpuOwn: number;
  cpuWithChildren: number;
  /** CPU the agent used from its start until 5 s after its slot was advertised (own + children), seconds. */
  startCpuSeconds: number;
}

/** An advertised worker with nothing to do, measured over a window of `seconds`. */
export async function idleFootprint(pool: TestPool, seconds: number): Promise<IdleFootprint> {
  const worker = await pool.startWorker({ name: `wn-${pool.name}-idle`, mounts: [pool.passwordMount, pool.testConfigMount] });
  try {
    await worker.waitForEvent('startd-advertised');
    await window(5000); // let start-up work (first updates, the first idle check) pass before the window opens
    const a = await agentUsage(worker);
    await window(seconds * 1000);
    const b = await agentUsage(worker);
    return {
      seconds,
      rssMiB: round(b.rssMiB),
      anonMiB: round(b.anonMiB),
      cpuOwn: (b.ownTicks - a.ownTicks) / ticksPerSecond / seconds,
      cpuWithChildren: (b.withChildrenTicks - a.withChildrenTicks) / ticksPerSecond / seconds,
      startCpuSeconds: a.withChildrenTicks / ticksPerSecond,
    };
  } finally {
    await worker.remove();
  }
}
