import { runBounded } from '../util/run.ts';

/**
 * Jobs share the container's network namespace, so the agent's admin port on 127.0.0.1 (or the container's own
 * address) and a cloud's metadata address are theirs to reach whatever network policy a site writes around the
 * container. Packets that jobs' accounts send there are refused in the container's OUTPUT chain, before HTCondor
 * starts: a rule matches the sending socket's owner, so only the slot accounts are affected, never root (the agent,
 * its CLI, the probes that arrive from outside through INPUT) nor HTCondor's own account.
 */
export interface JobFirewall {
  /** What was refused to jobs, in words, for the log. */
  rules: string[];
  remove(): Promise<void>;
}

/** The address of the instance metadata service on AWS, GCP, Azure, OpenStack (credentials of the host's role). */
export const metadataAddress = '169.254.169.254';
const chain = 'WN-AGENT-JOBS';

const iptables = async (args: readonly string[]): Promise<void> => {
  const result = await runBounded('iptables', ['-w', '5', ...args], { timeoutMs: 10_000 });
  if (!result.ok) throw new Error(`iptables ${args.join(' ')}: ${result.why}`);
};

/**
 * Installs the rules in a chain of the agent's own (made anew: a restarted container keeps its network namespace on
 * some runtimes), jumped to from OUTPUT. `uids` is the slot accounts' range. Throws with iptables' own words when it
 * cannot (no iptables, no CAP_NET_ADMIN): the caller says so and goes on.
 */
export async function installJobFirewall(opts: { adminPort?: number; uids: { first: number; last: number } }): Promise<JobFirewall> {
  const owner = ['-m', 'owner', '--uid-owner', `${opts.uids.first}-${opts.uids.last}`];
  await iptables(['-N', chain]).catch(async () => iptables(['-F', chain]));
  const rules: string[] = [];
  if (opts.adminPort !== undefined) {
    await iptables(['-A', chain, '-p', 'tcp', '--dport', String(opts.adminPort), ...owner, '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    rules.push(`tcp port ${opts.adminPort} (the admin port), any address`);
  }
  await iptables(['-A', chain, '-d', metadataAddress, ...owner, '-j', 'REJECT']);
  rules.push(`${metadataAddress} (cloud instance metadata)`);
  await iptables(['-D', 'OUTPUT', '-j', chain]).catch(() => undefined);
  await iptables(['-I', 'OUTPUT', '1', '-j', chain]);
  return {
    rules,
    remove: async () => {
      await iptables(['-D', 'OUTPUT', '-j', chain]).catch(() => undefined);
      await iptables(['-F', chain]).catch(() => undefined);
      await iptables(['-X', chain]).catch(() => undefined);
    },
  };
}
