/** `wn-agent status` for people: one screen from GET /v1/status. */
const mib = (bytes: unknown): string => (typeof bytes === 'number' ? `${(bytes / 1048576).toFixed(0)}` : '?');
const secs = (ms: unknown): string => (typeof ms === 'number' ? `${Math.ceil(ms / 1000)}s` : '?');
const took = (ms: unknown): string => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)}s` : '?');
/** "12s ago", "3m ago": how long since an ISO time, as `now` sees it. */
const ago = (iso: unknown, now: number): string => {
  const at = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(at)) return '?';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

export function statusScreen(s: Record<string, unknown>, now = Date.now()): string {
  const lines: string[] = [];
  const counters = (s.counters ?? {}) as Record<string, number>;
  lines.push(
    `wn-agent  ${String(s.state)}  up ${String(s.uptimeS)}s  ${s.advertised ? 'advertised' : 'NOT advertised'}  master restarts ${String(s.masterRestarts)}`,
  );
  if (s.state === 'draining') lines.push(`draining: deadline in ${secs(s.drainRemainingMs)}`);
  else if (typeof s.idleRemainingMs === 'number') lines.push(`idle: exits in ${secs(s.idleRemainingMs)} unless work arrives`);
  lines.push(
    `jobs: started ${counters.jobsStarted ?? 0}, finished ${counters.jobsFinished ?? 0}, OOM-killed ${counters.oomKills ?? 0}, vacated ${counters.jobsVacated ?? 0}`,
  );
  lines.push('slots:');
  for (const slot of (s.slots ?? []) as Record<string, unknown>[])
    lines.push(`  ${String(slot.name)}  ${String(slot.state)}/${String(slot.activity)}`);
  lines.push('running jobs:');
  const jobs = (s.jobs ?? []) as Record<string, unknown>[];
  if (jobs.length === 0) lines.push('  none');
  for (const job of jobs) {
    const limits = (job.limits ?? {}) as Record<string, number>;
    lines.push(
      `  ${String(job.jobId ?? '?')}  ${String(job.slot)}  ${String(job.cgroup)}  memory ${mib(job.memoryBytes)}/${mib(limits.memoryBytes)} MiB  ${String(job.runningS)}s${job.verified ? '' : '  (isolation not yet seen)'}`,
    );
  }
  const host = s.host as { os?: string; kernel?: string; executeDisk?: Record<string, number | string> } | undefined;
  if (host) {
    const disk = host.executeDisk;
    const free = disk ? `, execute disk ${String(disk.mount)}: ${mib(disk.availableBytes)} MiB free of ${mib(disk.sizeBytes)} MiB` : '';
    lines.push(`host: ${String(host.os)}, kernel ${String(host.kernel)}${free}`);
  }
  const cvmfs = (s.cvmfs ?? []) as Record<string, unknown>[];
  if (cvmfs.length)
    lines.push(
      `cvmfs: ${cvmfs.map((r) => `${String(r.repo)} ${r.healthy ? 'ok' : 'BROKEN'}${r.required ? '' : ' (optional)'}`).join(', ')}`,
    );
  const health = s.health as { healthy?: boolean; checks?: Record<string, unknown>[] } | undefined;
  if (health) {
    lines.push(`health: ${health.healthy ? 'healthy' : 'UNHEALTHY: no new jobs start'}`);
    for (const check of health.checks ?? [])
      lines.push(
        `  ${String(check.name)}  ${check.ok ? 'ok' : `FAILED: ${String(check.reason)}`}  ${ago(check.lastRunAt, now)}, took ${took(check.durationMs)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
