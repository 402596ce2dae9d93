import { describe, expect, it } from 'vitest';
import { JobEndTracker, type JobEnd } from '../../agent/health/job-ends.ts';

// StarterLog messages as HTCondor 23.9's starter writes them at its default level (the part after the timestamp),
// and the startd's StartLog line when it reaps the starter (marked "startd: ").
const life = (starter: number, job: string, lines: string[]): string[] => [
  `(pid:${starter}) ******************************************************`,
  `(pid:${starter}) ** condor_starter (CONDOR_STARTER) STARTING UP`,
  `(pid:${starter}) Starting a VANILLA universe job with ID: ${job}`,
  ...lines.map((line) => `(pid:${starter}) ${line}`),
  `startd: Starter pid ${starter} exited with status 0`,
];

/** Feeds the lines one second apart, each reaped starter finished at once; returns every end reported. */
function follow(lines: string[], tracker = new JobEndTracker()): JobEnd[] {
  const ends: JobEnd[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('startd: ')) return tracker.observe(line, i * 1000);
    const pid = tracker.reaped(line.slice('startd: '.length));
    const end = pid === undefined ? undefined : tracker.finish(pid, i * 1000);
    if (end) ends.push(end);
  });
  return ends;
}

describe('JobEndTracker', () => {
  it('a job exiting 0 is a success, timed from its spawn to its exit', () => {
    const ends = follow(
      life(100, '12.0', ['Create_Process succeeded, pid=140', 'Create_Process succeeded, pid=150', 'Process exited, pid=140, status=0']),
    );
    expect(ends).toEqual([{ starterPid: 100, jobId: '12.0', outcome: 'success', detail: 'exit 0', runtimeMs: 2000, workerFault: false }]);
  });

  it('a non-zero exit or a signal is a failure; a helper process exiting first is not the job', () => {
    expect(
      follow(
        life(100, '12.1', ['Create_Process succeeded, pid=140', 'Process exited, pid=150, status=0', 'Process exited, pid=140, status=1']),
      ),
    ).toMatchObject([{ outcome: 'failure', detail: 'exit 1', workerFault: false }]);
    expect(follow(life(101, '12.2', ['Create_Process succeeded, pid=141', 'Process exited, pid=141, signal=11']))).toMatchObject([
      { outcome: 'failure', detail: 'signal 11' },
    ]);
  });

  it('a starter that ends without spawning its job (a shadow exception, a broken scratch) is a failure of no runtime', () => {
    expect(follow(life(100, '7.0', ['Failed to open some file']))).toEqual([
      { starterPid: 100, jobId: '7.0', outcome: 'failure', detail: 'did not start', runtimeMs: 0, workerFault: true },
    ]);
    expect(follow(life(101, '7.1', ['Create_Process succeeded, pid=141']))).toMatchObject([
      { outcome: 'failure', detail: 'starter ended before its job' },
    ]);
  });

  it("a starter's ERROR is the worker's failure, whatever the job's exit (the job goes back to the queue)", () => {
    // A USER_JOB_WRAPPER that exits 1 under PID namespaces, as HTCondor 23.9.6 logs it.
    const ends = follow(
      life(96, '2.0', [
        'Create_Process succeeded, pid=105',
        'Process exited, pid=105, status=1',
        "JobReaper: condor_pid_ns_init didn't drop filename /var/lib/wn-agent/condor/execute/dir_96/.condor_pid_ns_status (2)",
        'ERROR "Starter configured to use PID NAMESPACES, but libexec/condor_pid_ns_init did not run properly" at line 850 in file ./src/condor_starter.V6.1/vanilla_proc.cpp',
        'ShutdownFast all jobs.',
      ]).map((line) => line.replace('exited with status 0', 'exited with status 4')),
    );
    expect(ends).toEqual([
      {
        starterPid: 96,
        jobId: '2.0',
        outcome: 'failure',
        detail: 'starter error: Starter configured to use PID NAMESPACES, but libexec/condor_pid_ns_init did not run properly',
        runtimeMs: 1000,
        workerFault: true,
      },
    ]);
  });

  it('a job stopped by someone, or OOM-killed, is interrupted; a shutdown after the job exited is not', () => {
    const stopped = (line: string): JobEnd[] =>
      follow(life(100, '3.0', ['Create_Process succeeded, pid=140', line, 'Process exited, pid=140, signal=15']));
    expect(stopped('ShutdownGraceful all jobs.')).toMatchObject([{ outcome: 'interrupted', detail: 'vacated' }]);
    expect(stopped('ShutdownFast all jobs.')).toMatchObject([{ outcome: 'interrupted', detail: 'vacated' }]);
    expect(stopped('Hold all jobs')).toMatchObject([{ outcome: 'interrupted', detail: 'held' }]);
    expect(stopped('Remove all jobs')).toMatchObject([{ outcome: 'interrupted', detail: 'removed' }]);
    expect(
      follow(
        life(100, '3.1', ['Create_Process succeeded, pid=140', 'Process pid 140 was OOM killed', 'Process exited, pid=140, signal=9']),
      ),
    ).toMatchObject([{ outcome: 'interrupted', detail: 'OOM killed' }]);
    expect(
      follow(life(100, '3.2', ['Create_Process succeeded, pid=140', 'Process exited, pid=140, status=2', 'ShutdownGraceful all jobs.'])),
    ).toMatchObject([{ outcome: 'failure', detail: 'exit 2' }]);
  });

  it('follows starters whose lines interleave, each by its own pid', () => {
    const a = life(100, '1.0', ['Create_Process succeeded, pid=140', 'Process exited, pid=140, status=0']);
    const b = life(200, '2.0', ['Create_Process succeeded, pid=240', 'Process exited, pid=240, status=3']);
    const mixed = a.flatMap((line, i) => [line, b[i] as string]);
    expect(follow(mixed).map(({ jobId, detail }) => `${jobId} ${detail}`)).toEqual(['1.0 exit 0', '2.0 exit 3']);
  });

  it("ignores lines that are not a starter's, and forgets the oldest starter past 4,096 unfinished ones", () => {
    const tracker = new JobEndTracker();
    expect(follow(['Create_Process succeeded, pid=1', '(pid:x) nonsense', ''], tracker)).toEqual([]);
    follow(['(pid:1) Starting a VANILLA universe job with ID: 9.0'], tracker);
    // A hostile or broken stream: 4,096 starters that never end.
    follow(
      Array.from({ length: 4096 }, (_, i) => `(pid:${i + 2}) Starting a VANILLA universe job with ID: 10.${i}`),
      tracker,
    );
    expect(follow(['startd: Starter pid 1 exited with status 0'], tracker)).toEqual([]); // forgotten
    // The most recent one is still known, and a starter killed by a signal is reaped too.
    expect(follow(['startd: Starter pid 4097 died on signal 9 (SIGKILL)'], tracker)).toMatchObject([{ jobId: '10.4095' }]);
    expect(follow(['startd: Starter pid 4097 exited with status 0'], tracker)).toEqual([]); // once
  });
});
