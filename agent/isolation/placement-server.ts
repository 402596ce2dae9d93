import { mkdir, chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { answerFifo, FifoServer } from '../util/fifo-server.ts';

export interface PlacementRequest {
  /** The starter wrapper's PID: it execs condor_starter, so this is the starter's PID too. */
  pid: number;
  /** The slot the startd names with -a (slot1_1). */
  slot: string;
}

export type PlacementAnswer = { ok: true } | { ok: false; reason: string };

/**
 * The agent's end of the handshake with image/libexec/starter-wrapper: the wrapper writes "<pid> <slot> <reply fifo>"
 * into `requests` and reads one line, "ok" or "deny <reason>", from its own reply FIFO. The directory is root's alone
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
    const failed = await answerFifo(reply, answer.ok ? 'ok\n' : `deny ${answer.reason.replace(/\s+/g, ' ').slice(0, 300)}\n`);
    if (failed) this.onProblem('cannot answer the starter wrapper', { path: reply, code: failed });
  }
}
