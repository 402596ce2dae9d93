import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MinFreeDisk } from '../../agent/config/options.ts';
import { ExecuteDiskWatch, minFreeBytes, type ScratchOwner } from '../../agent/health/execute-disk.ts';
import { WorkerHealth } from '../../agent/health/worker-health.ts';

// The watch over a real execute directory with real scratch directories; only the filesystem's size and free space
// are given (a real small filesystem is the integration test's), so each tick sees the figures the test chooses.
const MiB = 1048576;
let root: string;
let execute: string;
let health: WorkerHealth;
let free: number;
let running: ScratchOwner[];
const events: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) });
const ofType = (type: string): Record<string, unknown>[] => events.filter((e) => e.event === type);
const ad = (): Promise<string> => readFile(join(root, 'health.ad'), 'utf8');

async function scratch(starterPid: number, mib: number): Promise<void> {
  await mkdir(join(execute, `dir_${starterPid}`));
  await writeFile(join(execute, `dir_${starterPid}`, 'data'), Buffer.alloc(mib * MiB, 1));
}

async function watch(minFree: MinFreeDisk = { mib: 20 }): Promise<ExecuteDiskWatch> {
  health = new WorkerHealth(join(root, 'health.ad'), log);
  await health.start();
  return new ExecuteDiskWatch(
    {
      executeDir: execute,
      minFree,
      intervalMs: 60_000,
      machineName: 'wn-1',
      running: () => running,
      space: () => Promise.resolve({ totalBytes: 100 * MiB, freeBytes: free }),
    },
    health,
    log,
  );
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wn-execute-disk-'));
  execute = join(root, 'execute');
  await mkdir(execute);
  events.length = 0;
  running = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('minFreeBytes', () => {
  it('is a size, or a share of the filesystem', () => {
    expect(minFreeBytes({ mib: 1024 }, 10 * 1024 * MiB)).toBe(1024 * MiB);
    expect(minFreeBytes({ percent: 5 }, 200 * MiB)).toBe(10 * MiB);
    expect(minFreeBytes({ mib: 0 }, 200 * MiB)).toBe(0);
  });
});

describe('ExecuteDiskWatch', () => {
  it('above the minimum: healthy, nothing held, nothing said', async () => {
    free = 50 * MiB;
    const disk = await watch();
    await disk.tick();
    expect(await ad()).toBe('WnHealthy = true\nWnUnhealthyReasons = ""\nWnDiskHoldSlot = ""\nWnDiskHoldReason = ""\n');
    expect(events).toEqual([]);
  });

  it('below it: START closes with the figures, the job with the largest scratch is held, one at a time', async () => {
    await scratch(101, 1);
    await scratch(102, 3);
    running = [
      { slot: 'slot1_1', starterPid: 101, jobId: '7.0' },
      { slot: 'slot1_2', starterPid: 102, jobId: '8.0' },
    ];
    free = 10 * MiB;
    const disk = await watch();
    await disk.tick();
    const text = await ad();
    expect(text).toContain('WnHealthy = false\n');
    expect(text).toContain('WnUnhealthyReasons = "execute-disk: 10 MiB free on the execute disk, below --min-free-disk 20 MiB"');
    expect(text).toContain('WnDiskHoldSlot = "slot1_2@wn-1"');
    expect(text).toContain(
      'WnDiskHoldReason = "The execute disk of wn-1 is nearly full (10 MiB free of 100 MiB, --min-free-disk 20 MiB); this job\'s scratch directory held 3 MiB, the most of the 2 jobs here."',
    );
    expect(ofType('execute-disk-low')).toMatchObject([{ freeBytes: 10 * MiB, minFreeBytes: 20 * MiB }]);
    expect(ofType('execute-disk-hold')).toMatchObject([{ slot: 'slot1_2', jobId: '8.0', starterPid: 102 }]);

    await disk.tick(); // still short, the held job still there: no second hold
    expect(ofType('execute-disk-hold')).toHaveLength(1);
    expect(ofType('execute-disk-low')).toHaveLength(1);

    running = [{ slot: 'slot1_1', starterPid: 101, jobId: '7.0' }]; // the held job's starter is gone
    await disk.tick(); // still short: the next largest is held
    expect(ofType('execute-disk-hold-done')).toMatchObject([{ slot: 'slot1_2', jobId: '8.0' }]);
    expect(ofType('execute-disk-hold')).toMatchObject([{ slot: 'slot1_2' }, { slot: 'slot1_1', jobId: '7.0' }]);

    running = [];
    free = 60 * MiB;
    await disk.tick();
    expect(await ad()).toBe('WnHealthy = true\nWnUnhealthyReasons = ""\nWnDiskHoldSlot = ""\nWnDiskHoldReason = ""\n');
    expect(ofType('health-check-recovered')).toMatchObject([{ check: 'execute-disk' }]);
  });

  it('holds no job when none holds 1 % of the filesystem: something else fills it', async () => {
    await scratch(101, 0);
    running = [{ slot: 'slot1_1', starterPid: 101, jobId: '7.0' }];
    free = 1 * MiB;
    const disk = await watch({ percent: 5 });
    await disk.tick();
    expect(await ad()).toContain('WnDiskHoldSlot = ""');
    expect(await ad()).toContain('below --min-free-disk 5 MiB');
    expect(ofType('execute-disk-no-hold')).toMatchObject([{ jobs: 1 }]);
  });
});
