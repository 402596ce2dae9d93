import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SlotSizes } from '../../agent/condor/slot-sizes.ts';
import { condorLogRouter, forwardedLevel } from '../../agent/lifecycle/condor-log-routing.ts';
import { RecentLines } from '../../agent/util/recent-lines.ts';

// Lines as HTCondor 23.9.6's starter and procd wrote them for one job on a worker (StarterLog.slot1_1, ProcLog).
const routineStarter = [
  '(pid:41) ******************************************************',
  '(pid:41) ** condor_starter (CONDOR_STARTER) STARTING UP',
  '(pid:41) ** $CondorVersion: 23.9.6 2026-07-12 PackageID: 23.9.6+dfsg-2.1+b10 $',
  '(pid:41) ** Log last touched time unavailable (No such file or directory)',
  '(pid:41) Using config source: /var/lib/wn-agent/condor/condor_config',
  '(pid:41) Using local config sources: ',
  '(pid:41)    /etc/wn-agent/condor.d/50-test.conf',
  '(pid:41) config Macros = 117, Sorted = 115, StringBytes = 3212, TablesBytes = 4260',
  '(pid:41) CLASSAD_CACHING is OFF',
  '(pid:41) Daemon Log is logging: D_ALWAYS D_ERROR D_STATUS',
  '(pid:41) SharedPortEndpoint: waiting for connections to named socket slot1_1_30_e33a_3',
  '(pid:41) DaemonCore: command socket at <10.89.0.5:9618?addrs=10.89.0.5-9618&noUDP&sock=slot1_1_30_e33a_3>',
  '(pid:41) DaemonCore: private command socket at <10.89.0.5:9618?addrs=10.89.0.5-9618&noUDP&sock=slot1_1_30_e33a_3>',
  '(pid:41) Checking to see if jobs/slot1_1 is a writeable cgroup',
  '(pid:41)     Cgroup memory/jobs/slot1_1 is useable',
  '(pid:41)     Cgroup freezer// is useable',
  '(pid:41) Communicating with shadow <10.89.0.2:9618?addrs=10.89.0.2-9618&alias=10-89-0-2.wn.test&noUDP&sock=shadow_24_a8fa_1>',
  '(pid:41) Submitting machine is "10.89.0.2"',
  '(pid:41) setting the orig job name in starter',
  '(pid:41) setting the orig job iwd in starter',
  '(pid:41) Chirp config summary: IO false, Updates false, Delayed updates true.',
  '(pid:41) Initialized IO Proxy.',
  '(pid:41) Done setting resource limits',
  '(pid:41) Set filetransfer runtime ads to /var/lib/wn-agent/condor/execute/dir_41/.job.ad and /var/lib/wn-agent/condor/execute/dir_41/.machine.ad.',
  '(pid:41) Not entering transfer queue because sandbox (100808) is too small (<= 104857600).',
  '(pid:41) File transfer completed successfully.',
  '(pid:41) Job 1.0 set to execute immediately',
  '(pid:41) Tracking process family by login "wnslot1"',
  '(pid:41) IWD: /var/lib/wn-agent/condor/execute/dir_41',
  '(pid:41) Output file: /var/lib/wn-agent/condor/execute/dir_41/_condor_stdout',
  '(pid:41) Renice expr "0" evaluated to 0',
  '(pid:41) Moved process 44 to cgroup /sys/fs/cgroup/memory/jobs/slot1_1/condor_var_lib_wn-agent_condor_execute_slot1_1@w',
  '(pid:41) Create_Process succeeded, pid=44',
];
const jobStarter = [
  '(pid:41) **** condor_starter (condor_STARTER) pid 41 EXITING WITH STATUS 0',
  '(pid:41) Starting a VANILLA universe job with ID: 1.0',
  '(pid:41) Running job as user wnslot1',
  '(pid:41) Using wrapper /usr/local/libexec/wn-agent/job-wrapper to exec /usr/libexec/condor/condor_pid_ns_init /bin/date',
  '(pid:41) Process exited, pid=44, status=0',
  '(pid:41) Process pid 44 was OOM killed',
  '(pid:41) All jobs have exited... starter exiting',
  '(pid:41) File transfer failed (status=0).',
  '(pid:41) Job 1.0 set to execute immediately, and more',
];
// StartLog lines of one claim and its activations; the routine steps of the slot state machine, then its story.
const routineStartd = [
  'STARTD_CRON job WNCVMFS started',
  'slot1_1: Got universe "VANILLA" (5) from request classad',
  'slot1_1: State change: claim-activation protocol successful',
  'slot1_1: Changing activity: Idle -> Busy',
  'slot1_1: Called deactivate_claim_forcibly()',
  'slot1_1: State change: starter exited',
  'slot1_1: Changing activity: Busy -> Idle',
  'slot1_1: State change: claiming protocol successful',
  'slot1_1: Changing state: Owner -> Claimed',
  'slot1_1: State change: received RELEASE_CLAIM command',
  'slot1_1: Changing state and activity: Claimed/Idle -> Preempting/Vacating',
  'slot1_1: State change: No preempting claim, returning to owner',
  'slot1_1: Changing state and activity: Preempting/Vacating -> Owner/Idle',
  'slot1_1: State change: IS_OWNER is false',
  'slot1_1: Changing state: Owner -> Unclaimed',
  'slot1_1: Changing state: Unclaimed -> Delete',
];
const storyStartd = [
  '** condor_startd (CONDOR_STARTD) STARTING UP',
  'slot1_1: New dSlot of type 1 allocated',
  'slot1: Request accepted.',
  'slot1_1: Remote owner is submitter@wn.test',
  'slot1_1: Got activate_claim request from shadow (10.89.0.4)',
  'slot1_1: Remote job ID is 1.0',
  'Starter pid 41 exited with status 0',
  'slot1_1: Slot slot1_1 no longer needed, deleting',
  'slot1_1: State change: PREEMPT is TRUE',
  'slot1_1: Changing state and activity: Claimed/Busy -> Preempting/Vacating',
  'slot1_1: Changing activity: Busy -> Suspended',
];

