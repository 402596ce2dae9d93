import { spawn } from 'node:child_process';
import { BoundedLines } from './bounded-lines.ts';

export interface StreamResult {
  ok: boolean;
  /** Killed at the deadline (SIGKILL). Lines seen before it were handed on; the caller decides what they are worth. */
  timedOut: boolean;
  /** Lines longer than maxLineBytes: dropped as they streamed by, never held. */
  overlong: number;
  /** What went wrong, in one line: "timed out after N ms", or the exit and the last stderr. */
  why: string;
}

/**
 * Runs a program and hands its stdout on line by line, never holding more than one line of at most `maxLineBytes`:
 * for output whose size others decide (condor_q over a pool where any user can submit a 100 KB Requirements, or a
 * million jobs), where runBounded's whole-output buffer would either fill memory or fail at its cap. A hard deadline
 * as in runBounded; stderr keeps its last 4 KiB for the message.
 */
export function streamLines(
  file: string,
  args: readonly string[],
  {
    timeoutMs,
    env,
    maxLineBytes,
    onLine,
  }: { timeoutMs: number; env?: NodeJS.ProcessEnv; maxLineBytes: number; onLine: (line: string) => void },
): Promise<StreamResult> {
  return new Promise((resolve) => {
    let overlong = 0;
    let stderr = '';
    let timedOut = false;
    let failed: string | undefined;
    // A consumer that throws (it is handed what others wrote) ends the run; the throw must not escape a stream event.
    const guarded = (line: string): void => {
      if (failed !== undefined) return;
      try {
        onLine(line);
      } catch (error) {
        failed = `reading its output: ${(error as Error).message}`;
        child.kill('SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
        finish(failed, false);
      }
    };
    const lines = new BoundedLines(maxLineBytes, guarded, () => (overlong += 1));
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let done = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      // A process it forked may still hold the pipes open, and 'close' waits for them: the deadline does not.
      child.stdout.destroy();
      child.stderr.destroy();
      finish(`timed out after ${timeoutMs} ms`, false);
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => lines.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
    function finish(why: string, ok: boolean): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok, timedOut, overlong, why: failed ?? why });
    }
    child.once('error', (error) => finish(error.message, false));
    child.once('close', (code, signal) => {
      if (timedOut) return finish(`timed out after ${timeoutMs} ms`, false);
      if (failed !== undefined) return finish(failed, false);
      if (code === 0) {
        lines.push(Buffer.from('\n')); // a last line without a newline still counts
        return finish('', true);
      }
      finish(`exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, false);
    });
  });
}
