import { parseDuration, readAdminToken } from '../contract/worker-contract.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { DockerBackend } from './docker-backend.ts';
import { type WorkerSpec } from './spec.ts';
import { FleetController } from './controller.ts';
import { Demand } from './demand.ts';
import { workerPrivilegeModes, type WorkerPrivileges } from './privileges.ts';
import { engineHost } from './engine-info.ts';
import type { HostFacts } from './prototype.ts';
import { DockerApi } from './docker.ts';
import { bridgeNetworkCheck } from './network-check.ts';
import { readSpecFile } from './spec-file.ts';
import { parseEnvChanges, rolloutProgress, upgradeSpecFile } from './upgrade.ts';
import { readWorkerTls, type WorkerTls } from './worker-credentials.ts';
import { waitFor } from '../util/wait.ts';
import { parseListenAddress } from '../util/listen-address.ts';

/** `wn-agent fleet run|status|upgrade`: the options, validated, and the controller wired to the Docker Engine API backend. */
export interface FleetConfig {
  name: string;
  specFile: string;
  min: number;
  max: number;
  maxSurge: number;
  maxUnavailable: number;
  intervalMs: number;
  engineSocket: string;
  /** The fleet's key: each worker's admin token is HMAC-SHA256(key, worker name). */
  adminToken: string;
  /** --worker-tls-cert, --worker-tls-key, --worker-ca-file: workers serve their admin port with TLS. */
  workerTls?: WorkerTls | undefined;
  condorConfig: string;
  jobConstraint?: string | undefined;
  /** Idle jobs of one owner that count, at most; undefined for the fleet's capacity. */
  ownerDemandCap?: number | undefined;
  workerPrivileges: WorkerPrivileges;
  /** Where /metrics and /healthz are served, or undefined for off. */
  metricsListen?: { host: string; port: number } | undefined;
}

/**
 * `wn-agent fleet upgrade`: writes the new spec; the controller rolls it out (new workers first, old ones drained
 * within --max-unavailable). With --wait, follows the rollout from the engine until no live worker is outdated.
 */
export async function fleetUpgrade(
  argv: Record<string, unknown>,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const specFile =
    typeof argv.spec === 'string' && argv.spec ? argv.spec : badFlag('spec', 'required: the worker spec file the controller reads');
  const image = typeof argv.image === 'string' ? argv.image : undefined;
  const env = parseEnvChanges(Array.isArray(argv.env) ? argv.env.map(String) : []);
  if (image === undefined && Object.keys(env).length === 0) badFlag('image', 'give --image and/or --env: nothing to upgrade');
  const waitMs =
    argv.wait === undefined
      ? undefined
      : (parseDuration(String(argv.wait)) ?? badFlag('wait', `expected a duration such as 2h, got ${JSON.stringify(argv.wait)}`));
  const result = await upgradeSpecFile(specFile, { image, env });
  out(
    result.changed
      ? `spec ${result.before} -> ${result.after}: written to ${specFile}; the controller rolls it out`
      : `spec ${result.after} unchanged: nothing to roll out`,
  );
  if (waitMs === undefined) return;
  const backend = new DockerBackend(new DockerApi(String(argv.engineSocket)), String(argv.name));
  let last = '';
  await waitFor(
    async () => {
      const { current, outdated } = await rolloutProgress(backend, result.after);
      const line = `${current} workers on ${result.after}, ${outdated} outdated`;
      if (line !== last) out(line);
      last = line;
      return outdated === 0 ? true : undefined;
    },
    { timeoutMs: waitMs, intervalMs: 2000, what: `every live worker on spec ${result.after}` },
  ).catch((error: unknown) => {
    throw new AgentError(
      'WN_ERR_FLEET_ROLLOUT',
      `--wait ${String(argv.wait)}: the rollout did not finish: ${last || (error as Error).message}`,
    );
  });
}

