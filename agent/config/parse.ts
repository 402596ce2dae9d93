import { readFileSync, realpathSync, statSync } from 'node:fs';
import { changeableByOthers, readOnlyAt } from '../health/check-dir.ts';
import { parseMountInfo } from '../util/mountinfo.ts';
import { isAttributeName, isReservedAttribute } from '../metadata/attribute-names.ts';
import { configError } from '../errors.ts';
import {
  cvmfsModes,
  defaults,
  jobIsolationModes,
  logLevels,
  type AgentConfig,
  type CvmfsConfig,
  type CvmfsMode,
  type HealthCheckConfig,
  type JobIsolationMode,
  type LogLevel,
  type MinFreeDisk,
} from './options.ts';
import { parseDuration, parseSizeMiB } from './units.ts';
import { readAdminToken } from './admin-token.ts';

/** What the CLI hands over: strings as typed on the command line or found in WN_* variables. */
export type { RawOptions } from './run-options.ts';
import type { RawOptions } from './run-options.ts';
import { parseListenAddress } from '../util/listen-address.ts';

/** --admin-token or the first line of --admin-token-file (an absolute path), by the one rule of readAdminToken. */
function adminToken(raw: RawOptions, files: FileReads): string | undefined {
  const file = nonEmpty(raw.adminTokenFile);
  if (files === 'skip') {
    if (file !== undefined) path('admin-token-file', file);
    return nonEmpty(raw.adminToken);
  }
  return readAdminToken(
    { token: nonEmpty(raw.adminToken), tokenFile: file === undefined ? undefined : path('admin-token-file', file) },
    { token: optionName('admin-token'), tokenFile: optionName('admin-token-file') },
  );
}

