import { check, repoRoot, run } from './exec.ts';

/**
 * The private Docker Engine of the tests (scripts/docker-engine.sh): Debian's dockerd 20.10 on a socket of its own,
 * iptables off, driven with Debian's own docker CLI (/usr/bin/docker: another docker earlier on PATH is not used).
 */
export const dockerSocket = '/run/wn-docker/docker.sock';
const script = `${repoRoot}scripts/docker-engine.sh`;

export const dockerEngineUp = (): Promise<string> => check('bash', [script, 'up'], { timeoutMs: 60_000 });
export const dockerEngineDown = (): Promise<string> => check('bash', [script, 'down'], { timeoutMs: 60_000 });

export const docker = (args: readonly string[], env: Record<string, string> = {}): Promise<string> =>
  check('/usr/bin/docker', ['-H', `unix://${dockerSocket}`, ...args], { timeoutMs: 900_000, env });

export const dockerRun = (args: readonly string[], env: Record<string, string> = {}): ReturnType<typeof run> =>
  run('/usr/bin/docker', ['-H', `unix://${dockerSocket}`, ...args], { timeoutMs: 900_000, env });

/** A podman image into dockerd under the same name (no registry): podman save | docker load. */
export const loadFromPodman = (image: string): Promise<string> =>
  check('bash', ['-c', `podman image save --format docker-archive ${image} | /usr/bin/docker -H unix://${dockerSocket} load`], {
    timeoutMs: 600_000,
  });

/** The host's firewall as iptables-save prints it, without counters and comments: what dockerd must leave alone. */
export const firewall = async (): Promise<string> => (await check('iptables-save', [])).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