describe('forwardedLevel', () => {
  it("keeps every starter's boilerplate at debug", () => {
    for (const msg of routineStarter) expect(forwardedLevel('starter', 'info', msg), msg).toBe('debug');
  });

  it("keeps what the starter says about the job at info, and HTCondor's trouble words at their level", () => {
    for (const msg of jobStarter) expect(forwardedLevel('starter', 'info', msg), msg).toBe('info');
    expect(forwardedLevel('starter', 'error', '(pid:41) ** ERROR: something')).toBe('error');
    expect(forwardedLevel('procd', 'warn', 'WARNING: could not read /proc')).toBe('warn');
  });

  it("keeps condor_procd's bookkeeping at debug", () => {
    for (const msg of ['taking a snapshot...', 'PROC_FAMILY_REGISTER_SUBFAMILY', 'new subfamily registered: root = 44, watcher = 41'])
      expect(forwardedLevel('procd', 'info', msg)).toBe('debug');
  });

  it("keeps the startd's cron starts and routine state-machine steps at debug, a claim's story and any other change at info", () => {
    for (const msg of routineStartd) expect(forwardedLevel('startd', 'info', msg), msg).toBe('debug');
    for (const msg of storyStartd) expect(forwardedLevel('startd', 'info', msg), msg).toBe('info');
    expect(forwardedLevel('master', 'info', 'Using config source: /var/lib/wn-agent/condor/condor_config')).toBe('info');
    expect(forwardedLevel('master', 'info', 'slot1_1: Changing activity: Idle -> Busy')).toBe('info');
  });
});

describe('condorLogRouter (lines as HTCondor 23.9.6 writes them)', () => {
  function router() {
    const said: { chirpReady: string[]; oom: number[] } = { chirpReady: [], oom: [] };
    const route = condorLogRouter({
      log: pino({ level: 'silent' }),
      recent: new RecentLines(),
      slotSizes: new SlotSizes(),
      health: { starterLine: () => {}, reapedStarter: () => undefined, jobEnded: () => {} },
      onInitialUpdate: () => {},
      onOomKill: (pid) => said.oom.push(pid),
      onChirpReady: (slot, pid) => said.chirpReady.push(`${slot} ${String(pid)}`),
      flush: async () => {},
    });
    const line = (file: string, text: string) => {
      const [daemonFile, slot] = file.split('.');
      route({
        file,
        daemon: daemonFile === 'StartLog' ? 'startd' : 'starter',
        ...(slot ? { slot } : {}),
        line: `12/04/26 13:13:18.448 ${text}`,
      });
    };
    return { said, line };
  }

  it("names the slot whose starter's Chirp server is up, once per starter, from that slot's StarterLog only", () => {
    const { said, line } = router();
    line('StarterLog.slot1_3', 'Chirp config summary: IO false, Updates false, Delayed updates true.');
    line('StarterLog.slot1_3', 'Initialized IO Proxy.');
    line('StarterLog.slot1_12', '(pid:77) Initialized IO Proxy.');
    line('StarterLog.slot1_3', 'Initialized IO Proxy. and more');
    line('StartLog', 'Initialized IO Proxy.');
    expect(said.chirpReady).toEqual(['slot1_3 undefined', 'slot1_12 77']);
  });

  it("passes HTCondor's OOM kill on with the starter's pid", () => {
    const { said, line } = router();
    line('StarterLog.slot1_1', '(pid:41) Process pid 44 was OOM killed');
    expect(said.oom).toEqual([41]);
    expect(said.chirpReady).toEqual([]);
  });
});
