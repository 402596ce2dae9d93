import { execFile } from 'node:child_process';

export interface BoundedResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Killed at the deadline (SIGKILL): a hung FUSE mount or an unanswering collector. */
  timedOut: boolean;
  /** What went wrong, in one line: "timed out after N ms", or the exit and the last lines of stderr. */
  why: string;
}

/**
 * Runs a program with a hard deadline and bounded output, never through a shell: every external command the agent
 * starts goes through here, so none can hang a control loop or fill memory.
 */
export function runBounded(
  file: string,
  args: readonly string[],
  { timeoutMs, env, maxBuffer = 1 << 20 }: { timeoutMs: number; env?: NodeJS.ProcessEnv; maxBuffer?: number },
): Promise<BoundedResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout, stderr, timedOut: false, why: '' });
      // execFile also kills a child whose output went over maxBuffer: that is not a timeout.
      const overflowed = (error as { code?: unknown }).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
      const timedOut = error.killed === true && !overflowed;
      const ended = error.signal ? `killed by ${error.signal}` : `exit ${String(error.code)}`; // a signal: a limit's, say
      const why = overflowed
        ? `output over ${maxBuffer} bytes`
        : timedOut
          ? `timed out after ${timeoutMs} ms`
          : `${ended}: ${stderr.trim().split('\n').slice(-3).join(' | ') || error.message.split('\n')[0]}`;
      resolve({ ok: false, stdout, stderr, timedOut, why });
    });
  });
}
