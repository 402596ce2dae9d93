import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** What one run of a check says: ok, or why not in one line. */
export interface CheckResult {
  ok: boolean;
  /** Why it failed: "exit 3: <first line>", "timed out after 30 s", "killed by SIGSEGV", "cannot run: EACCES". */
  reason?: string | undefined;
  durationMs: number;
}

export interface RunCheckOptions {
  timeoutMs: number;
  /** The whole environment of the check: nothing of the agent's own is passed on. */
  env: Record<string, string>;
  /** Bytes kept of stdout and of stderr each; the rest is read and dropped. */
  maxOutputBytes?: number;
  /** Ends the check at once (the agent is stopping); the result then says "stopped". */
  signal?: AbortSignal;
}

export const checkLimits = {
  maxOutputBytes: 4096,
  maxReasonLength: 200,
  /** After the check exits, how long its pipes may stay open: a descendant that left its process group holds them. */
  closeGraceMs: 1000,
} as const;

/**
 * Runs one site check: no arguments, no shell, stdin closed, in its own process group (detached), so that at the
 * deadline and again after it exits the whole group is killed and nothing it forked outlives it. Output is read to
 * the end but only the first bytes are kept: a check that floods its stdout costs no memory.
 */
export async function runCheck(file: string, options: RunCheckOptions): Promise<CheckResult> {
  const { timeoutMs, env, maxOutputBytes = checkLimits.maxOutputBytes, signal } = options;
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (signal?.aborted) return { ok: false, reason: 'stopped', durationMs: 0 };
  let child: ChildProcess;
  try {
    child = spawn(file, [], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env, cwd: '/' });
  } catch (error) {
    return { ok: false, reason: `cannot run: ${errorCode(error)}`, durationMs: elapsed() };
  }
  const stdout = keepFirst(child.stdout, maxOutputBytes);
  const stderr = keepFirst(child.stderr, maxOutputBytes);
  let timedOut = false;
  let stopped = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, timeoutMs);
  const onAbort = (): void => {
    stopped = true;
    killGroup(child.pid);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: Error }>((resolve) => {
    child.on('error', (error) => resolve({ error })); // `on`: a second error must not go unhandled
    child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
  });
  clearTimeout(timer);
  signal?.removeEventListener('abort', onAbort);
  // What the check forked and left behind (a sleep, a daemon) is in its group: killed now, not at the next round.
  killGroup(child.pid);
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([stdout.closed, stderr.closed]),
    new Promise((resolve) => (grace = setTimeout(resolve, checkLimits.closeGraceMs))),
  ]);
  clearTimeout(grace);
  child.stdout?.destroy();
  child.stderr?.destroy();
  const durationMs = elapsed();

  if (stopped) return { ok: false, reason: 'stopped', durationMs };
  if ('error' in ended) return { ok: false, reason: `cannot run: ${errorCode(ended.error)}`, durationMs };
  if (timedOut) return { ok: false, reason: `timed out after ${seconds(timeoutMs)}`, durationMs };
  if (ended.code === 0) return { ok: true, durationMs };
  const line = firstLine(stdout.text()) ?? firstLine(stderr.text());
  const how = ended.signal ? `killed by ${ended.signal}` : `exit ${String(ended.code)}`;
  return { ok: false, reason: line ? `${how}: ${line}` : how, durationMs };
}

/** Kills the check's process group; ESRCH (all gone already) is the usual answer after it exited. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group. Nothing else can fail here: the group is the agent's own child's.
  }
}

interface Kept {
  text(): string;
  closed: Promise<void>;
}

/** Reads a stream to its end and keeps its first `max` bytes. */
function keepFirst(stream: Readable | null, max: number): Kept {
  const chunks: Buffer[] = [];
  let size = 0;
  const closed = new Promise<void>((resolve) => {
    if (!stream) return resolve();
    stream.on('data', (chunk: Buffer) => {
      if (size >= max) return;
      const part = chunk.subarray(0, max - size);
      chunks.push(part);
      size += part.length;
    });
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
  return { text: () => Buffer.concat(chunks).toString('utf8'), closed };
}

/** The first non-empty line, control characters as spaces, at most 200 characters (an ellipsis marks a cut). */
export function firstLine(text: string): string | undefined {
  const line = text
    .split('\n')
    .map((l) => l.replace(/[\u0000-\u001f\u007f]/g, ' ').trim())
    .find((l) => l !== '');
  if (line === undefined) return undefined;
  const chars = Array.from(line);
  return chars.length <= checkLimits.maxReasonLength ? line : `${chars.slice(0, checkLimits.maxReasonLength - 1).join('')}…`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
