import { runWithin } from './mounts.ts';

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
  revision?: number;
}

// In a child process, under a hard timeout: a stat on a hung FUSE mount can block for minutes, and must block a
// throw-away process, not the agent. Reads the root and its listing (a catalog load on a real CVMFS mount), and the
// revision where the client exposes it (the user.revision extended attribute of cvmfs2).
const script = `
set -e
stat -c %i "$1" >/dev/null
ls -A "$1" >/dev/null
if command -v getfattr >/dev/null 2>&1; then getfattr --only-values -n user.revision "$1" 2>/dev/null || true; fi
`;

export async function probeRepo(dir: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  const result = await runWithin('sh', ['-c', script, 'probe', dir], timeoutMs);
  const ms = Date.now() - started;
  if (!result.ok) return { ok: false, ms, error: result.output };
  const revision = /^\d+$/.test(result.output) ? Number(result.output) : undefined;
  return revision === undefined ? { ok: true, ms } : { ok: true, ms, revision };
}
