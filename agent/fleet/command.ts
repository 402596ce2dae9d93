import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { parseDuration } from '../config/units.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { DockerBackend, type WorkerSpec } from './backend.ts';
import { FleetController } from './controller.ts';
import { idleJobs } from './demand.ts';
import { DockerApi } from './docker.ts';
import { readSpecFile } from './spec-file.ts';

/** `wn-agent fleet run|status`: the options, validated, and the controller wired to the Docker Engine API backend. */
export interface FleetConfig {
  name: string;
  specFile: string;
  min: number;
  max: number;
  maxSurge: number;
  maxUnavailable: number;
  intervalMs: number;
  engineSocket: string;
  adminToken: string;
  condorConfig: string;
  jobConstraint?: string | undefined;
  /** Where /metrics and /healthz are served, or undefined for off. */
  metricsListen?: { host: string; port: number } | undefined;
}

export function fleetOptions(y: Argv): Argv {
  return y
    .option('spec', { type: 'string', describe: 'JSON worker spec (image, env, mounts, network, cpus, memoryMiB, args); re-read every cycle' })
    .option('name', { type: 'string', default: 'wn', describe: 'fleet name: label wn-fleet=<name> on every worker, prefix of their names' })
    .option('min', { type: 'string', default: '0', describe: 'workers kept with no demand' })
    .option('max', { type: 'string', describe: 'workers at most' })
    .option('max-surge', { type: 'string', default: '1', describe: 'upgrade: workers above the target while old ones are replaced' })
    .option('max-unavailable', { type: 'string', default: '1', describe: 'workers draining at once, at most (upgrade and scale-down)' })
    .option('interval', { type: 'string', default: '10s', describe: 'time between two observe-plan-act cycles' })
    .option('engine-socket', { type: 'string', default: '/run/podman/podman.sock', describe: 'Docker Engine API socket (podman system service, or /var/run/docker.sock)' })
    .option('admin-token-file', { type: 'string', describe: 'file holding the admin token given to every worker (first line, 16+ characters)' })
    .option('condor-config', { type: 'string', describe: 'HTCondor configuration reaching the pool, for condor_q (default: $CONDOR_CONFIG)' })
    .option('job-constraint', { type: 'string', describe: 'extra ClassAd constraint on the idle jobs that count as demand' })
    .option('metrics-listen', { type: 'string', default: '0.0.0.0:9681', describe: 'host:port for the fleet\'s /metrics and /healthz; off to turn off' });
}

export function parseFleetConfig(argv: Record<string, unknown>, env: NodeJS.ProcessEnv): FleetConfig {
  const bad = (flag: string, message: string): never => {
    throw new AgentError('WN_ERR_CONFIG', `--${flag}: ${message}`);
  };
  const count = (flag: string, value: unknown, min = 0): number => {
    if (!/^\d+$/.test(String(value ?? ''))) bad(flag, `expected a whole number, got ${JSON.stringify(value)}`);
    const n = Number(value);
    return n < min ? bad(flag, `must be at least ${min}`) : n;
  };
  const specFile = typeof argv.spec === 'string' && argv.spec ? argv.spec : bad('spec', 'required: the worker spec file');
  const min = count('min', argv.min);
  const max = count('max', argv.max, 1);
  if (min > max) bad('min', `${min} is above --max ${max}`);
  const intervalMs = parseDuration(String(argv.interval)) ?? bad('interval', `expected a duration such as 10s, got ${JSON.stringify(argv.interval)}`);
  const tokenFile = typeof argv.adminTokenFile === 'string' ? argv.adminTokenFile : bad('admin-token-file', 'required: the workers are read and drained with it');
  let token = '';
  try {
    token = readFileSync(tokenFile, 'utf8').split('\n')[0]?.trim() ?? '';
  } catch (error) {
    bad('admin-token-file', `cannot read ${tokenFile}: ${(error as Error).message}`);
  }
  if (token.length < 16) bad('admin-token-file', `the token in ${tokenFile} must be at least 16 characters`);
  const condorConfig = typeof argv.condorConfig === 'string' ? argv.condorConfig : (env.CONDOR_CONFIG ?? bad('condor-config', 'required (or CONDOR_CONFIG): condor_q must reach the pool'));
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
    condorConfig,
    jobConstraint: typeof argv.jobConstraint === 'string' ? argv.jobConstraint : undefined,
    metricsListen: listen(String(argv.metricsListen ?? 'off'), bad),
  };
}

function listen(value: string, bad: (flag: string, message: string) => never): { host: string; port: number } | undefined {
  if (value === 'off') return undefined;
  const match = /^(.+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match?.[1] || port > 65535) return bad('metrics-listen', `expected host:port or off, got ${JSON.stringify(value)}`);
  return { host: match[1], port };
}

export function fleetController(config: FleetConfig, log: Logger): FleetController {
  let lastGood: WorkerSpec | undefined;
  const spec = async (): Promise<WorkerSpec> => {
    try {
      lastGood = await readSpecFile(config.specFile);
    } catch (error) {
      if (!lastGood) throw error;
      log.warn({ event: 'fleet-spec-invalid', error: (error as Error).message }, 'spec file invalid; keeping the last good spec');
    }
    return lastGood;
  };
  return new FleetController({
    backend: new DockerBackend(new DockerApi(config.engineSocket), config.name),
    spec,
    limits: { min: config.min, max: config.max, maxSurge: config.maxSurge, maxUnavailable: config.maxUnavailable, jobsPerWorker: 1 },
    demand: (s) => idleJobs({ cpus: s.cpus ?? 1, memoryMiB: s.memoryMiB ?? 1 << 30, constraint: config.jobConstraint, configFile: config.condorConfig }),
    adminToken: config.adminToken,
    intervalMs: config.intervalMs,
    log,
  });
}

/** The fleet as one screen: each worker's phase and spec, the idle jobs, and what the next cycle would do. */
export function fleetStatusScreen(snapshot: Awaited<ReturnType<FleetController['observe']>>): string {
  const lines = [`idle jobs that fit: ${snapshot.idleJobs}   spec: ${snapshot.specHash}   target: ${snapshot.plan.target}`, ''];
  lines.push('WORKER'.padEnd(40) + 'PHASE'.padEnd(10) + 'JOBS'.padEnd(6) + 'SPEC');
  for (const w of snapshot.workers) lines.push(w.name.padEnd(40) + w.phase.padEnd(10) + String(w.runningJobs).padEnd(6) + (w.specHash === snapshot.specHash ? w.specHash : `${w.specHash} (outdated)`));
  lines.push('', `next: start ${snapshot.plan.start}, drain ${snapshot.plan.drain.length} (${snapshot.plan.reason})`);
  return `${lines.join('\n')}\n`;
}

