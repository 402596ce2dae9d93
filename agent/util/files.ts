import { access, rename, writeFile } from 'node:fs/promises';

/** Write-then-rename, so that a reader (a condor tool, the CVMFS client) never reads half a file. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, path);
}

/** Whether a path exists (and is reachable). */
export const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );
