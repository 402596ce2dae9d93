import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlackHole } from '../../agent/health/black-hole.ts';
import type { JobEnd } from '../../agent/health/job-ends.ts';
import { WorkerHealth } from '../../agent/health/worker-health.ts';
import { waitFor } from '../../agent/util/wait.ts';

// The detector fed job ends as the starter-log tracker reports them, its verdict read back from the real machine-ad
// fragment the startd cron job publishes.
let root: string;
let health: WorkerHealth;
let detector: BlackHole | undefined;
const events: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) });
const ofType = (type: string): Record<string, unknown>[] => events.filter((e) => e.event === type);

let pid = 100;
const end = (jobId: string, outcome: JobEnd['outcome'], detail: string, runtimeMs = 2000, workerFault = false): JobEnd => ({
  starterPid: pid++,
  jobId,
  outcome,
  detail,
  runtimeMs,
  workerFault,
});
const fail = (jobId: string, detail = 'exit 1'): JobEnd => end(jobId, 'failure', detail);

async function start(failures = 3, cooldownMs = 60_000): Promise<BlackHole> {
  health = new WorkerHealth(join(root, 'health.ad'), log);
  await health.start();
  detector = new BlackHole({ failures, windowMs: 60_000, cooldownMs }, health, log);
  return detector;
}

const ad = (): Promise<string> => readFile(join(root, 'health.ad'), 'utf8');
const settled = (): Promise<void> => health.record('settle', { ok: true, durationMs: 0 });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wn-black-hole-'));
  events.length = 0;
});
afterEach(async () => {
  detector?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('BlackHole', () => {
  it('trips after N quick failures in a row from two clusters: START closed with the reason, an event naming the jobs', async () => {
    const bh = await start(3);
    const now = Date.parse('2026-12-04T10:00:00Z');
    bh.observe(fail('5.0'), now);
    bh.observe(fail('5.1', 'signal 11'), now);
    expect(bh.tripped).toBe(false);
    bh.observe(fail('6.0'), now);
    expect(bh.tripped).toBe(true);
    await settled();
    expect(await ad()).toContain(
      'WnUnhealthyReasons = "black-hole: 3 jobs in a row failed within 60 s of starting (exit 1 ×2, signal 11); no new job until 2026-12-04T10:01:00.000Z"',
    );
    expect(await ad()).toContain('WnHealthy = false');
    expect(ofType('black-hole-detected')).toMatchObject([
      {
        jobs: [
          { jobId: '5.0', detail: 'exit 1' },
          { jobId: '5.1', detail: 'signal 11' },
          { jobId: '6.0', detail: 'exit 1' },
        ],
        cooldownMs: 60_000,
        until: '2026-12-04T10:01:00.000Z',
      },
    ]);
    expect(health.status().checks.find((c) => c.name === 'black-hole')).toMatchObject({ ok: false });
  });

  it("one cluster's failures never trip it: a user's broken batch is not the worker's fault", async () => {
    const bh = await start(3);
    for (let i = 0; i < 10; i++) bh.observe(fail(`9.${i}`));
    expect(bh.tripped).toBe(false);
    bh.observe(fail('10.0'));
    expect(bh.tripped).toBe(true); // the last three: 9.8, 9.9, 10.0
  });

  it("the same job failing by the worker's fault again and again trips it: each starter error counts as its own", async () => {
    const bh = await start(3);
    bh.observe(end('4.0', 'failure', 'starter error: condor_pid_ns_init did not run properly', 1000, true));
    bh.observe(end('4.0', 'failure', 'starter error: condor_pid_ns_init did not run properly', 1000, true));
    expect(bh.tripped).toBe(false);
    bh.observe(end('4.0', 'failure', 'starter error: condor_pid_ns_init did not run properly', 1000, true));
    expect(bh.tripped).toBe(true);
    await settled();
    expect(await ad()).toContain('(starter error: condor_pid_ns_init did not run properly ×3)');
  });

  it('a success, or a failure after the window, ends the streak; interrupted jobs count neither way', async () => {
    const bh = await start(3);
    bh.observe(fail('1.0'));
    bh.observe(fail('2.0'));
    bh.observe(end('3.0', 'success', 'exit 0'));
    bh.observe(fail('4.0'));
    bh.observe(fail('5.0'));
    expect(bh.tripped).toBe(false);
    bh.observe(end('6.0', 'failure', 'exit 1', 61_000));
    bh.observe(fail('7.0'));
    bh.observe(end('8.0', 'interrupted', 'vacated', 100));
    bh.observe(end('8.1', 'interrupted', 'OOM killed', 100));
    bh.observe(fail('9.0'));
    expect(bh.tripped).toBe(false);
    bh.observe(fail('10.0'));
    expect(bh.tripped).toBe(true);
  });

  it('0 failures: never', async () => {
    const bh = await start(0);
    for (let i = 0; i < 50; i++) bh.observe(fail(`${i}.0`));
    expect(bh.tripped).toBe(false);
    await settled();
    expect(await ad()).toContain('WnHealthy = true');
  });

  it('reopens START when the cool-down is over, and counts afresh', async () => {
    const bh = await start(2, 100);
    bh.observe(fail('1.0'));
    bh.observe(fail('2.0'));
    expect(bh.tripped).toBe(true);
    bh.observe(fail('3.0')); // while cooling: not counted
    await waitFor(async () => (ofType('black-hole-cooldown-over').length === 1 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 10,
      what: 'the cool-down to end',
    });
    await settled();
    expect(await ad()).toContain('WnHealthy = true');
    expect(bh.tripped).toBe(false);
    bh.observe(fail('4.0'));
    expect(bh.tripped).toBe(false);
    bh.observe(fail('5.0'));
    expect(bh.tripped).toBe(true);
  });
});
