import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** runc and rlimits that work on these hosts, as the scripts use them (scripts/containers.conf). */
export const containersConf = `${repoRoot}scripts/containers.conf`;
export const image = process.env.WN_IMAGE_TAG ?? 'localhost/wn-agent:dev';
/** The image with the squashfuse stand-in for the CVMFS client (Dockerfile VARIANT=test). */
export const testImage = process.env.WN_TEST_IMAGE_TAG ?? 'localhost/wn-agent:test';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit (tests assert on the code). */
export function run(
  file: string,
  args: readonly string[],
  { timeoutMs = 120_000, input, env }: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, CONTAINERS_CONF: containersConf, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Like run(), but a non-zero exit is an error carrying stderr. */
export async function check(
  file: string,
  args: readonly string[],
  options?: { timeoutMs?: number; input?: string; env?: Record<string, string> },
): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0)
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

export const podman = (args: readonly string[], options?: { timeoutMs?: number; input?: string }): Promise<string> =>
  check('podman', args, options);
