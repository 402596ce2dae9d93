import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetStatusScreen, parseFleetConfig } from '../../agent/fleet/command.ts';
import { makeCa, makeServerCert, type PemFiles } from '../support/tls.ts';

async function tokenFile(token: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'wn-fleet-')), 'token');
  await writeFile(file, `${token}\n`);
  return file;
}

describe('wn-agent fleet options', () => {
  it('reads a complete configuration', async () => {
    const file = await tokenFile('a-token-of-20-chars!');
    const config = parseFleetConfig(
      {
        spec: 'f.json',
        name: 'atlas',
        min: '1',
        max: '20',
        maxSurge: '2',
        maxUnavailable: '3',
        interval: '5s',
        engineSocket: '/s',
        adminTokenFile: file,
      },
      { CONDOR_CONFIG: '/etc/condor/condor_config' },
    );
    expect(config.metricsListen).toBeUndefined();
    expect(
      parseFleetConfig(
        {
          spec: 'f',
          name: 'wn',
          min: '0',
          max: '1',
          maxSurge: '1',
          maxUnavailable: '1',
          interval: '1s',
          engineSocket: '/s',
          adminTokenFile: file,
          metricsListen: '127.0.0.1:9681',
        },
        { CONDOR_CONFIG: '/c' },
      ).metricsListen,
    ).toEqual({ host: '127.0.0.1', port: 9681 });
    expect(config).toMatchObject({
      name: 'atlas',
      min: 1,
      max: 20,
      maxSurge: 2,
      maxUnavailable: 3,
      intervalMs: 5000,
      adminToken: 'a-token-of-20-chars!',
      condorConfig: '/etc/condor/condor_config',
    });
  });

  it.each([
    [{ spec: undefined }, '--spec: required'],
    [{ max: undefined }, '--max: expected a whole number'],
    [{ min: '5', max: '2' }, '--min: 5 is above --max 2'],
    [{ maxUnavailable: '0' }, '--max-unavailable: must be at least 1'],
    [{ interval: 'soon' }, '--interval: expected a duration'],
    [{ name: 'Fleet One' }, '--name: lower-case letters'],
    [{ adminTokenFile: '/nonexistent/token' }, '--admin-token-file: cannot read /nonexistent/token'],
    [{ metricsListen: '9681' }, '--metrics-listen: expected host:port (port 1-65535) or off'],
    // The same rule as the agent's --admin-listen: port 0 (any free port) is no address a scraper can be told.
    [{ metricsListen: '0.0.0.0:0' }, '--metrics-listen: expected host:port (port 1-65535) or off'],
    [{ workerPrivileges: 'root' }, '--worker-privileges: one of auto, capabilities, privileged, got "root"'],
    [{ ownerDemandCap: '0' }, '--owner-demand-cap: must be at least 1'],
    [{ ownerDemandCap: 'lots' }, '--owner-demand-cap: expected a whole number'],
  ])('refuses %j with a message naming the flag', async (override, message) => {
    const base = {
      spec: 'f.json',
      name: 'wn',
      min: '0',
      max: '4',
      maxSurge: '1',
      maxUnavailable: '1',
      interval: '10s',
      engineSocket: '/s',
      adminTokenFile: await tokenFile('a-token-of-20-chars!'),
    };
    expect(() => parseFleetConfig({ ...base, ...override }, { CONDOR_CONFIG: '/c' })).toThrow(message);
  });

  it('refuses a short token and a missing pool configuration', async () => {
    const base = {
      spec: 'f.json',
      name: 'wn',
      min: '0',
      max: '4',
      maxSurge: '1',
      maxUnavailable: '1',
      interval: '10s',
      engineSocket: '/s',
    };
    expect(() => parseFleetConfig({ ...base, adminTokenFile: 'x' }, {})).toThrow('--admin-token-file');
    const short = await tokenFile('short');
    expect(() => parseFleetConfig({ ...base, adminTokenFile: short }, { CONDOR_CONFIG: '/c' })).toThrow('at least 16 characters');
    const good = await tokenFile('a-token-of-20-chars!');
    expect(() => parseFleetConfig({ ...base, adminTokenFile: good }, {})).toThrow('--condor-config: required');
  });
});

describe('wn-agent fleet status', () => {
  it('shows each worker with its phase, jobs and whether its spec is outdated, and what comes next', () => {
    const screen = fleetStatusScreen({
      spec: { image: 'i', env: {}, mounts: [], args: [] },
      workers: [
        { id: '1', name: 'wn-abc-1', specHash: 'new', phase: 'busy', runningJobs: 2, startedAt: 1 },
        { id: '2', name: 'wn-old-2', specHash: 'old', phase: 'draining', runningJobs: 1, startedAt: 0 },
      ],
      idleJobs: 3,
      specHash: 'new',
      plan: { start: 1, drain: [], target: 2, reason: 'upgrade: 1 outdated' },
    });
    expect(screen).toContain('idle jobs that fit: 3');
    expect(screen).toMatch(/wn-abc-1\s+busy\s+2\s+new\n/);
    expect(screen).toMatch(/wn-old-2\s+draining\s+1\s+old \(outdated\)/);
    expect(screen).toContain('next: start 1, drain 0 (upgrade: 1 outdated)');
  });
});

