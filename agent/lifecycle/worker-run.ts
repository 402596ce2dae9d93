import type { AgentStatus, JobStartSteps } from '../admin/status.ts';
import type { CondorLayout } from '../condor/layout.ts';
import type { SlotSizes } from '../condor/slot-sizes.ts';
import type { AgentConfig } from '../config/options.ts';
import type { RunningIsolation } from '../isolation/start.ts';
import type { Logger } from '../log/logger.ts';
import type { Traceability } from '../metadata/traceability.ts';
import type { RecentLines } from '../util/recent-lines.ts';
import type { AdvertisedWatch } from './advertised.ts';
import type { Closers } from './closers.ts';
import type { IdleClock } from './idle.ts';
import type { StopController } from './stop-request.ts';
import type { ForwarderPart, JobStartPart, WorkerParts } from './worker-parts.ts';

/**
 * What one worker's phases share (lifecycle/phases/): its configuration, the parts factory, what it knows of itself,
 * and the register of what to stop. Made once by the Worker; each phase reads it and returns what it started.
 */
export interface WorkerRun {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly trace: Traceability;
  readonly layout: CondorLayout;
  readonly parts: WorkerParts;
  readonly status: AgentStatus;
  readonly startedAt: number;
  /** Every part started, stopped in reverse whatever phase the worker reached. */
  readonly closers: Closers;
  /**
   * Parts that call each other once HTCondor runs, set as each starts (a call before then finds nothing to do):
   * placement flushes the forwarder before it reads a slot's size; the forwarder reports HTCondor's OOM kills to
   * isolation; isolation tells the job-start server a starter is gone.
   */
  readonly links: { isolation?: RunningIsolation; forwarder?: ForwarderPart; jobStarts?: JobStartPart };
  readonly steps: JobStartSteps;
  /** Dynamic slots' sizes as the startd logs them. */
  readonly slotSizes: SlotSizes;
  /** HTCondor's last log lines, for an error report. */
  readonly recent: RecentLines;
  readonly stopper: StopController;
  readonly advertised: AdvertisedWatch;
  readonly idle: IdleClock | undefined;
  /** Aborted when the worker stops: background loops end. */
  readonly background: AbortSignal;
}
