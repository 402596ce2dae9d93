import type { Logger } from '../log/logger.ts';
import { delay } from '../util/wait.ts';
import { httpAgentCall, type AgentCall, type WorkerEndpoint } from './agent-call.ts';
import { specHash, type WorkerSpec } from './spec.ts';
import { type FleetBackend } from './backend.ts';
import { executeDiskKiB, observed, type AgentStatusBody } from './observe.ts';
import { plan, type FleetLimits, type FleetPlan, type ObservedWorker } from './plan.ts';
import type { FleetCredentials } from './worker-credentials.ts';

export interface FleetOptions {
  backend: FleetBackend;
  /** Read at every cycle: a changed spec (file) is a rolling upgrade. */
  spec: () => Promise<WorkerSpec>;
  limits: FleetLimits;
  /** Idle jobs a worker could run; `diskKiB` is the execute disk running workers report, when one does. */
  demand: (spec: WorkerSpec, hash: string, seen: { diskKiB?: number | undefined }) => Promise<number>;
  /** The fleet's key, from which each worker's own admin token is derived, and the workers' TLS files, if any. */
  credentials: FleetCredentials;
  intervalMs: number;
  log: Logger;
  /** How the controller speaks to a worker's agent (default: HTTP, or HTTPS for TLS workers, to <address>:9680 with its token). */
  agent?: AgentCall | undefined;
}

export interface FleetSnapshot {
  /** The spec read for this cycle: what new workers start from, and what specHash is the hash of. */
  spec: WorkerSpec;
  workers: (ObservedWorker & { name: string; address?: string | undefined; tls?: boolean | undefined })[];
  idleJobs: number;
  specHash: string;
  plan: FleetPlan;
}

/**
 * The fleet controller: observe (the engine's containers, each agent's /v1/status, the pool's idle jobs), plan,
 * act (start workers, ask workers to drain, forget exited ones), again. It keeps nothing between cycles that it
 * could not read back: a controller killed and started again picks up an upgrade or a scale-down where it was.
 */
export class FleetController {
  private stopped = false;
  readonly counters = { started: 0, drained: 0, forgotten: 0, cycles: 0, errors: 0 };
  last: FleetSnapshot | undefined;
  private diskKiB: number | undefined;

  private readonly agent: AgentCall;

  constructor(private readonly options: FleetOptions) {
    this.agent = options.agent ?? httpAgentCall(options.credentials);
  }

  async observe(): Promise<FleetSnapshot> {
    const spec = await this.options.spec();
    const hash = specHash(spec);
    const listed = await this.options.backend.list();
    const statuses = await Promise.all(
      listed.map((w) => (w.running && w.address ? this.agentStatus({ name: w.name, address: w.address, tls: w.tls }) : undefined)),
    );
    const workers = listed.map((w, i) => ({ ...observed(w, statuses[i]), name: w.name, address: w.address, tls: w.tls }));
    // The execute disk is known only once a worker runs; the last one seen stands in while none does.
    this.diskKiB = executeDiskKiB(statuses) ?? this.diskKiB;
    const idle = await this.options.demand(spec, hash, { diskKiB: this.diskKiB });
    // A worker of N CPUs runs up to N single-CPU jobs at once.
    const limits = spec.cpus ? { ...this.options.limits, jobsPerWorker: Math.max(1, Math.floor(spec.cpus)) } : this.options.limits;
    return { spec, workers, idleJobs: idle, specHash: hash, plan: plan(workers, idle, hash, limits) };
  }

  /** One cycle: observe and act on the plan. */
  async cycle(): Promise<FleetSnapshot> {
    const { log, backend } = this.options;
    // One read of the spec per cycle: a file changed in between cannot start workers labelled with another hash.
    const snapshot = await this.observe();
    const { spec } = snapshot;
    for (const gone of snapshot.workers.filter((w) => w.phase === 'gone')) {
      await backend.forget(gone.id);
      this.counters.forgotten += 1;
      log.info({ event: 'fleet-worker-gone', worker: gone.name }, `worker ${gone.name} exited and was removed`);
    }
    for (let i = 0; i < snapshot.plan.start; i++) {
      const id = await backend.start(spec, snapshot.specHash, this.options.credentials);
      this.counters.started += 1;
      log.info(
        { event: 'fleet-worker-started', id, specHash: snapshot.specHash, reason: snapshot.plan.reason },
        `worker started: ${snapshot.plan.reason}`,
      );
    }
    for (const id of snapshot.plan.drain) {
      const worker = snapshot.workers.find((w) => w.id === id);
      const answer = worker?.address
        ? await this.agent({ name: worker.name, address: worker.address, tls: worker.tls }, 'POST', '/v1/drain')
        : undefined;
      this.counters.drained += 1;
      log.info(
        { event: 'fleet-worker-draining', worker: worker?.name ?? id, answer: answer?.status, reason: snapshot.plan.reason },
        `worker ${worker?.name ?? id} asked to drain: ${snapshot.plan.reason}`,
      );
    }
    this.counters.cycles += 1;
    const changed = JSON.stringify(summary(snapshot)) !== JSON.stringify(this.last && summary(this.last));
    if (changed)
      log.info(
        { event: 'fleet-observed', ...summary(snapshot) },
        `fleet: ${snapshot.workers.length} workers, ${snapshot.idleJobs} idle jobs, target ${snapshot.plan.target}`,
      );
    this.last = snapshot;
    return snapshot;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.cycle();
      } catch (error) {
        // An engine or pool that does not answer this time: nothing is started or drained blind; try again.
        this.counters.errors += 1;
        this.options.log.warn({ event: 'fleet-cycle-failed', error: (error as Error).message }, 'fleet cycle failed; retrying');
      }
      if (!this.stopped) await delay(this.options.intervalMs);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async agentStatus(worker: WorkerEndpoint): Promise<AgentStatusBody | undefined> {
    const answer = await this.agent(worker, 'GET', '/v1/status');
    return answer?.status === 200 ? (answer.body as AgentStatusBody) : undefined;
  }
}

function summary(s: FleetSnapshot): Record<string, unknown> {
  const byPhase: Record<string, number> = {};
  for (const w of s.workers) byPhase[w.phase] = (byPhase[w.phase] ?? 0) + 1;
  const outdated = s.workers.filter((w) => w.specHash !== s.specHash && w.phase !== 'gone').length;
  return { workers: byPhase, idleJobs: s.idleJobs, target: s.plan.target, outdated };
}
