import { lstat, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseMountInfo } from '../util/mountinfo.ts';
import { readUntrustedFile, UntrustedFileError } from '../util/untrusted-file.ts';

/**
 * A job's scratch directory (EXECUTE/dir_<starter pid>) belongs to the job's user: everything in it is untrusted.
 * Before anything in it is touched, the mount table (procfs: never blocks) must show no mount at or under it, since
 * a path on a FUSE mount that its owner stopped answering would hang the lookup itself, not only the read.
 */
async function checkScratch(scratch: string): Promise<number[]> {
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  if (mounts.some((m) => m.mountPoint === scratch || m.mountPoint.startsWith(`${scratch}/`)))
    throw new UntrustedFileError('EXDEV', scratch);
  const dir = await lstat(scratch).catch((error: NodeJS.ErrnoException) => {
    throw new UntrustedFileError(error.code ?? 'EIO', scratch);
  });
  if (!dir.isDirectory()) throw new UntrustedFileError('ENOTDIR', scratch);
  // EXECUTE itself belongs to HTCondor's daemon account, which writes .job.ad and .machine.ad into the scratch.
  const execute = await lstat(dirname(scratch)).catch(() => undefined);
  return execute ? [dir.uid, execute.uid] : [dir.uid];
}

/** A file the starter wrote into the scratch directory (as the job's user, HTCondor's account or root), read as untrusted input. */
export async function readScratchFile(scratch: string, name: string, maxBytes: number, timeoutMs = 2000): Promise<string> {
  const owners = await checkScratch(scratch);
  return readUntrustedFile(join(scratch, name), { maxBytes, timeoutMs, owners: [...owners, 0] });
}

/**
 * Several files of one scratch directory, read as untrusted input after one check of the directory (the job-start
 * path reads two): each one's text, or the error that kept it.
 */
export async function readScratchFiles(
  scratch: string,
  files: readonly { name: string; maxBytes: number }[],
  timeoutMs = 2000,
): Promise<(string | Error)[]> {
  const owners = [...(await checkScratch(scratch)), 0];
  return Promise.all(
    files.map(({ name, maxBytes }) =>
      readUntrustedFile(join(scratch, name), { maxBytes, timeoutMs, owners }).catch((error: unknown) => error as Error),
    ),
  );
}

/** A job ad with a large environment runs to a few hundred KiB; only ClusterId and ProcId are wanted. */
export const maxJobAdBytes = 1 << 20;

/** "Cluster.Proc" from the text of a job ad, or undefined. */
export function jobIdFromAd(text: string): string | undefined {
  // The job can rewrite its own .job.ad: an ID is validated, not merely parsed (it reaches events, logs and /v1/status).
  const cluster = /^ClusterId = ([1-9]\d{0,9}|0)$/m.exec(text)?.[1];
  const proc = /^ProcId = (\d{1,6})$/m.exec(text)?.[1];
  return cluster && proc ? `${cluster}.${proc}` : undefined;
}

/** "Cluster.Proc" from the starter's copy of the job ad, or undefined when it cannot be read. */
export async function jobIdIn(scratch: string): Promise<string | undefined> {
  const text = await readScratchFile(scratch, '.job.ad', maxJobAdBytes).catch(() => undefined);
  return text === undefined ? undefined : jobIdFromAd(text);
}
