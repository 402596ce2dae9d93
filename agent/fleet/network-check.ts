import { AgentError } from '../errors.ts';
import type { DockerApi } from './docker.ts';
import { received, specError } from './spec-error.ts';

/**
 * Network modes that are not a network of their own: the host's stack (a worker's jobs would reach everything the host
 * does), none, another container's or a namespace's, or a rootless user-mode stack.
 */
const notANetwork = [/^host$/i, /^none$/i, /^private$/i, /^slirp4netns/i, /^pasta/i, /^container:/i, /^ns:/i];

/** A network name as Docker and podman accept one (a mode such as container:<id> or a path has ":" or "/"). */
const networkName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkNetworkName(name: string, where: string): void {
  if (notANetwork.some((mode) => mode.test(name)) || !networkName.test(name))
    throw specError(where, 'network', 'the name of a bridge network (not host, none, private, slirp4netns, pasta, container:, ns:)', name);
}

/**
 * The engine's word on the network: a bridge one, whose workers sit behind the engine's NAT. A name alone cannot say
 * (a macvlan or ipvlan network puts workers on the host's segment). An engine that cannot answer, or does not know
 * the name, fails the call (WN_ERR_FLEET_BACKEND): that is no verdict on the network.
 */
export async function checkBridgeNetwork(api: DockerApi, name: string): Promise<void> {
  const network = await api.call<{ Driver?: unknown } | undefined>('GET', `/networks/${encodeURIComponent(name)}`);
  const driver = network?.Driver ?? null;
  if (driver !== 'bridge')
    throw new AgentError('WN_ERR_CONFIG', `--spec: "network" must be a bridge network, got ${received(name)} (driver ${received(driver)})`);
}

/** Names remembered at most: a spec names one network, so this only bounds a file rewritten again and again. */
const verdictLimit = 64;

/**
 * checkBridgeNetwork once per name for the life of a controller (a network's driver is set when it is created);
 * a failed call is asked again next time, since it says nothing about the network.
 */
export function bridgeNetworkCheck(api: DockerApi): (name: string) => Promise<void> {
  const verdicts = new Map<string, AgentError | undefined>();
  return async (name) => {
    if (!verdicts.has(name)) {
      const verdict = await checkBridgeNetwork(api, name).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof AgentError && error.code === 'WN_ERR_CONFIG') return error;
          throw error;
        },
      );
      if (verdicts.size >= verdictLimit) verdicts.clear();
      verdicts.set(name, verdict);
    }
    const refused = verdicts.get(name);
    if (refused) throw refused;
  };
}
