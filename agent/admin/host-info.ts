import { withDeadline } from '../util/wait.ts';

/** The host and the execute directory's disk, for `wn-agent status` and GET /v1/status. */
export interface HostInfo {
  os: string;
  kernel: string;
  /** The filesystem holding the execute directory (job scratch): what a full disk would stop. */
  executeDisk?: { mount: string; sizeBytes: number; usedBytes: number; availableBytes: number } | undefined;
}

/**
 * Host facts from systeminformation, loaded only when an admin first asks (a large module, kept off the path from
 * container start to condor_master), read at most once a minute, and bounded: a `df` that hangs on a stale network
 * mount answers "unknown" after 3 s instead of holding the status request.
 */
export function hostInfoReader(executeDir: string, maxAgeMs = 60_000): () => Promise<HostInfo | undefined> {
  let cached: { at: number; value: Promise<HostInfo | undefined> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > maxAgeMs)
      cached = { at: Date.now(), value: withDeadline(read(executeDir), 3000, () => undefined).catch(() => undefined) };
    return cached.value;
  };
}

async function read(executeDir: string): Promise<HostInfo> {
  const { default: si } = await import('systeminformation');
  const [os, disks] = await Promise.all([si.osInfo(), si.fsSize()]);
  // The longest mount point that is a prefix of the execute directory holds it.
  const disk = disks
    .filter((d) => executeDir === d.mount || executeDir.startsWith(d.mount.endsWith('/') ? d.mount : `${d.mount}/`))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  return {
    os: `${os.distro} ${os.release}`.trim(),
    kernel: os.kernel,
    executeDisk: disk ? { mount: disk.mount, sizeBytes: disk.size, usedBytes: disk.used, availableBytes: disk.available } : undefined,
  };
}
