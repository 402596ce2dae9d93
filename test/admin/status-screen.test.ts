import { describe, expect, it } from 'vitest';
import { statusScreen } from '../../agent/admin/status-screen.ts';

describe('statusScreen', () => {
  it('puts state, drain, counters, slots, jobs with cgroup figures and CVMFS on one screen', () => {
    const screen = statusScreen({
      state: 'draining',
      uptimeS: 300,
      advertised: true,
      masterRestarts: 1,
      drainRemainingMs: 41_200,
      counters: { jobsStarted: 3, jobsFinished: 2, oomKills: 1, jobsVacated: 0, adminAuthFailures: 0 },
      slots: [
        { name: 'slot1@wn', state: 'Unclaimed', activity: 'Idle' },
        { name: 'slot1_1@wn', state: 'Claimed', activity: 'Busy' },
      ],
      jobs: [
        {
          jobId: '7.0',
          slot: 'slot1_1',
          cgroup: 'jobs/slot1_1',
          memoryBytes: 52_428_800,
          limits: { memoryBytes: 134_217_728 },
          runningS: 12,
          verified: true,
        },
      ],
      cvmfs: [
        { repo: 'atlas.cern.ch', healthy: true, required: true },
        { repo: 'lhcb.cern.ch', healthy: false, required: false },
      ],
    });
    expect(screen).toBe(
      [
        'wn-agent  draining  up 300s  advertised  master restarts 1',
        'draining: deadline in 42s',
        'jobs: started 3, finished 2, OOM-killed 1, vacated 0',
        'slots:',
        '  slot1@wn  Unclaimed/Idle',
        '  slot1_1@wn  Claimed/Busy',
        'running jobs:',
        '  7.0  slot1_1  jobs/slot1_1  memory 50/128 MiB  12s',
        'cvmfs: atlas.cern.ch ok, lhcb.cern.ch BROKEN (optional)',
        '',
      ].join('\n'),
    );
  });

  it('shows each health check on a line: its last result, how long ago, how long it took', () => {
    const now = Date.parse('2026-01-02T03:05:00Z');
    const screen = statusScreen(
      {
        state: 'running',
        uptimeS: 60,
        advertised: true,
        masterRestarts: 0,
        health: {
          healthy: false,
          checks: [
            { name: '10-disk', ok: true, lastRunAt: '2026-01-02T03:04:48Z', durationMs: 140, failures: 0 },
            {
              name: '20-software',
              ok: false,
              reason: 'exit 1: /cvmfs/sw missing',
              lastRunAt: '2026-01-02T03:02:00Z',
              durationMs: 30_000,
              failures: 2,
            },
          ],
        },
      },
      now,
    );
    expect(screen.split('\n').slice(-4)).toEqual([
      'health: UNHEALTHY: no new jobs start',
      '  10-disk  ok  12s ago, took 0.1s',
      '  20-software  FAILED: exit 1: /cvmfs/sw missing  3m ago, took 30.0s',
      '',
    ]);
  });
});