function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T {
  return allowed.includes(value as T) ? (value as T) : badFlag(flag, `one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

function badFlag(flag: string, message: string): never {
  throw new AgentError('WN_ERR_CONFIG', `--${flag}: ${message}`);
}

export function parseFleetConfig(argv: Record<string, unknown>, env: NodeJS.ProcessEnv): FleetConfig {
  const bad = badFlag;
  const count = (flag: string, value: unknown, min = 0): number => {
    if (!/^\d+$/.test(String(value ?? ''))) bad(flag, `expected a whole number, got ${JSON.stringify(value)}`);
    const n = Number(value);
    return n < min ? bad(flag, `must be at least ${min}`) : n;
  };
  const specFile = typeof argv.spec === 'string' && argv.spec ? argv.spec : bad('spec', 'required: the worker spec file');
  const min = count('min', argv.min);
  const max = count('max', argv.max, 1);
  if (min > max) bad('min', `${min} is above --max ${max}`);
  const intervalMs =
    parseDuration(String(argv.interval)) ?? bad('interval', `expected a duration such as 10s, got ${JSON.stringify(argv.interval)}`);
  const tokenFile =
    typeof argv.adminTokenFile === 'string'
      ? argv.adminTokenFile
      : bad('admin-token-file', 'required: the workers are read and drained with it');
  const token = readAdminToken({ tokenFile }, { token: '--admin-token', tokenFile: '--admin-token-file' }) as string;
  const condorConfig =
    typeof argv.condorConfig === 'string'
      ? argv.condorConfig
      : (env.CONDOR_CONFIG ?? bad('condor-config', 'required (or CONDOR_CONFIG): condor_q must reach the pool'));
  const name = String(argv.name);
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) bad('name', `lower-case letters, digits and '-', at most 31: got ${JSON.stringify(name)}`);
  return {
    name,
    specFile,
    min,
    max,
    maxSurge: count('max-surge', argv.maxSurge),
    maxUnavailable: count('max-unavailable', argv.maxUnavailable, 1),
    intervalMs,
    engineSocket: String(argv.engineSocket),
    adminToken: token,
    workerTls: readWorkerTls({ cert: argv.workerTlsCert, key: argv.workerTlsKey, ca: argv.workerCaFile }, bad),
    condorConfig,
    jobConstraint: typeof argv.jobConstraint === 'string' ? argv.jobConstraint : undefined,
    ownerDemandCap: argv.ownerDemandCap === undefined ? undefined : count('owner-demand-cap', argv.ownerDemandCap, 1),
    workerPrivileges: oneOf('worker-privileges', argv.workerPrivileges ?? 'auto', workerPrivilegeModes),
    metricsListen: listen(String(argv.metricsListen ?? 'off'), bad),
  };
}

function listen(value: string, bad: (flag: string, message: string) => never): { host: string; port: number } | undefined {
  const address = parseListenAddress(value);
  if (address === 'invalid') return bad('metrics-listen', `expected host:port (port 1-65535) or off, got ${JSON.stringify(value)}`);
  return address === 'off' ? undefined : address;
}

export function fleetController(config: FleetConfig, log: Logger): FleetController {
  let lastGood: WorkerSpec | undefined;
  const bridgeNetwork = bridgeNetworkCheck(new DockerApi(config.engineSocket));
  const spec = async (): Promise<WorkerSpec> => {
    try {
      const read = await readSpecFile(config.specFile);
      // A name cannot tell a bridge network from a macvlan one; the engine can, and its answer is a property of the spec.
      if (read.network !== undefined) await bridgeNetwork(read.network);
      lastGood = read;
    } catch (error) {
      if (!lastGood) throw error;
      log.warn({ event: 'fleet-spec-invalid', error: (error as Error).message }, 'spec file invalid; keeping the last good spec');
    }
    return lastGood;
  };
  const api = new DockerApi(config.engineSocket);
  const demand = new Demand({ log });
  // The engine host's CPUs and memory, for specs that do not limit them: asked until the engine has answered once.
  let host: HostFacts | undefined;
  return new FleetController({
    backend: new DockerBackend(new DockerApi(config.engineSocket), config.name, config.workerPrivileges),
    spec,
    limits: { min: config.min, max: config.max, maxSurge: config.maxSurge, maxUnavailable: config.maxUnavailable, jobsPerWorker: 1 },
    demand: async (s, hash, seen) => {
      host ??= await engineHost(api);
      const perWorker = Math.max(1, Math.floor(s.cpus ?? host?.cpus ?? 1));
      return demand.idleJobs({
        spec: s,
        fleet: config.name,
        specHash: hash,
        constraint: config.jobConstraint,
        configFile: config.condorConfig,
        host: { ...host, diskKiB: seen.diskKiB },
        perOwnerCap: config.ownerDemandCap ?? config.max * perWorker,
      });
    },
    credentials: { key: config.adminToken, tls: config.workerTls },
    intervalMs: config.intervalMs,
    log,
  });
}

/** The fleet as one screen: each worker's phase and spec, the idle jobs, and what the next cycle would do. */
export function fleetStatusScreen(snapshot: Awaited<ReturnType<FleetController['observe']>>): string {
  const lines = [`idle jobs that fit: ${snapshot.idleJobs}   spec: ${snapshot.specHash}   target: ${snapshot.plan.target}`, ''];
  lines.push('WORKER'.padEnd(40) + 'PHASE'.padEnd(10) + 'JOBS'.padEnd(6) + 'SPEC');
  for (const w of snapshot.workers)
    lines.push(
      w.name.padEnd(40) +
        w.phase.padEnd(10) +
        String(w.runningJobs).padEnd(6) +
        (w.specHash === snapshot.specHash ? w.specHash : `${w.specHash} (outdated)`),
    );
  lines.push('', `next: start ${snapshot.plan.start}, drain ${snapshot.plan.drain.length} (${snapshot.plan.reason})`);
  return `${lines.join('\n')}\n`;
}
