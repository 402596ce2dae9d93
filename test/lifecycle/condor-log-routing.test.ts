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
];
const jobStarter = [
  '(pid:41) **** condor_starter (condor_STARTER) pid 41 EXITING WITH STATUS 0',
  '(pid:41) Starting a VANILLA universe job with ID: 1.0',
  '(pid:41) Running job as user wnslot1',
  '(pid:41) Using wrapper /usr/local/libexec/wn-agent/job-wrapper to exec /usr/libexec/condor/condor_pid_ns_init /bin/date',
  '(pid:41) Process exited, pid=44, status=0',
  '(pid:41) Process pid 44 was OOM killed',
  '(pid:41) All jobs have exited... starter exiting',
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

  it("the startd's and master's own banners stay at info (once per start of the worker), its cron starts at debug", () => {
    expect(forwardedLevel('startd', 'info', '** condor_startd (CONDOR_STARTD) STARTING UP')).toBe('info');
    expect(forwardedLevel('master', 'info', 'Using config source: /var/lib/wn-agent/condor/condor_config')).toBe('info');
    expect(forwardedLevel('startd', 'info', 'STARTD_CRON job WNCVMFS started')).toBe('debug');
    expect(forwardedLevel('startd', 'info', 'slot1_1: Got activate_claim request from shadow (10.89.0.4)')).toBe('info');
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
      onChirpReady: (slot) => said.chirpReady.push(slot),
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
    expect(said.chirpReady).toEqual(['slot1_3', 'slot1_12']);
  });

  it("passes HTCondor's OOM kill on with the starter's pid", () => {
    const { said, line } = router();
    line('StarterLog.slot1_1', '(pid:41) Process pid 44 was OOM killed');
    expect(said.oom).toEqual([41]);
    expect(said.chirpReady).toEqual([]);
  });
});
