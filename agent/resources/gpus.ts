import { readdir } from 'node:fs/promises';

/**
 * Whether the container was given GPU device nodes (/dev/nvidia0, ...). Without any, HTCondor's GPU discovery (run
 * by the startd before its first ad, on by default since 23.5) can only find nothing, so the agent skips it.
 */
export async function hasGpuDevices(dev = '/dev'): Promise<boolean> {
  const names = await readdir(dev).catch(() => [] as string[]);
  return names.some((name) => /^nvidia\d+$/.test(name) || name === 'kfd');
}
