import { stopLeftoverDaemons } from '../condor/leftovers.ts';
import type { MasterExit, MasterProcess } from '../condor/master.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { delay } from '../util/wait.ts';
import { RestartBudget } from './backoff.ts';

export interface SupervisorOptions {
  /** Starts condor_master (a fresh process each time). */
  start: () => MasterProcess;
  /** Restarts allowed within 10 minutes before the agent gives up (--master-restarts). */
  maxRestarts: number;
  log: Logger;
  /** After a restart: the startd must be seen in the collector again. */
  onRestarted: () => void;
  /** HTCondor's last log lines, for the error when the budget is spent. */
  recentLog: () => string[];
  /** Stops the dead master's daemons before a new one starts; returns how many (default: every condor daemon in /proc). */
  stopLeftovers?: () => Promise<number>;
  /** The first restart's delay, doubled for each further restart within the window (default 1 s). */
  baseDelayMs?: number;
}

/**
 * Keeps condor_master running: an exit nobody asked for is followed by a restart with backoff, up to the budget;
 * then `failed` resolves with the error the agent exits with (exit code 3).
 */
export class MasterSupervisor {
  current: MasterProcess;
  readonly failed: Promise<AgentError>;
  restarts = 0;
  private resolveFailed: (error: AgentError) => void = () => {};
  private stopping = false;
  private readonly budget: RestartBudget;

  private readonly log: Logger;

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.log;
    this.budget = new RestartBudget(options.maxRestarts, 10 * 60_000, options.baseDelayMs);
    this.failed = new Promise((resolve) => (this.resolveFailed = resolve));
    this.current = this.launch();
  }

  private launch(): MasterProcess {
    const master = this.options.start();
    this.log.info({ event: 'master-started', pid: master.pid, restarts: this.restarts }, 'condor_master started');
    void this.watch(master);
    return master;
  }

  private async watch(master: MasterProcess): Promise<void> {
    let exit: MasterExit;
    try {
      exit = await master.exited;
    } catch (error) {
      this.resolveFailed(error as AgentError);
      return;
    }
    if (this.stopping || exit.expected) return;
    this.log.error(
      { event: 'master-exited', ...exit },
      `condor_master exited unexpectedly (code ${String(exit.code)}, signal ${String(exit.signal)})`,
    );
    const delayMs = this.budget.next(Date.now());
    if (delayMs === undefined) {
      this.resolveFailed(
        new AgentError(
          'WN_ERR_CONDOR_MASTER',
          `condor_master exited unexpectedly ${this.restarts + 1} times within 10 minutes; giving up (--master-restarts)`,
          {
            details: { master: exit, recentCondorLog: this.options.recentLog() },
          },
        ),
      );
      return;
    }
    const leftovers = await (this.options.stopLeftovers ?? stopLeftoverDaemons)();
    this.log.warn(
      { event: 'master-restarting', delayMs, restarts: this.restarts + 1, stoppedDaemons: leftovers },
      `restarting condor_master in ${delayMs} ms`,
    );
    await delay(delayMs);
    if (this.stopping) return;
    this.restarts += 1;
    this.current = this.launch();
    this.options.onRestarted();
  }

  async stop(gracefulMs: number): Promise<MasterExit> {
    this.stopping = true;
    return this.current.stop(gracefulMs);
  }
}
