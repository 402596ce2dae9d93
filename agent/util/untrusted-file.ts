import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Limiter } from './limiter.ts';
import { withDeadline } from './wait.ts';

/**
 * Reading a file someone else controls (a job's scratch directory): opened without following a link and without
 * blocking (a FIFO or a device would otherwise hold a libuv thread for good), checked on the opened handle to be a
 * regular file of bounded size, read with a deadline. At most two such reads run at once, so even a read that hangs
 * (a file on a stuck FUSE mount) holds two of libuv's four threads, never all of them: placement, log forwarding and
 * the drain keep their file operations.
 */
export class UntrustedFileError extends Error {
  override readonly name = 'UntrustedFileError';
  constructor(
    /** ELOOP (a link), ENOTREG (FIFO, device, directory), EPERM (owner), EMLINK (hard link), EFBIG, ETIMEDOUT, EBUSY (reads hang), or the open's code. */
    readonly code: string,
    path: string,
  ) {
    super(`${path}: refused (${code})`); // never the file's content: it may be anything the job pointed at
  }
}

const openFlags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY;
const limiter = new Limiter(2, 16);

export interface UntrustedReadOptions {
  maxBytes: number;
  timeoutMs: number;
  /** The file must belong to one of these users (the scratch directory's owner, root): not to another job. */
  owners?: readonly number[] | undefined;
}

export async function readUntrustedFile(path: string, options: UntrustedReadOptions): Promise<string> {
  // The limiter's slot is held until the read itself settles, not the deadline: a hung read keeps its slot.
  const run = limiter.tryRun(() => readBounded(path, options));
  if (!run) throw new UntrustedFileError('EBUSY', path);
  return withDeadline(run, options.timeoutMs, () => {
    throw new UntrustedFileError('ETIMEDOUT', path);
  });
}

async function readBounded(path: string, { maxBytes, owners }: UntrustedReadOptions): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, openFlags);
  } catch (error) {
    throw new UntrustedFileError((error as NodeJS.ErrnoException).code ?? 'EIO', path);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UntrustedFileError('ENOTREG', path);
    if (owners !== undefined && !owners.includes(stat.uid)) throw new UntrustedFileError('EPERM', path);
    // A second name means a hard link a job made to a file it did not write (where fs.protected_hardlinks allows it).
    if (stat.nlink !== 1) throw new UntrustedFileError('EMLINK', path);
    if (stat.size > maxBytes) throw new UntrustedFileError('EFBIG', path);
    const buffer = Buffer.alloc(Math.min(maxBytes, stat.size));
    // The file can grow after the fstat: the buffer is the cap, whatever the size says now.
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}
