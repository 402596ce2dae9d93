import { execFile } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import { BoundedLines } from './bounded-lines.ts';
import { delay } from './wait.ts';

/** A request is one short line (a path and a few words); anything longer is not from the agent's helpers. */
export const maxRequestBytes = 4096;

/**
 * The agent's end of a request/reply handshake with a shell helper in image/libexec: shells speak FIFOs, not sockets.
 * The helper makes its own reply FIFO, writes one line naming it into `requestsPath` (one write under PIPE_BUF is
 * atomic, so concurrent helpers do not interleave) and reads one line back. The agent holds `requestsPath` open
 * read-write, so it never sees end-of-file and a helper's open never blocks while the agent lives. Lines are cut at
 * `maxRequestBytes` as they arrive: a longer one is dropped and reported by its length, never buffered.
 */
export class FifoServer {
  private socket: net.Socket | undefined;

  constructor(
    readonly requestsPath: string,
    private readonly onLine: (line: string) => void,
    /** Who may write requests: 0o600 for root's helpers, 0o622 when job users ask. */
    private readonly mode: number,
    private readonly onOverlong: (bytes: number) => void = () => {},
  ) {}

  async start(): Promise<void> {
    await rm(this.requestsPath, { force: true });
    // Node cannot make a FIFO itself. mkfifo -m sets the mode exactly (no umask), so job users can write to 0o622.
    await promisify(execFile)('mkfifo', ['-m', this.mode.toString(8), this.requestsPath]);
    const fd = openSync(this.requestsPath, constants.O_RDWR | constants.O_NONBLOCK);
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    const lines = new BoundedLines(maxRequestBytes, this.onLine, this.onOverlong);
    this.socket.on('data', (chunk: Buffer) => lines.push(chunk));
  }

  async stop(): Promise<void> {
    // The path goes first: a helper opening it write-only after the agent let go would block with no reader.
    await rm(this.requestsPath, { force: true });
    this.socket?.destroy();
    this.socket = undefined;
  }
}

/** A reply FIFO is opened for writing without blocking (ENXIO while no reader), never through a link. */
const replyOpenFlags = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY;
/** The helper has not opened (or not yet made) its reply FIFO: worth trying again within the wait. */
const readerNotThereYet = (code: string): boolean => code === 'ENXIO' || code === 'ENOENT';

/**
 * Writes one answer into a helper's reply FIFO, then removes the FIFO (the helper holds it open and reads on, and
 * saves an `rm` process on its start path). Opened without blocking and without following a link (ENXIO until the
 * helper's reader is there), for at most `waitMs`; what was opened must be a FIFO (fstat on the handle, not a check
 * of the name before): when job users name the path, root must not be led into writing a file of the job's choosing.
 * Returns an error code, or undefined when the answer was written.
 */
export async function answerFifo(path: string, text: string, waitMs = 2000): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(path, replyOpenFlags);
      try {
        if (!(await handle.stat()).isFIFO()) return 'ENOTFIFO';
        await rm(path, { force: true }); // before the answer: when the helper wakes up, the path is already gone
        await handle.write(text);
      } finally {
        await handle.close().catch(() => undefined);
      }
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      if (!readerNotThereYet(code) || Date.now() > deadline) return code;
      await delay(5);
    }
  }
}

/**
 * answerFifo() in one synchronous step where the reply FIFO is in a directory only root can write to (the placement
 * directory): opening a FIFO without blocking and writing one short line into it cannot wait, and the four
 * thread-pool round trips it saves are on every job's start path. When the helper's reader is not there yet
 * (ENXIO, ENOENT), it goes on as answerFifo() does.
 */
export async function answerRootFifo(path: string, text: string, waitMs = 2000): Promise<string | undefined> {
  let fd: number;
  try {
    fd = openSync(path, replyOpenFlags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return readerNotThereYet(code) ? answerFifo(path, text, waitMs) : code;
  }
  try {
    if (!fstatSync(fd).isFIFO()) return 'ENOTFIFO';
    rmSync(path, { force: true }); // before the answer: when the helper wakes up, the path is already gone
    writeSync(fd, text);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EIO';
  } finally {
    closeSync(fd);
  }
}
