import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaults } from '../../agent/config/options.ts';
import { optionName, parseConfig } from '../../agent/config/parse.ts';
import { AgentError } from '../../agent/errors.ts';

function configErrorOf(fn: () => unknown): AgentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('WN_ERR_CONFIG');
    expect((error as AgentError).exitCode).toBe(2);
    return error as AgentError;
  }
  throw new Error('expected a configuration error');
}

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    const config = parseConfig({ condorHost: 'cm.example.org' });
    expect(config).toEqual({
      condorHost: 'cm.example.org',
      stateDir: defaults.stateDir,
      poolPasswordFile: '/etc/condor/passwords-orig.d/POOL',
      tokenDir: '/etc/condor/tokens-orig.d',
      siteConfigDir: '/etc/wn-agent/condor.d',
      cpus: undefined,
      memoryMiB: undefined,
      startupTimeoutMs: 120_000,
      stopTimeoutMs: 60_000,
      updateIntervalS: 60,
      logLevel: 'info',
      attributes: {},
      image: undefined,
      containerHost: undefined,
      kubernetesEnv: { podName: 'POD_NAME', namespace: 'POD_NAMESPACE', podUid: 'POD_UID', nodeName: 'NODE_NAME' },
      reservedMemoryMiB: 256,
      jobIsolation: 'required',
      jobPidsMax: 4096,
      jobRuntimeAttribute: 'MaxWallTimeMins',
      jobCpuHardLimit: false,
      jobPidNamespaces: true,
      placementTimeoutMs: 10_000,
      cvmfs: {
        required: [],
        optional: [],
        mode: 'auto',
        mountRoot: '/cvmfs',
        httpProxy: undefined,
        cacheBase: '/var/lib/cvmfs',
        quotaMiB: 4000,
        probeIntervalMs: 30_000,
        probeTimeoutMs: 10_000,
      },
      healthCheck: { dir: undefined, intervalMs: 60_000, timeoutMs: 30_000 },
      minFreeDisk: { mib: 1024 },
      blackHole: { failures: 5, windowMs: 60_000, cooldownMs: 600_000 },
      idleTimeoutMs: undefined,
      drainTimeoutMs: 300_000,
      acceptJobsForMs: undefined,
      maxLifetimeMs: undefined,
      masterRestarts: 5,
      adminListen: { host: '0.0.0.0', port: 9680 },
      adminToken: undefined,
      eventBacklog: 10_000,
      adminMaxClients: 64,
      adminTls: undefined,
    });
  });

  it("takes the central manager from CONDOR_HOST, HTCondor's image convention, when no flag is given", () => {
    expect(parseConfig({}, { CONDOR_HOST: 'cm:9618' }).condorHost).toBe('cm:9618');
    expect(parseConfig({ condorHost: 'flag-cm' }, { CONDOR_HOST: 'env-cm' }).condorHost).toBe('flag-cm');
    expect(parseConfig({}, { CONDOR_HOST: '[fd00::1]:9618' }).condorHost).toBe('[fd00::1]:9618');
  });

  it('converts units', () => {
    const config = parseConfig({
      condorHost: 'cm',
      cpus: '8',
      memory: '16G',
      startupTimeout: '90s',
      stopTimeout: '0',
      updateInterval: '5s',
    });
    expect(config).toMatchObject({ cpus: 8, memoryMiB: 16_384, startupTimeoutMs: 90_000, stopTimeoutMs: 0, updateIntervalS: 5 });
  });

  it.each([
    [{}, '--condor-host (WN_CONDOR_HOST) or CONDOR_HOST', 'required'],
    [{ condorHost: 'http://cm' }, '--condor-host (WN_CONDOR_HOST) or CONDOR_HOST', '"http://cm"'],
    [{ condorHost: 'cm:99999' }, 'CONDOR_HOST: port must be 1-65535', '"cm:99999"'],
    [{ condorHost: 'cm', cpus: 'many' }, '--cpus (WN_CPUS)', '"many"'],
    [{ condorHost: 'cm', cpus: '0' }, '--cpus (WN_CPUS)', '"0"'],
    [{ condorHost: 'cm', cpus: '2.5' }, '--cpus (WN_CPUS)', '"2.5"'],
    [{ condorHost: 'cm', memory: '4X' }, '--memory (WN_MEMORY)', '"4X"'],
    [{ condorHost: 'cm', startupTimeout: 'soon' }, '--startup-timeout (WN_STARTUP_TIMEOUT)', '"soon"'],
    [{ condorHost: 'cm', startupTimeout: '10ms' }, '--startup-timeout (WN_STARTUP_TIMEOUT)', 'at least 1000 ms'],
    [{ condorHost: 'cm', stopTimeout: '-1' }, '--stop-timeout (WN_STOP_TIMEOUT)', '"-1"'],
    [{ condorHost: 'cm', updateInterval: '100ms' }, '--update-interval (WN_UPDATE_INTERVAL)', '"100ms"'],
    [{ condorHost: 'cm', stateDir: 'relative/dir' }, '--state-dir (WN_STATE_DIR)', 'absolute path'],
    [{ condorHost: 'cm', poolPasswordFile: 'POOL' }, '--pool-password-file (WN_POOL_PASSWORD_FILE)', '"POOL"'],
    [{ condorHost: 'cm', logLevel: 'loud' }, '--log-level (WN_LOG_LEVEL)', '"loud"'],
    [{ condorHost: 'cm', attr: ['Site'] }, '--attr', 'Name=value'],
    [{ condorHost: 'cm', attr: ['1st=x'] }, '--attr', '"1st" is not a ClassAd attribute name'],
    [{ condorHost: 'cm', attr: ['Bad-Name=x'] }, '--attr', '"Bad-Name"'],
    [{ condorHost: 'cm', attr: ['ContainerId=fake'] }, '--attr', 'ContainerId is set by wn-agent itself'],
    [{ condorHost: 'cm', jobIsolation: 'maybe' }, '--job-isolation (WN_JOB_ISOLATION)', 'required, best-effort, off'],
    [{ condorHost: 'cm', jobPidsMax: '-1' }, '--job-pids-max (WN_JOB_PIDS_MAX)', '"-1"'],
    [{ condorHost: 'cm', jobCpuHardLimit: 'sometimes' }, '--job-cpu-hard-limit (WN_JOB_CPU_HARD_LIMIT)', '"sometimes"'],
    [{ condorHost: 'cm', placementTimeout: '10ms' }, '--placement-timeout (WN_PLACEMENT_TIMEOUT)', 'at least 1000 ms'],
    [{ condorHost: 'cm', idleTimeout: 'soon' }, '--idle-timeout (WN_IDLE_TIMEOUT)', '"soon"'],
    [{ condorHost: 'cm', drainTimeout: '5 min' }, '--drain-timeout (WN_DRAIN_TIMEOUT)', '"5 min"'],
    [{ condorHost: 'cm', maxLifetime: 'forever' }, '--max-lifetime (WN_MAX_LIFETIME)', '"forever"'],
    [{ condorHost: 'cm', acceptJobsFor: '-1h' }, '--accept-jobs-for (WN_ACCEPT_JOBS_FOR)', '"-1h"'],
    [{ condorHost: 'cm', masterRestarts: 'many' }, '--master-restarts (WN_MASTER_RESTARTS)', '"many"'],
    [{ condorHost: 'cm', adminListen: '9680' }, '--admin-listen (WN_ADMIN_LISTEN)', '"9680"'],
    [{ condorHost: 'cm', adminListen: 'host:70000' }, '--admin-listen (WN_ADMIN_LISTEN)', '"host:70000"'],
    [{ condorHost: 'cm', adminToken: 'short' }, '--admin-token (WN_ADMIN_TOKEN)', 'at least 16 characters'],
    [{ condorHost: 'cm', adminToken: 'a'.repeat(20), adminTokenFile: '/x' }, '--admin-token-file (WN_ADMIN_TOKEN_FILE)', 'not both'],
    [{ condorHost: 'cm', adminTokenFile: '/nonexistent/token' }, '--admin-token-file (WN_ADMIN_TOKEN_FILE)', 'cannot read'],
    [{ condorHost: 'cm', adminTlsCert: '/etc/x.pem' }, '--admin-tls-key (WN_ADMIN_TLS_KEY)', 'both or neither'],
    [{ condorHost: 'cm', eventBacklog: '0' }, '--event-backlog (WN_EVENT_BACKLOG)', '"0"'],
    [{ condorHost: 'cm', reservedMemory: 'some' }, '--reserved-memory (WN_RESERVED_MEMORY)', '"some"'],
    [{ condorHost: 'cm', k8sPodNameVar: 'POD NAME' }, '--k8s-pod-name-var (WN_K8S_POD_NAME_VAR)', '"POD NAME"'],
  ])('%j is refused with a message naming %s', (raw, name, detail) => {
    const error = configErrorOf(() => parseConfig(raw));
    expect(error.message).toContain(name);
    expect(error.message).toContain(detail);
  });

  it('collects operator attributes from --attr and WN_ATTR_<Name>, the flag winning', () => {
    const config = parseConfig(
      { condorHost: 'cm', attr: ['Site=RAL', 'Rack=a=b', 'Empty='] },
      { WN_ATTR_Site: 'env', WN_ATTR_Tier: '1', OTHER: 'x' },
    );
    expect(config.attributes).toEqual({ Site: 'RAL', Tier: '1', Rack: 'a=b', Empty: '' });
  });

  it('refuses attribute values with line breaks, which HTCondor configuration cannot carry', () => {
    expect(configErrorOf(() => parseConfig({ condorHost: 'cm' }, { WN_ATTR_Rack: 'a\nb' })).message).toContain('WN_ATTR_Rack');
    expect(configErrorOf(() => parseConfig({ condorHost: 'cm', attr: ['Site=a\tb'] })).message).toContain('--attr Site');
  });

  it('refuses a WN_ATTR_ variable whose name is no attribute, naming the variable', () => {
    const error = configErrorOf(() => parseConfig({ condorHost: 'cm' }, { 'WN_ATTR_my-site': 'x' }));
    expect(error.message).toContain('WN_ATTR_my-site');
  });

  it('lifecycle durations, "0" meaning never, and admin-listen off', () => {
    const config = parseConfig({ condorHost: 'cm', idleTimeout: '20s', maxLifetime: '0', acceptJobsFor: '2h', adminListen: 'off' });
    expect(config).toMatchObject({ idleTimeoutMs: 20_000, maxLifetimeMs: undefined, acceptJobsForMs: 7_200_000, adminListen: undefined });
    expect(parseConfig({ condorHost: 'cm', adminListen: '[::]:9000' }).adminListen).toEqual({ host: '::', port: 9000 });
  });

  it('names flags and their WN_ variables the same way everywhere', () => {
    expect(optionName('pool-password-file')).toBe('--pool-password-file (WN_POOL_PASSWORD_FILE)');
  });
});

