import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectStandardMetrics } from '../util/standard-metrics.ts';
import { agentVersion } from '../version.ts';
import { readiness, type AgentStatus } from './status.ts';

const states = ['starting', 'running', 'draining', 'stopping', 'exited'] as const;

/**
 * Prometheus metrics, computed from the agent's status at scrape time (nothing to keep in step). Default Node metrics
 * include process_resident_memory_bytes and nodejs_eventloop_lag_seconds.
 */
export function createMetrics(
  status: AgentStatus,
  build: { version: string; revision?: string | undefined } = { version: agentVersion },
  /** The event hub: its replay backlog is the agent's largest bounded buffer, worth watching for growth. */
  events?: { readonly backlogChars: number },
): Registry {
  const registry = new Registry();
  collectStandardMetrics(registry);
  if (events)
    new Gauge({
      name: 'wn_agent_event_backlog_bytes',
      help: 'JSON characters (about bytes) of the events kept for replay (--event-backlog, at most 16 MiB)',
      registers: [registry],
      collect() {
        this.set(events.backlogChars);
      },
    });
  new Gauge({
    name: 'wn_agent_build_info',
    help: 'The agent build (always 1)',
    labelNames: ['version', 'revision'],
    registers: [registry],
  }).set({ version: build.version, revision: build.revision ?? 'unknown' }, 1);

  new Gauge({
    name: 'wn_agent_state',
    help: 'Lifecycle state of the agent (1 for the current one)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const state of states) this.set({ state }, status.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wn_agent_ready',
    help: '1 when /readyz answers 200 (running, advertised, required CVMFS and every health check passing), else 0',
    registers: [registry],
    async collect() {
      this.set((await readiness(status)).ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wn_agent_draining',
    help: '1 while the worker drains',
    registers: [registry],
    collect() {
      this.set(status.state === 'draining' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wn_agent_startd_advertised',
    help: '1 once the startd is in the collector',
    registers: [registry],
    collect() {
      this.set(status.advertised ? 1 : 0);
    },
  });
  new Counter({
    name: 'wn_agent_master_restarts_total',
    help: 'condor_master restarts after unexpected exits',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(status.masterRestarts);
    },
  });
  const jobStart = new Histogram({
    name: 'wn_agent_job_start_step_seconds',
    help: "The agent's own part of each job start, by step: placement (the starter moved into its job's cgroup) and attributes (traceability attributes recorded while the job waits)",
    labelNames: ['step'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  status.jobStartSteps?.listen((step, seconds) => jobStart.observe({ step }, seconds));
  new Gauge({
    name: 'wn_agent_running_jobs',
    help: 'Jobs running in their own cgroups',
    registers: [registry],
    collect() {
      this.set(status.jobs().length);
    },
  });
  new Gauge({
    name: 'wn_agent_idle_remaining_seconds',
    help: 'Seconds until idle exit (absent when no idle timeout or busy)',
    registers: [registry],
    collect() {
      this.reset();
      const remaining = status.idleRemainingMs();
      if (remaining !== undefined) this.set(remaining / 1000);
    },
  });
  new Gauge({
    name: 'wn_agent_cvmfs_healthy',
    help: 'CVMFS repository health from the last probe',
    labelNames: ['repo', 'required'],
    registers: [registry],
    collect() {
      this.reset();
      for (const repo of status.cvmfs()) this.set({ repo: repo.repo, required: String(repo.required) }, repo.healthy ? 1 : 0);
    },
  });
  // Only with --health-check-dir (a label-less gauge always shows a value: 0 would read as unhealthy).
  if (status.health?.()) registerHealthMetrics(registry, status);
  new Gauge({
    name: 'wn_agent_job_memory_bytes',
    help: "Memory in use by each running job's cgroup, by slot (the job's ID is in the events and /v1/status)",
    // By slot, not by job: a label per job is a new series for every job a long-lived worker runs, across the fleet.
    labelNames: ['slot'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const job of status.jobs()) {
        const bytes = await status.jobMemoryBytes(job.cgroup);
        if (bytes !== undefined) this.set({ slot: job.slot }, bytes);
      }
    },
  });
  new Gauge({
    name: 'wn_agent_job_memory_limit_bytes',
    help: "Memory limit of each running job's cgroup (the slot's Memory), by slot",
    labelNames: ['slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const job of status.jobs()) this.set({ slot: job.slot }, job.limits.memoryBytes);
    },
  });
  for (const [name, key, help] of [
    ['wn_agent_jobs_started_total', 'jobsStarted', 'Jobs started on this worker'],
    ['wn_agent_jobs_finished_total', 'jobsFinished', 'Jobs finished in their cgroups'],
    ['wn_agent_jobs_oom_killed_total', 'oomKills', 'Jobs stopped by their memory limit'],
    ['wn_agent_jobs_vacated_total', 'jobsVacated', 'Jobs vacated back to the queue at a drain deadline'],
    ['wn_agent_admin_auth_failures_total', 'adminAuthFailures', 'Requests to /v1 and /v1/events on TCP without the right admin token'],
  ] as const) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(status.counters[key]);
      },
    });
  }
  new Counter({
    name: 'wn_agent_job_ends_total',
    help: 'Jobs ended, by outcome as the starter logged it: success (exit 0), failure (non-zero exit, signal, never started), interrupted (vacated, held, removed, OOM-killed)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(status.counters.jobEnds)) this.inc({ outcome }, count);
    },
  });
  return registry;
}

/** The site health checks (agent/health): the whole, and each check's last result, failures and duration. */
function registerHealthMetrics(registry: Registry, status: AgentStatus): void {
  new Gauge({
    name: 'wn_agent_healthy',
    help: '1 while every health check passes (the site checks, execute-disk, black-hole), 0 while one fails',
    registers: [registry],
    collect() {
      this.set(status.health?.()?.healthy === false ? 0 : 1);
    },
  });
  new Gauge({
    name: 'wn_agent_health_check_ok',
    help: 'Health check result of the last run, by check (the site checks, execute-disk, black-hole): 1 passed, 0 failed',
    labelNames: ['check'],
    registers: [registry],
    collect() {
      this.reset();
      for (const check of status.health?.()?.checks ?? []) this.set({ check: check.name }, check.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wn_agent_health_check_duration_seconds',
    help: 'How long the last run of each site health check took (a check near --health-check-timeout is about to fail)',
    labelNames: ['check'],
    registers: [registry],
    collect() {
      this.reset();
      for (const check of status.health?.()?.checks ?? []) this.set({ check: check.name }, check.durationMs / 1000);
    },
  });
  new Counter({
    name: 'wn_agent_health_check_failures_total',
    help: 'Failed runs of each site health check since the agent started',
    labelNames: ['check'],
    registers: [registry],
    collect() {
      this.reset();
      for (const check of status.health?.()?.checks ?? []) this.inc({ check: check.name }, check.failures);
    },
  });
}
