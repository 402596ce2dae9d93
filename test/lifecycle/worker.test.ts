import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SlotAd } from '../../agent/condor/collector.ts';
import type { ForwardedLine } from '../../agent/condor/log-forwarder.ts';
import type { MasterExit } from '../../agent/condor/master.ts';
import { parseConfig } from '../../agent/config/parse.ts';
import { AgentError, ExitCode } from '../../agent/errors.ts';
import { EventHub } from '../../agent/events/hub.ts';
import type { DrainResult } from '../../agent/lifecycle/drain.ts';
import type { Prepared } from '../../agent/lifecycle/prepare.ts';
import { Worker } from '../../agent/lifecycle/worker.ts';
import type { WorkerParts } from '../../agent/lifecycle/worker-parts.ts';
import type { Traceability } from '../../agent/metadata/traceability.ts';
import { waitFor } from '../../agent/util/wait.ts';

// The worker's decisions with fake parts (no HTCondor, cgroups or container): phase order, what is stopped after
// which failure, exit codes, drain or not. The parts themselves are tested on their own and, together, by the
// integration suite.

const trace: Traceability = { scheduler: 'none', hostname: 'wn-test', schedulerAttributes: {}, granted: {} };
const ad: SlotAd = { name: 'slot1@wn-test', state: 'Unclaimed', activity: 'Idle' };
const startdLine = (line: string): ForwardedLine => ({ daemon: 'startd', file: 'StartLog', line: `12/04/26 08:00:00.000 ${line}` });

interface Script {
  /** What the collector answers (default: the slot ad). */
  slotAds?: () => Promise<SlotAd[]>;
  cvmfsStart?: () => Promise<void>;
  /** condor_master fails for good with this error (HTCondor's supervisor gave up). */
  masterFails?: AgentError;
  drain?: DrainResult;
  /** The admin server will not close. */
  adminCloseFails?: boolean;
}

function fakeWorker(script: Script = {}, configChange: Partial<ReturnType<typeof parseConfig>> = {}) {
  const calls: string[] = [];
  const events: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) });
  const config = { ...parseConfig({ condorHost: 'cm.example.org', stateDir: '/nonexistent/wn-agent' }), ...configChange };
  let masterState = 'running';
  let failMaster: (error: AgentError) => void = () => {};
  const masterStops: number[] = [];
  const drains: number[] = [];
  const hooks: { onDrain?: (timeoutMs: number | undefined) => string; onRestarted?: () => void; initialUpdate?: () => void } = {};
  const prepared = { plan: { namespaces: false }, resources: { cpus: 2, memoryMiB: 2048 }, name: 'wn-test', slotAccounts: [] };
  const parts: WorkerParts = {
    prepare: async () => {
      calls.push('prepare');
      return { ...prepared, firewall: { remove: async () => void calls.push('stop job firewall') } } as unknown as Prepared;
    },
    jobWrapper: async () => '/usr/libexec/wn-agent/job-wrapper',
    jobStarts: () => ({
      start: async () => void calls.push('job-start server'),
      stop: async () => void calls.push('stop job-start server'),
      forget: () => {},
      prepare: () => {},
    }),
    isolation: async () => {
      calls.push('isolation');
      return undefined;
    },
    cvmfs: {
      start: script.cvmfsStart ?? (async () => void calls.push('cvmfs')),
      stop: async () => void calls.push('stop cvmfs'),
      configured: false,
      adFile: '/nonexistent/cvmfs.ad',
      repos: [],
    },
    health: {
      start: async () => void calls.push('health'),
      stop: async () => void calls.push('stop health'),
      adFile: '/nonexistent/health.ad',
      status: () => ({ healthy: true, reasons: [] }) as never,
      starterLine: () => {},
      reapedStarter: () => undefined,
      jobEnded: () => {},
    },
    condorConfig: async () => void calls.push('condor config'),
    logForwarder: (onLine) => ({
      start: async () => {
        calls.push('log forwarder');
        hooks.initialUpdate = () => onLine(startdLine('Initial update sent to collector(s)'));
      },
      stop: async () => void calls.push('stop log forwarder'),
      flush: async () => {},
    }),
    supervisor: (options) => {
      calls.push('condor_master');
      hooks.onRestarted = options.onRestarted;
      setTimeout(() => hooks.initialUpdate?.(), 20); // the startd's first update, once HTCondor runs
      return {
        current: {
          get state() {
            return masterState;
          },
        },
        failed: new Promise<AgentError>((resolve) => {
          failMaster = resolve;
          if (script.masterFails) setTimeout(() => resolve(script.masterFails!), 10);
        }),
        stop: async (gracefulMs: number): Promise<MasterExit> => {
          masterStops.push(gracefulMs);
          masterState = 'exited';
          return { code: 0, signal: null, expected: true, stoppedBy: 'graceful' };
        },
      };
    },
    admin: async (options) => {
      calls.push('admin');
      hooks.onDrain = options.onDrain;
      return {
        admin: {
          close: async () => {
            calls.push('stop admin');
            if (script.adminCloseFails) throw new Error('EBUSY');
          },
        },
        authFailures: { stop: () => {} },
      };
    },
    slotAds: script.slotAds ?? (async () => [ad]),
    drain: async ({ timeoutMs }) => {
      drains.push(timeoutMs);
      return script.drain ?? { completed: true, vacated: 0, waitedMs: 5 };
    },
    closeExecuteDir: async () => {},
  };
  const worker = new Worker(config, log, trace, new EventHub(100), () => parts);
  const running = worker.run();
  const event = (name: string) => waitFor(async () => events.find((e) => e.event === name), { timeoutMs: 5000, intervalMs: 5, what: name });
  return { worker, running, calls, events, masterStops, drains, hooks, config, event, failMaster: (e: AgentError) => failMaster(e) };
}

