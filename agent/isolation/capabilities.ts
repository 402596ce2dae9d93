import { readFile } from 'node:fs/promises';

const CAP_SYS_ADMIN = 21n;

/** Whether this process has CAP_SYS_ADMIN, which HTCondor's PID namespaces and MOUNT_UNDER_SCRATCH need. */
export async function hasSysAdmin(statusFile = '/proc/self/status'): Promise<boolean> {
  const text = await readFile(statusFile, 'utf8').catch(() => '');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
}