describe('health check options', () => {
  it('are off without a directory; interval and timeout are durations either way', () => {
    expect(parseConfig({ condorHost: 'cm', healthCheckInterval: '2m', healthCheckTimeout: '500ms' }).healthCheck).toEqual({
      dir: undefined,
      intervalMs: 120_000,
      timeoutMs: 500,
    });
  });

  it('take an existing directory only root can change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-health-opt-'));
    try {
      expect(parseConfig({ condorHost: 'cm', healthCheckDir: dir }).healthCheck).toEqual({ dir, intervalMs: 60_000, timeoutMs: 30_000 });
      await chmod(dir, 0o777);
      const open = configErrorOf(() => parseConfig({ condorHost: 'cm', healthCheckDir: dir }));
      expect(open.message).toBe(
        `--health-check-dir (WN_HEALTH_CHECK_DIR): "${dir}" is writable by group or others (mode 0777): its checks run as root, so only root may be able to change it (or mount it read-only)`,
      );
      const file = join(dir, 'check');
      await writeFile(file, '');
      expect(configErrorOf(() => parseConfig({ condorHost: 'cm', healthCheckDir: file })).message).toBe(
        `--health-check-dir (WN_HEALTH_CHECK_DIR): "${file}" is not a directory`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ healthCheckDir: '/nonexistent/health.d' }, '--health-check-dir (WN_HEALTH_CHECK_DIR): cannot use "/nonexistent/health.d": ENOENT'],
    [{ healthCheckDir: 'health.d' }, '--health-check-dir (WN_HEALTH_CHECK_DIR): expected an absolute path, got "health.d"'],
    [{ healthCheckInterval: 'hourly' }, '--health-check-interval (WN_HEALTH_CHECK_INTERVAL): expected a duration'],
    [{ healthCheckInterval: '10ms' }, '--health-check-interval (WN_HEALTH_CHECK_INTERVAL): expected a duration'],
    [{ healthCheckTimeout: '-1s' }, '--health-check-timeout (WN_HEALTH_CHECK_TIMEOUT): expected a duration'],
  ])('%j is refused (exit 2), naming the option', (raw, message) => {
    expect(configErrorOf(() => parseConfig({ condorHost: 'cm', ...raw })).message).toContain(message);
  });
});

