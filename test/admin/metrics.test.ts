import { EventHub } from '../../agent/events/hub.ts';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../agent/admin/metrics.ts';
import { JobStartSteps, type AgentStatus } from '../../agent/admin/status.ts';
import { promtoolProblems } from '../support/promtool.ts';

// A status object written here (the real one is read by the lifecycle integration test through the worker's port).
const status: AgentStatus = {
  state: 'running',
  startedAt: 0,
  advertised: true,
  masterRestarts: 2,
  counters: {
    jobsStarted: 5,
    jobsFinished: 4,
    oomKills: 1,
    jobsVacated: 0,
    adminAuthFailures: 0,
    jobEnds: { success: 3, failure: 1, interrupted: 0 },
  },
  cvmfs: () => [{ repo: 'atlas.cern.ch', required: true, healthy: true }],
  jobs: () => [
    { slot: 'slot1_1', cgroup: 'jobs/slot1_1', jobId: '12.0', limits: { memoryBytes: 134217728, cpuWeight: 100, pidsMax: 4096 } } as never,
  ],
  idleRemainingMs: () => 90_000,
  slots: async () => [],
  jobMemoryBytes: async () => 1048576,
};

describe('the agent metrics, named by Prometheus rules', () => {
  it("the event backlog's size, from the hub, at scrape time", async () => {
    const hub = new EventHub(100);
    const registry = createMetrics(status, { version: 't' }, hub);
    expect(await registry.metrics()).toMatch(/^wn_agent_event_backlog_bytes 0$/m);
    hub.publish({ level: 'info', msg: 'x'.repeat(1000) });
    const bytes = Number(/^wn_agent_event_backlog_bytes (\d+)$/m.exec(await registry.metrics())?.[1]);
    expect(bytes).toBe(hub.backlogChars);
    expect(bytes).toBeGreaterThan(1000);
  });

  it('counters end in _total, the unit comes last, jobs by slot (no label per job), standard process and nodejs names, build info', async () => {
    const text = await createMetrics(status, { version: '1.2.3', revision: 'abc' }).metrics();
    expect(text).toMatch(/^wn_agent_build_info\{version="1.2.3",revision="abc"\} 1$/m);
    expect(text).toMatch(/^wn_agent_master_restarts_total 2$/m);
    expect(text).toMatch(/^wn_agent_ready 1$/m);
    expect(text).toMatch(/^# TYPE wn_agent_master_restarts_total counter$/m);
    expect(text).toMatch(/^wn_agent_idle_remaining_seconds 90$/m);
    expect(text).toMatch(/^wn_agent_job_memory_bytes\{slot="slot1_1"\} 1048576$/m);
    expect(text).toMatch(/^wn_agent_job_memory_limit_bytes\{slot="slot1_1"\} 134217728$/m);
    expect(text).not.toContain('12.0');
    expect(text).toMatch(/^wn_agent_jobs_oom_killed_total 1$/m);
    expect(text).toMatch(/^wn_agent_cvmfs_healthy\{repo="atlas.cern.ch",required="true"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/job="/);
    expect(text).not.toMatch(/^wn_agent_(process|nodejs)_/m);
    // Prometheus' own linter: no gauge named like a counter (prom-client's nodejs_active_*_total), no bad unit.
    expect(text).toMatch(/^nodejs_active_handles\{type="\w+"\} \d+$/m);
    expect(text).not.toMatch(/^nodejs_active_\w+_total/m);
    expect(promtoolProblems(text)).toBe('');
  });

  it('has the site health checks: the whole, each check, its failures and duration; none without checks', async () => {
    const health = {
      healthy: false,
      checks: [
        { name: '10-disk', ok: true, lastRunAt: '2026-01-02T03:04:05.000Z', durationMs: 250, failures: 0 },
        { name: '20-software', ok: false, reason: 'exit 1', lastRunAt: '2026-01-02T03:04:05.000Z', durationMs: 10, failures: 3 },
      ],
    };
    const text = await createMetrics({ ...status, health: () => health }).metrics();
    expect(text).toMatch(/^wn_agent_healthy 0$/m);
    expect(text).toMatch(/^wn_agent_ready 0$/m);
    expect(text).toMatch(/^wn_agent_health_check_ok\{check="10-disk"\} 1$/m);
    expect(text).toMatch(/^wn_agent_health_check_ok\{check="20-software"\} 0$/m);
    expect(text).toMatch(/^# TYPE wn_agent_health_check_failures_total counter$/m);
    expect(text).toMatch(/^wn_agent_health_check_failures_total\{check="20-software"\} 3$/m);
    expect(text).toMatch(/^wn_agent_health_check_duration_seconds\{check="10-disk"\} 0.25$/m);
    const off = await createMetrics(status).metrics();
    expect(off).not.toMatch(/^wn_agent_health/m);
  });

  it("has a histogram of the agent's part of job start, by step, fed as jobs start", async () => {
    const steps = new JobStartSteps();
    steps.observe('placement', 3); // before metrics exist: not kept
    const registry = createMetrics({ ...status, jobStartSteps: steps });
    steps.observe('placement', 7.3);
    steps.observe('placement', 40);
    steps.observe('attributes', 8);
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE wn_agent_job_start_step_seconds histogram$/m);
    expect(text).toMatch(/^wn_agent_job_start_step_seconds_bucket\{le="0.01",step="placement"\} 1$/m);
    expect(text).toMatch(/^wn_agent_job_start_step_seconds_bucket\{le="0.05",step="placement"\} 2$/m);
    expect(text).toMatch(/^wn_agent_job_start_step_seconds_count\{step="placement"\} 2$/m);
    expect(text).toMatch(/^wn_agent_job_start_step_seconds_sum\{step="attributes"\} 0.008$/m);
  });
});