const stops = (calls: string[]) => calls.filter((call) => call.startsWith('stop '));
/** Every part the fakes start, stopped last started first, CVMFS last (condor_master had stopped already). */
const everyPartStopped = ['stop admin', 'stop job-start server', 'stop log forwarder', 'stop health', 'stop job firewall', 'stop cvmfs'];

describe('Worker (fake parts)', () => {
  it('runs the phases in order, drains on a drain request, stops every part in reverse and exits 0', async () => {
    const w = fakeWorker();
    await w.event('startd-advertised');
    expect(w.worker.status.state).toBe('running');
    expect(w.worker.status.advertised).toBe(true);
    expect(w.hooks.onDrain?.(120_000)).toBe('accepted');
    const summary = await w.running;
    expect(summary).toMatchObject({ reason: 'drain-request', exitCode: ExitCode.ok, drain: { completed: true } });
    expect(w.drains).toEqual([120_000]);
    expect(w.masterStops).toEqual([w.config.stopTimeoutMs]);
    expect(w.calls.filter((call) => !call.startsWith('stop '))).toEqual([
      'prepare',
      'isolation',
      'cvmfs',
      'health',
      'condor config',
      'log forwarder',
      'condor_master',
      'job-start server',
      'admin',
    ]);
    expect(stops(w.calls)).toEqual(everyPartStopped);
    expect(w.worker.status.state).toBe('exited');
  });

  it('exits 5 with the vacated count when the drain reaches its deadline', async () => {
    const w = fakeWorker({ drain: { completed: false, vacated: 2, waitedMs: 1000 } });
    await w.event('startd-advertised');
    w.hooks.onDrain?.(undefined);
    const summary = await w.running;
    expect(summary).toMatchObject({ exitCode: ExitCode.drainDeadline, jobsVacated: 2 });
    expect(w.worker.status.counters.jobsVacated).toBe(2);
  });

  it('a CVMFS failure before HTCondor: exit 4, HTCondor never configured, what was started is stopped', async () => {
    const w = fakeWorker({
      cvmfsStart: async () => {
        throw new AgentError('WN_ERR_CVMFS', 'atlas.cern.ch: not mounted');
      },
    });
    const summary = await w.running;
    expect(summary).toMatchObject({ reason: 'error', exitCode: ExitCode.cvmfs, error: { code: 'WN_ERR_CVMFS' } });
    expect(w.calls).not.toContain('condor config');
    expect(w.calls).not.toContain('condor_master');
    expect(stops(w.calls)).toEqual(['stop job firewall', 'stop cvmfs']);
    expect(w.events.find((e) => e.event === 'agent-error')).toMatchObject({ code: 'WN_ERR_CVMFS' });
  });

  it('condor_master failing for good before the slot is advertised: exit 3, no drain', async () => {
    const w = fakeWorker({
      slotAds: async () => [],
      masterFails: new AgentError('WN_ERR_CONDOR_MASTER', 'condor_master exited unexpectedly 4 times'),
    });
    const summary = await w.running;
    expect(summary).toMatchObject({ exitCode: ExitCode.condor, error: { code: 'WN_ERR_CONDOR_MASTER' } });
    expect(w.drains).toEqual([]);
    // The failed master's daemons get the short stop, not the whole --stop-timeout.
    expect(w.masterStops).toEqual([Math.min(w.config.stopTimeoutMs, 10_000)]);
  });

  it('a startd never in the collector: WN_ERR_NOT_ADVERTISED naming --startup-timeout', async () => {
    const w = fakeWorker({ slotAds: async () => [] }, { startupTimeoutMs: 300 });
    const summary = await w.running;
    expect(summary).toMatchObject({ exitCode: ExitCode.condor, error: { code: 'WN_ERR_NOT_ADVERTISED' } });
    expect(summary.error?.message).toContain('--startup-timeout');
  });

  it('a stop before the slot is advertised: no drain, HTCondor stopped, exit 0', async () => {
    const w = fakeWorker({ slotAds: async () => [] });
    await waitFor(async () => w.hooks.onDrain, { timeoutMs: 5000, intervalMs: 5, what: 'admin side' });
    w.hooks.onDrain?.(undefined);
    const summary = await w.running;
    expect(summary).toMatchObject({ reason: 'drain-request', exitCode: ExitCode.ok });
    expect(summary.drain).toBeUndefined();
    expect(w.drains).toEqual([]);
    expect(w.masterStops).toHaveLength(1);
  });

  it('after a master restart the worker is not advertised until the collector has its ad again', async () => {
    let answer: SlotAd[] = [ad];
    const w = fakeWorker({ slotAds: async () => answer });
    await w.event('startd-advertised');
    answer = [];
    w.hooks.onRestarted?.();
    expect(w.worker.status).toMatchObject({ advertised: false, masterRestarts: 1 });
    answer = [ad];
    w.hooks.initialUpdate?.();
    await waitFor(async () => (w.worker.status.advertised ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'advertised again',
    });
    expect(w.events.filter((e) => e.event === 'startd-advertised').map((e) => e.masterRestarts)).toEqual([0, 1]);
    w.hooks.onDrain?.(undefined);
    expect((await w.running).masterRestarts).toBe(1);
  });

  it('a part that will not stop is logged and the rest are still stopped', async () => {
    const w = fakeWorker({ adminCloseFails: true });
    await w.event('startd-advertised');
    w.hooks.onDrain?.(undefined);
    expect((await w.running).exitCode).toBe(ExitCode.ok);
    expect(stops(w.calls)).toEqual(everyPartStopped);
    expect(w.events.find((e) => e.event === 'stop-failed')).toMatchObject({ part: 'admin', error: 'EBUSY' });
  });
});
