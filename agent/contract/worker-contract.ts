/**
 * What a fleet controller and the workers it starts agree on, in one place. The fleet imports the worker's side only
 * through agent/contract/ (a lint rule keeps it so): the names of the worker's variables and flags, its admin port,
 * the attribute that names a fleet, the status body, and the worker's own reading of its options, so that a spec
 * the worker would refuse is refused by the fleet, and the fleet's picture of a worker is the worker's own.
 */
import yargs from 'yargs';
import { withOptions } from '../util/option-table.ts';
import type { AgentConfig } from '../config/options.ts';
import { attributeEnvPrefix, parseConfig } from '../config/parse.ts';
import { runOptions, type RawOptions } from '../config/run-options.ts';
import { configError } from '../errors.ts';

export { attributeEnvPrefix };
export type { AgentConfig };
export type { AgentStatusBody, ReceivedStatusBody } from './status-body.ts';
export { healthAttribute } from '../cvmfs/attributes.ts';
export { classAdString } from '../condor/classad.ts';
export { condorPaths, defaults } from '../config/options.ts';
export { kubernetesServiceAccountDir } from '../condor/hide-secrets.ts';
export { readAdminToken } from '../config/admin-token.ts';
export { parseDuration } from '../config/units.ts';
export { runOptions };

/** The port a worker's agent serves its admin API on (--admin-listen's default). */
export const adminPort = 9680;
/** The variable that gives a worker its task ID (ContainerTaskId): the fleet gives each its own name. */
export const taskIdEnv = 'WN_TASK_ID';
/** The worker's admin token and its other admin options: the fleet's to give, never a spec's. */
export const adminEnvPrefix = 'WN_ADMIN';
/** The attribute every worker of a fleet advertises with the fleet's name, so jobs can ask for the fleet. */
export const fleetAttribute = 'WnFleet';

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * A worker's options as its own CLI reads them from a container's environment and arguments: WN_<FLAG> variables
 * (WN_ATTR_<Name> are attributes, handed to parseConfig), then the flags, which win. An unknown WN_* variable or
 * flag is refused, as the worker's strict command line refuses it (exit 2).
 */
function rawOptionsOf(env: Record<string, string>, args: readonly string[]): RawOptions {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('WN_') || key.startsWith(attributeEnvPrefix)) continue;
    const flag = key.slice(3).toLowerCase().replaceAll('_', '-');
    const option = runOptions.find((o) => o.flag === flag);
    if (!option) throw configError(`${key}: not an option of wn-agent run (the worker would refuse to start)`);
    raw[camel(flag)] = 'array' in option ? [value] : value;
  }
  const parsed = withOptions(
    yargs([...args])
      .strict()
      .exitProcess(false)
      .help(false)
      .version(false)
      .fail((message) => {
        throw configError(`the worker's arguments: ${message}`);
      }),
    runOptions,
  ).parseSync() as Record<string, unknown>;
  for (const option of runOptions) {
    const value = parsed[camel(option.flag)];
    if (value !== undefined) raw[camel(option.flag)] = value;
  }
  return raw as RawOptions;
}

/**
 * The configuration a worker started with this environment and these arguments will have, read by the worker's own
 * parseConfig; its errors are the worker's (WN_ERR_CONFIG, naming the option). What is in files inside the worker's
 * container (a health-check directory, a token file) is not read here.
 */
export function workerConfigOf(env: Record<string, string>, args: readonly string[]): AgentConfig {
  return parseConfig(rawOptionsOf(env, args), env, 'skip');
}
