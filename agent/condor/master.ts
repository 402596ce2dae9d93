import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { condorPaths } from '../config/options.ts';
import { AgentError } from '../errors.ts';
import { delay } from '../util/wait.ts';

export type MasterState = 'starting' | 'running' | 'stopping' | 'exited';

export interface MasterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether the agent asked for it (stop()) or the master went away on its own. */
  expected: boolean;
  /** The last stage stop() needed: HTCondor's own graceful shutdown, its fast shutdown, or SIGKILL. */
  stoppedBy?: 'graceful' | 'fast' | 'kill';
}

/** How long each escalation stage of stop() may take after the graceful one. */
export const stopStages = { fastShutdownMs: 15_000, killWaitMs: 5_000 };

/**
 * condor_master in the foreground (-f), supervised: one state, one exit promise. It runs in its own process group
 * so that a forced stop takes every HTCondor daemon with it. Signals per condor_master(1): SIGTERM = graceful
 * shutdown (jobs are vacated politely), SIGQUIT = fast shutdown.
 */
export class MasterProcess {
  state: MasterState = 'starting';
  readonly exited: Promise<MasterExit>;
  private readonly child: ChildProcess;
  private stopRequested = false;
  private stoppedBy: MasterExit['stoppedBy'];

  constructor(
    configFile: string,
    onOutput: (line: string, stream: 'stdout' | 'stderr') => void,
    /** The program and its arguments; tests put a fixture program here. */
    command: readonly [string, ...string[]] = [join(condorPaths.sbin, 'condor_master'), '-f'],
  ) {
    const [file, ...args] = command;
    this.child = spawn(file, args, {
      env: { ...process.env, CONDOR_CONFIG: configFile },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      if (readable) createInterface({ input: readable }).on('line', (line) => onOutput(line, stream));
    }
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', (error) => {
        this.state = 'exited';
        reject(new AgentError('WN_ERR_CONDOR_MASTER', `cannot start condor_master: ${error.message}`, { cause: error }));
      });
      this.child.once('exit', (code, signal) => {
        this.state = 'exited';
        resolve({ code, signal, expected: this.stopRequested, ...(this.stoppedBy ? { stoppedBy: this.stoppedBy } : {}) });
      });
    });
    this.exited.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    this.child.once('spawn', () => {
      if (this.state === 'starting') this.state = 'running';
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a signal to the master only (it relays to its daemons as HTCondor intends). ESRCH means already gone. */
  signal(signal: NodeJS.Signals): boolean {
    try {
      return this.child.kill(signal);
    } catch {
      return false;
    }
  }

  killGroup(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private async exitWithin(ms: number): Promise<boolean> {
    const timeout = new AbortController();
    const exited = await Promise.race([
      this.exited.then(
        () => true,
        () => true,
      ),
      delay(ms, timeout.signal).then(() => false),
    ]);
    timeout.abort();
    return exited;
  }

  /**
   * Stops in stages: graceful shutdown for up to `gracefulMs`, then fast shutdown, then SIGKILL of the whole group.
   * Records which stage was needed. Safe to call more than once; later calls can only shorten the wait.
   */
  async stop(gracefulMs: number): Promise<MasterExit> {
    if (this.state !== 'exited') {
      this.stopRequested = true;
      this.state = 'stopping';
      this.stoppedBy = 'graceful';
      this.signal('SIGTERM');
      if (!(await this.exitWithin(gracefulMs))) {
        this.stoppedBy = 'fast';
        this.signal('SIGQUIT');
        if (!(await this.exitWithin(stopStages.fastShutdownMs))) {
          this.stoppedBy = 'kill';
          this.killGroup();
          await this.exitWithin(stopStages.killWaitMs);
        }
      }
    }
    const exit = await this.exited;
    this.killGroup(); // daemons the master left behind in its group
    return exit;
  }
}
