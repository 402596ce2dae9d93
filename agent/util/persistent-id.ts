import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** An ID made once and kept in `file`: the same across agent restarts in one container, new in a new container. */
export async function persistentId(file: string): Promise<string> {
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  const id = randomUUID();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${id}\n`);
  return id;
}
