import { execFile } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { close, open, write } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { delay } from '../util/wait.ts';

export interface PlacementRequest {
  /** The starter wrapper's PID: it execs condor_starter, so this is the starter's PID too. */
  pid: number;
  /** The slot the startd names with -a (slot1_1). */
  slot: string;
}

export type PlacementAnswer = { ok: true } | { ok: false; reason: string };

const openAsync = promisify(open);
const writeAsync = promisify(write);
const closeAsync = promisify(close);

/**
 * The agent's end of the handshake with image/libexec/starter-wrapper. POSIX sh speaks FIFOs, not sockets: the wrapper
 * writes "<pid> <slot> <reply fifo>" into `requests` (one write under PIPE_BUF is atomic, so concurrent wrappers do not
 * interleave) and reads one line, "ok" or "deny <reason>", from its own reply FIFO. The directory is root's alone
 * (0700): a job cannot ask for anything. The agent holds `requests` open read-write, so it never sees end-of-file.
 */
export class PlacementServer {
  readonly requestsPath: string;
  private socket: net.Socket | undefined;

  constructor(
    readonly dir: string,
    private readonly handle: (request: PlacementRequest) => Promise<PlacementAnswer>,
    private readonly onProblem: (message: string, details: Record<string, unknown>) => void,
    private readonly timeoutS: number,
  ) {
    this.requestsPath = join(dir, 'requests');
  }

  async start(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    await writeFile(join(this.dir, 'timeout'), `${this.timeoutS}\n`);
    await promisify(execFile)('mkfifo', ['-m', '600', this.requestsPath]);
    const fd = openSync(this.requestsPath, constants.O_RDWR | constants.O_NONBLOCK);
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    createInterface({ input: this.socket }).on('line', (line) => void this.onLine(line));
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
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
    await this.reply(reply, answer.ok ? 'ok\n' : `deny ${answer.reason.replace(/\s+/g, ' ').slice(0, 300)}\n`);
  }

  /** Opens the reply FIFO without blocking (ENXIO until the wrapper's reader is there), for at most 2 s. */
  private async reply(path: string, text: string): Promise<void> {
    const deadline = Date.now() + 2000;
    for (;;) {
      try {
        const fd = await openAsync(path, constants.O_WRONLY | constants.O_NONBLOCK);
        try {
          await writeAsync(fd, text);
        } finally {
          await closeAsync(fd);
        }
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENXIO' && code !== 'ENOENT') || Date.now() > deadline) {
          this.onProblem('cannot answer the starter wrapper', { path, code });
          return;
        }
        await delay(5);
      }
    }
  }
}