/** Read here, at start: the key's file is hidden from jobs before HTCondor starts, so it cannot be read later. */
function tls(raw: RawOptions, files: FileReads): AgentConfig['adminTls'] {
  const certFile = nonEmpty(raw.adminTlsCert);
  const keyFile = nonEmpty(raw.adminTlsKey);
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw configError(`${optionName('admin-tls-cert')} and ${optionName('admin-tls-key')}: give both or neither`);
  if (files === 'skip') {
    path('admin-tls-cert', certFile);
    path('admin-tls-key', keyFile);
    return undefined;
  }
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(path(flag, file));
    } catch (error) {
      throw configError(`${optionName(flag)}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return { certFile, keyFile, cert: read('admin-tls-cert', certFile), key: read('admin-tls-key', keyFile) };
}

function optionalDuration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '' || value.trim() === '0') return undefined;
  return duration(flag, value, { min: 1000 });
}

function listenAddress(value: string): { host: string; port: number } | undefined {
  const address = parseListenAddress(value);
  if (address === 'invalid')
    throw configError(`${optionName('admin-listen')}: expected host:port such as 0.0.0.0:9680 (or off), got ${JSON.stringify(value)}`);
  return address === 'off' ? undefined : address;
}

/** Repository names as CVMFS knows them: fully qualified, lower case (atlas.cern.ch). */
function repositories(flag: string, value: string | undefined): string[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!/^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/.test(name)) {
      throw configError(`${optionName(flag)}: ${JSON.stringify(name)} is not a repository name such as atlas.cern.ch`);
    }
  }
  return [...new Set(names)];
}

function cvmfs(raw: RawOptions): CvmfsConfig {
  const required = repositories('cvmfs-repositories', raw.cvmfsRepositories);
  const optional = repositories('cvmfs-optional-repositories', raw.cvmfsOptionalRepositories);
  const both = optional.filter((name) => required.includes(name));
  if (both.length)
    throw configError(`${optionName('cvmfs-optional-repositories')}: ${both.join(', ')} is also in ${optionName('cvmfs-repositories')}`);
  const quota = parseSizeMiB(raw.cvmfsQuota ?? defaults.cvmfsQuota);
  if (quota === undefined || quota < 1)
    throw configError(`${optionName('cvmfs-quota')}: expected a size such as 4000 (MiB) or 20G, got ${received(raw.cvmfsQuota ?? '')}`);
  const proxy = nonEmpty(raw.cvmfsHttpProxy);
  if (proxy !== undefined && /[\s"'\\]/.test(proxy))
    throw configError(
      `${optionName('cvmfs-http-proxy')}: expected CVMFS_HTTP_PROXY syntax (e.g. "http://squid:3128;DIRECT") without spaces or quotes, got ${received(proxy)}`,
    );
  return {
    required,
    optional,
    mode: oneOf<CvmfsMode>('cvmfs-mode', raw.cvmfsMode ?? defaults.cvmfsMode, cvmfsModes),
    mountRoot: path('cvmfs-mount-root', raw.cvmfsMountRoot ?? defaults.cvmfsMountRoot),
    httpProxy: proxy,
    cacheBase: path('cvmfs-cache-base', raw.cvmfsCacheBase ?? defaults.cvmfsCacheBase),
    quotaMiB: quota,
    probeIntervalMs: duration('cvmfs-probe-interval', raw.cvmfsProbeInterval ?? defaults.cvmfsProbeInterval, { min: 1000 }),
    probeTimeoutMs: duration('cvmfs-probe-timeout', raw.cvmfsProbeTimeout ?? defaults.cvmfsProbeTimeout, { min: 100 }),
  };
}

/**
 * The checks run as root: their directory must exist, and no one but root may be able to add or replace a file in
 * it (a read-only mount, such as a Kubernetes ConfigMap's, is fine whatever its mode).
 */
function healthCheck(raw: RawOptions, files: FileReads): HealthCheckConfig {
  const intervalMs = duration('health-check-interval', raw.healthCheckInterval ?? defaults.healthCheckInterval, { min: 1000 });
  const timeoutMs = duration('health-check-timeout', raw.healthCheckTimeout ?? defaults.healthCheckTimeout, { min: 100 });
  const given = nonEmpty(raw.healthCheckDir);
  if (given === undefined) return { dir: undefined, intervalMs, timeoutMs };
  const name = optionName('health-check-dir');
  const dir = path('health-check-dir', given);
  if (files === 'skip') return { dir, intervalMs, timeoutMs };
  let info;
  try {
    info = statSync(dir);
  } catch (error) {
    throw configError(`${name}: cannot use ${received(given)}: ${(error as Error).message}`);
  }
  if (!info.isDirectory()) throw configError(`${name}: ${received(given)} is not a directory`);
  const problem = changeableByOthers(info);
  if (problem && !readOnlyAt(realpathSync(dir), parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))))
    throw configError(
      `${name}: ${received(given)} is ${problem}: its checks run as root, so only root may be able to change it (or mount it read-only)`,
    );
  return { dir, intervalMs, timeoutMs };
}

/** "1G", "512Mi", "0" (never short) or "5%" of the execute filesystem. */
function minFreeDisk(value: string): MinFreeDisk {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
  if (percent && Number(percent[1]) < 100) return { percent: Number(percent[1]) };
  const mib = percent ? undefined : parseSizeMiB(value);
  if (mib === undefined)
    throw configError(
      `${optionName('min-free-disk')}: expected a size such as 1G or 512Mi, or a share of the execute filesystem below 100% such as 5%, got ${received(value)}`,
    );
  return { mib };
}

/** 0 (never) or at least 2: the streak must span two clusters, so one failure can never be a black hole. */
function blackHoleFailures(value: string): number {
  const failures = wholeNumber('black-hole-failures', value);
  if (failures === 1)
    throw configError(
      `${optionName('black-hole-failures')}: expected 0 (never) or at least 2 (the failures must come from two clusters), got 1`,
    );
  return failures;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw configError(`${optionName(flag)}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function boolean(flag: string, value: string): boolean {
  if (/^(true|yes|1|on)$/i.test(value)) return true;
  if (/^(false|no|0|off)$/i.test(value)) return false;
  throw configError(`${optionName(flag)}: expected true or false, got ${JSON.stringify(value)}`);
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw configError(`${optionName(flag)}: expected a whole number (0 for none), got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Prefix of the environment variables that add slot attributes: WN_ATTR_<Name>=value. */
export const attributeEnvPrefix = 'WN_ATTR_';

function attribute(name: string, source: string): string {
  if (!isAttributeName(name)) {
    throw configError(`${source}: ${JSON.stringify(name)} is not a ClassAd attribute name (a letter or _, then letters, digits, _)`);
  }
  if (isReservedAttribute(name)) throw configError(`${source}: ${name} is set by wn-agent itself and cannot be overridden`);
  return name;
}

/** --attr Name=value (repeatable) and WN_ATTR_<Name>=value; the flag wins for the same name. */
function attributes(flags: readonly string[], env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(attributeEnvPrefix) || value === undefined) continue;
    out[attribute(key.slice(attributeEnvPrefix.length), key)] = attributeValue(value, key);
  }
  for (const item of flags) {
    const eq = item.indexOf('=');
    if (eq < 1) throw configError(`--attr: expected Name=value, got ${JSON.stringify(item)}`);
    out[attribute(item.slice(0, eq), '--attr')] = attributeValue(item.slice(eq + 1), `--attr ${item.slice(0, eq)}`);
  }
  return out;
}

/** HTCondor's configuration cannot carry a line break or other control character in a value (condor/classad.ts). */
function attributeValue(value: string, source: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw configError(
      `${source}: the value holds a line break or control character, which HTCondor's configuration cannot carry: ${JSON.stringify(value)}`,
    );
  return value;
}

/** A job attribute the rendered START expression reads: a plain name, or the expression could be anything. */
function attributeName(flag: string, value: string): string {
  if (!isAttributeName(value))
    throw configError(
      `${optionName(flag)}: expected a ClassAd attribute name (a letter or _, then letters, digits, _), got ${JSON.stringify(value)}`,
    );
  return value;
}

function variableName(flag: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value))
    throw configError(`${optionName(flag)}: expected an environment variable name, got ${JSON.stringify(value)}`);
  return value;
}