describe('wn-agent fleet options: TLS of the workers admin port', () => {
  const base = async (): Promise<Record<string, unknown>> => ({
    spec: 'f.json',
    name: 'wn',
    min: '0',
    max: '4',
    maxSurge: '1',
    maxUnavailable: '1',
    interval: '10s',
    engineSocket: '/s',
    adminTokenFile: await tokenFile('a-token-of-20-chars!'),
  });
  let pki: { ca: PemFiles; worker: PemFiles; stranger: PemFiles } | undefined;
  const certificates = async (): Promise<{ ca: PemFiles; worker: PemFiles; stranger: PemFiles }> => {
    if (pki) return pki;
    const dir = await mkdtemp(join(tmpdir(), 'wn-fleet-tls-'));
    const ca = await makeCa(dir, 'fleet-ca');
    pki = {
      ca,
      worker: await makeServerCert(dir, ca, 'worker'),
      stranger: await makeServerCert(dir, await makeCa(dir, 'other-ca'), 'stranger'),
    };
    return pki;
  };

  it('reads the certificate, its key and the CA when all three are given, and nothing when none is', async () => {
    const { ca, worker } = await certificates();
    const config = parseFleetConfig(
      { ...(await base()), workerTlsCert: worker.cert, workerTlsKey: worker.key, workerCaFile: ca.cert },
      { CONDOR_CONFIG: '/c' },
    );
    expect(config.workerTls?.cert.toString()).toBe(await readFile(worker.cert, 'utf8'));
    expect(config.workerTls?.key.toString()).toBe(await readFile(worker.key, 'utf8'));
    expect(config.workerTls?.ca.toString()).toBe(await readFile(ca.cert, 'utf8'));
    expect(parseFleetConfig(await base(), { CONDOR_CONFIG: '/c' }).workerTls).toBeUndefined();
  });

  it('takes a certificate file that carries the intermediate CA between it and --worker-ca-file', async () => {
    const { ca } = await certificates();
    const dir = await mkdtemp(join(tmpdir(), 'wn-fleet-tls-'));
    const intermediate = await makeServerCert(dir, ca, 'intermediate', { intermediate: true });
    const leaf = await makeServerCert(dir, intermediate, 'leaf');
    const chain = join(dir, 'chain.crt');
    await writeFile(chain, (await readFile(leaf.cert, 'utf8')) + (await readFile(intermediate.cert, 'utf8')));
    const options = await base();
    const parse = (cert: string): unknown =>
      parseFleetConfig({ ...options, workerTlsCert: cert, workerTlsKey: leaf.key, workerCaFile: ca.cert }, { CONDOR_CONFIG: '/c' });
    expect(() => parse(chain)).not.toThrow();
    expect(() => parse(leaf.cert)).toThrow('is not signed by the CA'); // without the intermediate, no chain to the CA
  });

  it('refuses TLS workers without the CA, a partial set, a key of another certificate and a certificate of another CA', async () => {
    const { ca, worker, stranger } = await certificates();
    const parse = async (extra: Record<string, unknown>): Promise<unknown> =>
      parseFleetConfig({ ...(await base()), ...extra }, { CONDOR_CONFIG: '/c' });
    await expect(parse({ workerTlsCert: worker.cert, workerTlsKey: worker.key })).rejects.toThrow(
      /^--worker-ca-file: required with --worker-tls-cert and --worker-tls-key: the PEM CA that signed the workers' certificate/,
    );
    await expect(parse({ workerCaFile: ca.cert })).rejects.toThrow(
      '--worker-tls-cert: required with --worker-tls-cert, --worker-tls-key and --worker-ca-file',
    );
    await expect(parse({ workerTlsCert: worker.cert, workerCaFile: ca.cert })).rejects.toThrow('--worker-tls-key: required');
    await expect(parse({ workerTlsCert: worker.cert, workerTlsKey: stranger.key, workerCaFile: ca.cert })).rejects.toThrow(
      `--worker-tls-key: ${stranger.key} is not the key of the certificate in ${worker.cert}`,
    );
    await expect(parse({ workerTlsCert: stranger.cert, workerTlsKey: stranger.key, workerCaFile: ca.cert })).rejects.toThrow(
      `--worker-tls-cert: the certificate in ${stranger.cert} (CN=stranger.invalid) is not signed by the CA in ${ca.cert}`,
    );
    await expect(parse({ workerTlsCert: worker.cert, workerTlsKey: worker.key, workerCaFile: '/nonexistent/ca.pem' })).rejects.toThrow(
      '--worker-ca-file: cannot read /nonexistent/ca.pem',
    );
    await expect(parse({ workerTlsCert: worker.cert, workerTlsKey: worker.key, workerCaFile: worker.key })).rejects.toThrow(
      `--worker-ca-file: ${worker.key} holds no PEM certificate`,
    );
  });
});
