import type { MasterExit } from '../condor/master.ts';
import type { ExitCode } from '../errors.ts';
import type { DrainResult } from './drain.ts';
import type { StopReason } from './stop-request.ts';

/** The agent's last log line (event `summary`): why it ended, with which exit code, and what it did. */
export interface RunSummary {
  reason: StopReason | 'error';
  exitCode: ExitCode;
  uptimeS: number;
  jobsRun: number;
  jobsVacated: number;
  masterRestarts: number;
  signal?: NodeJS.Signals;
  master?: MasterExit;
  drain?: DrainResult;
  error?: { code: string; message: string };
}