/** "--cpus (WN_CPUS)": how an error names an option, whichever way the operator set it. */
export function optionName(flag: string): string {
  return `--${flag} (WN_${flag.toUpperCase().replaceAll('-', '_')})`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function received(value: string): string {
  return JSON.stringify(value);
}

function duration(flag: string, value: string, { min = 0 } = {}): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    throw configError(
      `${optionName(flag)}: expected a duration such as 30s, 10m or plain seconds${min ? ` of at least ${min} ms` : ''}, got ${received(value)}`,
    );
  }
  return ms;
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw configError(`${optionName(flag)}: expected a whole number of at least 1, got ${received(value)}`);
  }
  return Number(value);
}

function path(flag: string, value: string): string {
  if (!value.startsWith('/')) throw configError(`${optionName(flag)}: expected an absolute path, got ${received(value)}`);
  // Paths go into HTCondor's configuration and the CVMFS client's shell-sourced default.local, unquoted there.
  if (/[\s"'`$\\#;\u0000-\u001f\u007f]/.test(value)) {
    throw configError(
      `${optionName(flag)}: expected a path without spaces, quotes, '$', '#', ';', backslashes or control characters, got ${received(value)}`,
    );
  }
  return value;
}

/** host, host:port, [v6]:port, or an IP; no spaces, no scheme. */
function condorHost(value: string | undefined): string {
  const name = `${optionName('condor-host')} or CONDOR_HOST`;
  if (value === undefined || value.trim() === '') {
    throw configError(`${name}: the central manager is required (e.g. CONDOR_HOST=cm.example.org), got nothing`);
  }
  const host = value.trim();
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/.test(host)) {
    throw configError(`${name}: expected host or host:port, got ${received(value)}`);
  }
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw configError(`${name}: port must be 1-65535, got ${received(value)}`);
  }
  return host;
}

/**
 * Validates everything at start, before anything runs, so that a bad value costs nothing.
 * `env` supplies HTCondor's own convention (CONDOR_HOST) when --condor-host / WN_CONDOR_HOST is not given.
 */
/**
 * `read`: the worker's own start, where the files its options name are read and checked. `skip`: the same checks of
 * every value except what is in files (the fleet parses a worker's spec as the worker will, far from those files).
 */
export type FileReads = 'read' | 'skip';

