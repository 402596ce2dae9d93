import { defaults, kubernetesServiceAccountDir, type runOptions } from '../contract/worker-contract.ts';
import { specError } from './spec-error.ts';
import type { Bind } from './spec-mounts.ts';
import { cleanAbsolute, overlaps } from './spec-paths.ts';

type RunFlag = (typeof runOptions)[number]['flag'];

/** The worker's options that name a mounted secret (agent/condor/hide-secrets.ts hides the same ones from jobs). */
const credentialOptions: readonly RunFlag[] = ['pool-password-file', 'token-dir', 'admin-token-file', 'admin-tls-key'];

/**
 * Credential places whatever the options say: HTCondor's own password and token directories, where engines and
 * Kubernetes put secrets (/var/run is /run in the image), and the worker's defaults.
 */
const fixedPlaces = [
  '/etc/condor/passwords.d',
  '/etc/condor/tokens.d',
  '/var/run/secrets',
  '/run/secrets',
  kubernetesServiceAccountDir,
  defaults.poolPasswordFile,
  defaults.tokenDir,
];

/** Where the worker of this spec finds credentials: the fixed places and whatever its env or args point them at. */
export function credentialPlaces(env: Readonly<Record<string, string>>, args: readonly string[]): string[] {
  const chosen = credentialOptions.flatMap((flag) => [env[envName(flag)], ...flagValues(args, flag)]);
  const places = [...fixedPlaces, ...chosen].flatMap((path) => (path === undefined ? [] : (cleanAbsolute(path) ?? [])));
  return [...new Set(places)];
}

/**
 * A mount that holds a credential, or lies in a credential directory, must be read-only: the host's copy of the pool
 * password or a token is not the worker's to change, and a worker must not plant a credential for the next one.
 */
export function checkCredentialMountsReadOnly(binds: readonly Bind[], places: readonly string[], where: string): void {
  for (const bind of binds) {
    const place = places.find((p) => overlaps(bind.container, p));
    if (place !== undefined && !bind.readOnly)
      throw specError(
        where,
        bind.field,
        `read-only (":ro"): its container side holds the worker's credentials at ${place}`,
        bind.container,
      );
  }
}

/** yargs' WN_ prefix: pool-password-file is read from WN_POOL_PASSWORD_FILE. */
function envName(flag: string): string {
  return `WN_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Values of a flag as yargs reads them: --flag value, --flag=value, and the camel-case spelling of either. */
function flagValues(args: readonly string[], flag: string): string[] {
  const names = [`--${flag}`, `--${flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}`];
  return args.flatMap((arg, i) => {
    const next = args[i + 1];
    if (names.includes(arg)) return next === undefined ? [] : [next];
    const name = names.find((n) => arg.startsWith(`${n}=`));
    return name === undefined ? [] : [arg.slice(name.length + 1)];
  });
}
