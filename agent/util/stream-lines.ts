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
    const lines = new BoundedLines(maxLineBytes, onLine, () => (overlong += 1));
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => lines.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
    const finish = (why: string, ok: boolean): void => {
      clearTimeout(timer);
      resolve({ ok, timedOut, overlong, why });
    };
    child.once('error', (error) => finish(error.message, false));
    child.once('close', (code, signal) => {
      if (timedOut) return finish(`timed out after ${timeoutMs} ms`, false);
      if (code === 0) {
        lines.push(Buffer.from('\n')); // a last line without a newline still counts
        return finish('', true);
      }
      finish(`exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, false);
    });
  });
}
