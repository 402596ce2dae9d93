import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetStatusScreen, parseFleetConfig } from '../../agent/fleet/command.ts';

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
    [{ metricsListen: '9681' }, '--metrics-listen: expected host:port or off'],
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
