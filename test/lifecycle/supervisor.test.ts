import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MasterProcess } from '../../agent/condor/master.ts';
import { MasterSupervisor } from '../../agent/lifecycle/supervisor.ts';
import { waitFor } from '../../agent/util/wait.ts';

// Real child processes (a fixture program standing in for condor_master): crashes, restarts and stops are real.
const fixture = fileURLToPath(new URL('../fixtures/fake-master.mjs', import.meta.url));

function supervise(
  modes: string[],
  maxRestarts: number,
): { supervisor: MasterSupervisor; events: Record<string, unknown>[]; restarted: number[]; leftoverCalls: number[]; output: string[] } {
  const output: string[] = [];
  const events: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) });
  const restarted: number[] = [];
  const leftoverCalls: number[] = [];
  let n = 0;
  const supervisor = new MasterSupervisor({
    start: () =>
      new MasterProcess('/nonexistent/condor_config', (line) => output.push(line), [
        process.execPath,
        fixture,
        modes[Math.min(n++, modes.length - 1)] ?? 'polite',
      ]),
    maxRestarts,
    log,
    onRestarted: () => restarted.push(Date.now()),
    recentLog: () => ['last condor line'],
    // Never the real one here: it would stop every condor daemon this host's /proc shows, containers' included.
    stopLeftovers: async () => {
      leftoverCalls.push(Date.now());
      return 0;
    },
    baseDelayMs: 20,
  });
  return { supervisor, events, restarted, leftoverCalls, output };
}

describe('MasterSupervisor', () => {
  it('restarts a master that crashed, after stopping its leftover daemons, and says so', async () => {
    const { supervisor, events, restarted, leftoverCalls, output } = supervise(['crash', 'polite'], 3);
    await waitFor(async () => (restarted.length === 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'one restart' });
    expect(supervisor.restarts).toBe(1);
    expect(leftoverCalls).toHaveLength(1);
    expect(events.map((e) => e.event)).toEqual(['master-started', 'master-exited', 'master-restarting', 'master-started']);
    expect(events.find((e) => e.event === 'master-exited')).toMatchObject({ code: 7, expected: false });
    // The fixture prints this line once its signal handlers are in place.
    await waitFor(async () => (output.some((l) => l.startsWith('fake master polite')) ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'the new master running',
    });
    const exit = await supervisor.stop(2000);
    expect(exit).toMatchObject({ code: 0, expected: true, stoppedBy: 'graceful' });
  });

  it('gives up with WN_ERR_CONDOR_MASTER and the last log lines once the restart budget is spent', async () => {
    const { supervisor, restarted } = supervise(['crash'], 2);
    const error = await supervisor.failed;
    expect(error.code).toBe('WN_ERR_CONDOR_MASTER');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('exited unexpectedly 3 times within 10 minutes');
    expect(error.details).toMatchObject({ master: { code: 7 }, recentCondorLog: ['last condor line'] });
    expect(restarted).toHaveLength(2);
  });

  it('does not restart a master it was asked to stop', async () => {
    const { supervisor, events, restarted, output } = supervise(['polite'], 3);
    await waitFor(async () => (output.some((l) => l.startsWith('fake master polite')) ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'the master running',
    });
    await supervisor.stop(2000);
    // The supervisor's watch awaited the exit before this test did, so it has decided by now: an unexpected exit would
    // have logged master-exited before this line runs.
    await supervisor.current.exited;
    expect(restarted).toHaveLength(0);
    expect(events.some((e) => e.event === 'master-exited' || e.event === 'master-restarting')).toBe(false);
  });
});
