import { chmod, lstat, mkdir, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseMountInfo } from '../util/mountinfo.ts';
import { runBounded } from '../util/run.ts';
import { AgentError } from '../errors.ts';
import type { AgentConfig } from '../config/options.ts';
import { optionName } from '../config/parse.ts';

/** A secret as the operator mounted it: the pool password, the token directory, the admin token, the TLS key. */
export interface SecretSource {
  path: string;
  /** How the operator names it in messages: "--pool-password-file (WN_POOL_PASSWORD_FILE)". */
  option: string;
  kind: 'file' | 'dir';
}

export interface HiddenSecret {
  path: string;
  /** What now sits on it: an empty read-only tmpfs (a mounted directory), an empty file, or nothing (already private). */
  how: 'covered-dir' | 'covered-file' | 'private';
  /** The path that was covered: the mount point, or the link's target for a Kubernetes secret's key. */
  covered?: string;
}

export interface HideOptions {
  /** An empty file (mode 0444) to bind over secret files. */
  emptyFile: string;
  /** Directories the agent or HTCondor read later (site configuration): a mount holding one is never covered whole. */
  keep: readonly string[];
  /** The mount table (tests); default /proc/self/mountinfo. */
  mountinfo?: string;
  mount?: (args: readonly string[]) => Promise<void>;
}

const runMount = async (args: readonly string[]): Promise<void> => {
  const result = await runBounded('mount', args, { timeoutMs: 10_000 });
  if (!result.ok) throw new Error(`mount ${args.join(' ')}: ${result.why}`);
};

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * After the credentials are copied, the mounted originals must be out of every job's reach, whatever mode the operator
 * mounted them with (a Kubernetes secret volume is 0644 unless told otherwise, and HTCondor's per-job mount namespace
 * remaps only /proc, /tmp and /var/tmp). Done in the container's mount namespace before condor_master starts, so every
 * daemon, starter and job inherits it:
 * - a secret directory that is a mount point (the token directory, or the directory a pool password file is mounted
 *   in, Kubernetes style, with its ..data links) gets an empty read-only tmpfs over it;
 * - a secret file otherwise gets an empty read-only file bound over it (over the link's target where it is a link).
 * Where nothing can be mounted (no CAP_SYS_ADMIN), a secret readable by no one but root is left as it is; any other
 * stops the agent with a message naming the file and the fix. Each covered path is then read back empty.
 */
export async function hideSecretSources(sources: readonly SecretSource[], options: HideOptions): Promise<HiddenSecret[]> {
  const mount = options.mount ?? runMount;
  const mounts = parseMountInfo(options.mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8')));
  const isMountPoint = (path: string): boolean => mounts.some((m) => m.mountPoint === path);
  const coverable = (dir: string): boolean => dir !== '/' && isMountPoint(dir) && !options.keep.some((kept) => within(kept, dir));
  await mkdir(dirname(options.emptyFile), { recursive: true });
  await writeFile(options.emptyFile, '', { mode: 0o444 });
  await chmod(options.emptyFile, 0o444);

  const hidden: HiddenSecret[] = [];
  const coveredDirs: string[] = [];
  for (const source of sources) {
    const present = await lstat(source.path).then(
      () => true,
      () => false,
    );
    if (!present) continue;
    const real = await realpath(source.path);
    if (coveredDirs.some((dir) => within(real, dir))) continue;
    // The directory to cover whole: the token directory itself, or the directory a single secret is mounted in.
    const dir = source.kind === 'dir' ? real : dirname(source.path);
    if (coverable(dir)) {
      const failure = await mount(['-t', 'tmpfs', '-o', 'ro,nosuid,nodev,noexec,mode=0555,size=4k', 'wn-agent-hidden', dir]).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      if (!failure) {
        if ((await readdir(dir)).length !== 0) throw hideError(source, dir, 'it is still not empty after covering it');
        coveredDirs.push(dir);
        hidden.push({ path: source.path, how: 'covered-dir', covered: dir });
        continue;
      }
      await requirePrivate(source, real, failure);
      hidden.push({ path: source.path, how: 'private' });
      continue;
    }
    const files = source.kind === 'file' ? [real] : await filesIn(real);
    for (const file of files) {
      const failure = await mount(['--bind', '-o', 'ro', options.emptyFile, file]).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      if (failure) {
        await requirePrivate(source, file, failure);
        hidden.push({ path: file, how: 'private' });
        continue;
      }
      if ((await stat(file)).size !== 0) throw hideError(source, file, 'it still has content after covering it');
      hidden.push({ path: file, how: 'covered-file', covered: file });
    }
  }
  return hidden;
}

async function filesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const real = await realpath(join(dir, name)).catch(() => undefined);
    if (real && (await stat(real)).isFile() && !out.includes(real)) out.push(real);
  }
  return out;
}

/** Without a mount, a secret may stay only if no job's user can read it: owned by root, no group or other bits. */
async function requirePrivate(source: SecretSource, path: string, failure: Error): Promise<void> {
  const files = (await stat(path)).isDirectory() ? await filesIn(path) : [path];
  for (const file of files) {
    const { uid, mode } = await stat(file);
    if (uid === 0 && (mode & 0o077) === 0) continue;
    throw hideError(
      source,
      file,
      `it is readable by jobs (owner ${uid}, mode 0${(mode & 0o777).toString(8)}) and cannot be hidden from them ` +
        `(${failure.message.split('\n')[0] ?? 'mount failed'}). Mount it owned by root with mode 0400 ` +
        `(Kubernetes: defaultMode: 0400), or give the container CAP_SYS_ADMIN so that the agent can cover it`,
    );
  }
}

function hideError(source: SecretSource, path: string, why: string): AgentError {
  return new AgentError('WN_ERR_CREDENTIALS', `${source.option} = ${source.path}: ${path}: ${why}`);
}

export const kubernetesServiceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Every secret the operator mounted: read by now, and never needed again from where it was mounted. */
export function secretSources(config: AgentConfig): SecretSource[] {
  const sources: SecretSource[] = [
    { path: config.poolPasswordFile, option: optionName('pool-password-file'), kind: 'file' },
    { path: config.tokenDir, option: optionName('token-dir'), kind: 'dir' },
  ];
  if (config.adminTokenFile) sources.push({ path: config.adminTokenFile, option: optionName('admin-token-file'), kind: 'file' });
  if (config.adminTls) sources.push({ path: config.adminTls.keyFile, option: optionName('admin-tls-key'), kind: 'file' });
  // Kubernetes mounts the pod's API token world-readable unless the pod says automountServiceAccountToken: false;
  // nothing here uses it, and a job must not get it.
  sources.push({
    path: kubernetesServiceAccountDir,
    option: 'the Kubernetes service-account token (automountServiceAccountToken)',
    kind: 'dir',
  });
  return sources;
}
