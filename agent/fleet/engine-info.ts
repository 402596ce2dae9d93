import type { DockerApi } from './docker.ts';
import type { HostFacts } from './prototype.ts';

/**
 * The engine host's CPUs and memory (GET /info: NCPU, MemTotal), which a worker whose spec sets no limit sees.
 * Undefined when the engine does not say: the prototype then falls back to its own defaults.
 */
export async function engineHost(api: DockerApi): Promise<HostFacts | undefined> {
  const info = await api.call<{ NCPU?: unknown; MemTotal?: unknown }>('GET', '/info').catch(() => undefined);
  const cpus = Number(info?.NCPU);
  const memory = Number(info?.MemTotal);
  if (!(cpus > 0) || !(memory > 0)) return undefined;
  return { cpus, memoryMiB: Math.floor(memory / 1048576) };
}