describe('execute disk and black-hole options', () => {
  it('take a size, a share of the filesystem or 0 for the free space, and counts and durations for black holes', () => {
    const parse = (raw: Record<string, string>) => parseConfig({ condorHost: 'cm', ...raw });
    expect(parse({ minFreeDisk: '512Mi' }).minFreeDisk).toEqual({ mib: 512 });
    expect(parse({ minFreeDisk: '2G' }).minFreeDisk).toEqual({ mib: 2048 });
    expect(parse({ minFreeDisk: '0' }).minFreeDisk).toEqual({ mib: 0 });
    expect(parse({ minFreeDisk: ' 5.5% ' }).minFreeDisk).toEqual({ percent: 5.5 });
    expect(parse({ blackHoleFailures: '0', blackHoleWindow: '2m', blackHoleCooldown: '1h' }).blackHole).toEqual({
      failures: 0,
      windowMs: 120_000,
      cooldownMs: 3_600_000,
    });
  });

  it.each([
    [
      { minFreeDisk: '100%' },
      '--min-free-disk (WN_MIN_FREE_DISK): expected a size such as 1G or 512Mi, or a share of the execute filesystem below 100% such as 5%, got "100%"',
    ],
    [{ minFreeDisk: 'lots' }, '--min-free-disk (WN_MIN_FREE_DISK): expected a size'],
    [{ minFreeDisk: '-1G' }, '--min-free-disk (WN_MIN_FREE_DISK): expected a size'],
    [{ blackHoleFailures: '1' }, '--black-hole-failures (WN_BLACK_HOLE_FAILURES): expected 0 (never) or at least 2'],
    [{ blackHoleFailures: 'five' }, '--black-hole-failures (WN_BLACK_HOLE_FAILURES): expected a whole number'],
    [{ blackHoleWindow: '10ms' }, '--black-hole-window (WN_BLACK_HOLE_WINDOW): expected a duration'],
    [{ blackHoleCooldown: 'soon' }, '--black-hole-cooldown (WN_BLACK_HOLE_COOLDOWN): expected a duration'],
  ])('%j is refused (exit 2), naming the option', (raw, message) => {
    expect(configErrorOf(() => parseConfig({ condorHost: 'cm', ...raw })).message).toContain(message);
  });
});