export function parseConfig(raw: RawOptions, env: Record<string, string | undefined> = {}, files: FileReads = 'read'): AgentConfig {
  const logLevel = raw.logLevel ?? defaults.logLevel;
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw configError(`${optionName('log-level')}: expected one of ${logLevels.join(', ')}, got ${received(logLevel)}`);
  }
  const memory = raw.memory === undefined || raw.memory === '' ? undefined : parseSizeMiB(raw.memory);
  if (raw.memory !== undefined && raw.memory !== '' && (memory === undefined || memory < 1)) {
    throw configError(`${optionName('memory')}: expected a size such as 4096 (MiB), 4G or 512Mi, got ${received(raw.memory)}`);
  }
  const reserved = parseSizeMiB(raw.reservedMemory ?? defaults.reservedMemory);
  if (reserved === undefined) {
    throw configError(`${optionName('reserved-memory')}: expected a size such as 256Mi or 1G, got ${received(raw.reservedMemory ?? '')}`);
  }
  const updateMs = duration('update-interval', raw.updateInterval ?? defaults.updateInterval, { min: 1000 });
  return {
    condorHost: condorHost(raw.condorHost ?? env.CONDOR_HOST),
    stateDir: path('state-dir', raw.stateDir ?? defaults.stateDir),
    poolPasswordFile: path('pool-password-file', raw.poolPasswordFile ?? defaults.poolPasswordFile),
    tokenDir: path('token-dir', raw.tokenDir ?? defaults.tokenDir),
    siteConfigDir: path('site-config-dir', raw.siteConfigDir ?? defaults.siteConfigDir),
    cpus: positiveInteger('cpus', raw.cpus),
    memoryMiB: memory,
    startupTimeoutMs: duration('startup-timeout', raw.startupTimeout ?? defaults.startupTimeout, { min: 1000 }),
    stopTimeoutMs: duration('stop-timeout', raw.stopTimeout ?? defaults.stopTimeout),
    updateIntervalS: Math.round(updateMs / 1000),
    logLevel: logLevel as LogLevel,
    attributes: attributes(raw.attr ?? [], env),
    image: nonEmpty(raw.image),
    containerHost: nonEmpty(raw.containerHost),
    taskId: nonEmpty(raw.taskId),
    jobRuntimeAttribute: attributeName('job-runtime-attribute', raw.jobRuntimeAttribute ?? defaults.jobRuntimeAttribute),
    kubernetesEnv: {
      podName: variableName('k8s-pod-name-var', raw.k8sPodNameVar ?? defaults.k8sPodNameVar),
      namespace: variableName('k8s-namespace-var', raw.k8sNamespaceVar ?? defaults.k8sNamespaceVar),
      podUid: variableName('k8s-pod-uid-var', raw.k8sPodUidVar ?? defaults.k8sPodUidVar),
      nodeName: variableName('k8s-node-name-var', raw.k8sNodeNameVar ?? defaults.k8sNodeNameVar),
    },
    reservedMemoryMiB: reserved,
    jobIsolation: oneOf<JobIsolationMode>('job-isolation', raw.jobIsolation ?? defaults.jobIsolation, jobIsolationModes),
    jobPidsMax: wholeNumber('job-pids-max', raw.jobPidsMax ?? defaults.jobPidsMax),
    jobCpuHardLimit: boolean('job-cpu-hard-limit', raw.jobCpuHardLimit ?? defaults.jobCpuHardLimit),
    jobPidNamespaces: boolean('job-pid-namespaces', raw.jobPidNamespaces ?? defaults.jobPidNamespaces),
    placementTimeoutMs: duration('placement-timeout', raw.placementTimeout ?? defaults.placementTimeout, { min: 1000 }),
    cvmfs: cvmfs(raw),
    healthCheck: healthCheck(raw, files),
    minFreeDisk: minFreeDisk(raw.minFreeDisk ?? defaults.minFreeDisk),
    blackHole: {
      failures: blackHoleFailures(raw.blackHoleFailures ?? defaults.blackHoleFailures),
      windowMs: duration('black-hole-window', raw.blackHoleWindow ?? defaults.blackHoleWindow, { min: 1000 }),
      cooldownMs: duration('black-hole-cooldown', raw.blackHoleCooldown ?? defaults.blackHoleCooldown, { min: 1000 }),
    },
    idleTimeoutMs: optionalDuration('idle-timeout', raw.idleTimeout),
    drainTimeoutMs: duration('drain-timeout', raw.drainTimeout ?? defaults.drainTimeout),
    acceptJobsForMs: optionalDuration('accept-jobs-for', raw.acceptJobsFor),
    maxLifetimeMs: optionalDuration('max-lifetime', raw.maxLifetime),
    masterRestarts: wholeNumber('master-restarts', raw.masterRestarts ?? defaults.masterRestarts),
    adminListen: listenAddress(raw.adminListen ?? defaults.adminListen),
    adminToken: adminToken(raw, files),
    adminTokenFile: nonEmpty(raw.adminTokenFile),
    eventBacklog: positiveInteger('event-backlog', raw.eventBacklog ?? defaults.eventBacklog) ?? 1,
    adminMaxClients: positiveInteger('admin-max-clients', raw.adminMaxClients ?? defaults.adminMaxClients) ?? 1,
    adminTls: tls(raw, files),
  };
}
