import { mkdir, chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { answerRootFifo, FifoServer } from '../util/fifo-server.ts';

export interface PlacementRequest {
  /** The starter wrapper's PID: it execs condor_starter, so this is the starter's PID too. */
  pid: number;
  /** The slot the startd names with -a (slot1_1). */
  slot: string;
}

/**
 * `condorCgroup`: HTCondor's BASE_CGROUP for this starter (the wrapper exports it as _CONDOR_BASE_CGROUP), when
 * HTCondor's own cgroup code nests the job's cgroup in the slot's.
 */
export type PlacementAnswer = { ok: true; condorCgroup?: string } | { ok: false; reason: string };

/** A BASE_CGROUP the wrapper may export: a relative cgroup path, nothing a shell or HTCondor's parser would read further. */
const cgroupPathPattern = /^[A-Za-z0-9_.@-]+(?:\/[A-Za-z0-9_.@-]+)*$/;

export const isPlainCgroupPath = (path: string): boolean =>
  cgroupPathPattern.test(path) && !path.split('/').some((part) => part === '..' || part === '.');

/**
 * The agent's end of the handshake with image/libexec/starter-wrapper: the wrapper writes "<pid> <slot> <reply fifo>"
 * into `requests` and reads one line, "ok [<BASE_CGROUP>]" or "deny <reason>", from its own reply FIFO. The directory is root's alone
 * (0700): a job cannot ask for anything.
 */
export class PlacementServer {
  private readonly fifo: FifoServer;

  constructor(
    readonly dir: string,
    private readonly handle: (request: PlacementRequest) => Promise<PlacementAnswer>,
    private readonly onProblem: (message: string, details: Record<string, unknown>) => void,
    private readonly timeoutS: number,
  ) {
    this.fifo = new FifoServer(join(dir, 'requests'), (line) => void this.onLine(line), 0o600);
  }

  get requestsPath(): string {
    return this.fifo.requestsPath;
  }

  async start(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    await writeFile(join(this.dir, 'timeout'), `${this.timeoutS}\n`);
    await this.fifo.start();
  }

  async stop(): Promise<void> {
    await this.fifo.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async onLine(line: string): Promise<void> {
    const match = /^(\d+) (slot\d+(?:_\d+)?) (\S+)$/.exec(line.trim());
    if (!match) {
      this.onProblem('malformed placement request', { line: line.slice(0, 200) });
      return;
    }
    const [, pid, slot, reply] = match;
    if (!reply?.startsWith(`${this.dir}/reply.`)) {
      this.onProblem('placement reply path outside the placement directory', { reply });
      return;
    }
    let answer: PlacementAnswer;
    try {
      answer = await this.handle({ pid: Number(pid), slot: slot ?? '' });
    } catch (error) {
      answer = { ok: false, reason: (error as Error).message };
    }
    const failed = await answerRootFifo(reply, answerLine(answer));
    if (failed) this.onProblem('cannot answer the starter wrapper', { path: reply, code: failed });
  }
}

export function answerLine(answer: PlacementAnswer): string {
  if (!answer.ok) return `deny ${answer.reason.replace(/\s+/g, ' ').slice(0, 300)}\n`;
  if (answer.condorCgroup === undefined) return 'ok\n';
  // Fail closed: a path the wrapper could not use safely is a refusal, and the job goes back to the queue.
  const path = answer.condorCgroup;
  if (!isPlainCgroupPath(path)) return 'deny the cgroup path for HTCondor is not a plain relative path\n';
  return `ok ${path}\n`;
}
