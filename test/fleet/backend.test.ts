import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerBackend } from '../../agent/fleet/docker-backend.ts';
import { specHash, type WorkerSpec } from '../../agent/fleet/spec.ts';
import type { DockerApi } from '../../agent/fleet/docker.ts';
import { workerToken } from '../../agent/fleet/worker-token.ts';
import { check } from '../support/exec.ts';

const spec: WorkerSpec = {
  image: 'wn-agent:1',
  env: { CONDOR_HOST: 'cm', WN_IDLE_TIMEOUT: '10m' },
  mounts: ['/p:/etc/condor/passwords-orig.d/POOL:ro'],
  args: [],
};

describe('specHash: the label that tells an old worker from a new one', () => {
  it('is the same for the same spec whatever the order of its variables', () => {
    expect(specHash({ ...spec, env: { WN_IDLE_TIMEOUT: '10m', CONDOR_HOST: 'cm' } })).toBe(specHash(spec));
    expect(specHash(spec)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('changes with the image, a variable, a mount, the resources or the agent flags', () => {
    const variants: WorkerSpec[] = [
      { ...spec, image: 'wn-agent:2' },
      { ...spec, env: { ...spec.env, WN_IDLE_TIMEOUT: '5m' } },
      { ...spec, mounts: [] },
      { ...spec, cpus: 8 },
      { ...spec, memoryMiB: 16384 },
      { ...spec, args: ['--job-pids-max', '100'] },
    ];
    const hashes = new Set([spec, ...variants].map(specHash));
    expect(hashes.size).toBe(variants.length + 1);
  });
});

/** An engine stand-in recording the calls DockerBackend.start makes; `failPut` makes the archive upload fail. */
function recordingApi(failPut = false, cgroupVersion = '1'): { api: DockerApi; calls: { method: string; path: string; body?: unknown }[] } {
  const calls: { method: string; path: string; body?: unknown }[] = [];
  const api = {
    call: async (method: string, path: string, body?: unknown) => {
      calls.push({ method, path, body });
      if (path === '/info') return { CgroupVersion: cgroupVersion };
      return method === 'POST' && path.startsWith('/containers/create') ? { Id: 'c0ffee' } : undefined;
    },
    put: async (path: string, data: Buffer, contentType: string) => {
      calls.push({ method: 'PUT', path, body: { data, contentType } });
      if (failPut) throw new Error('PUT: HTTP 500: no space left on device');
    },
  };
  return { api: api as unknown as DockerApi, calls };
}

async function untar(data: Buffer): Promise<{ listing: string; file: (path: string) => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wn-backend-'));
  await writeFile(join(dir, 'a.tar'), data);
  return {
    listing: await check('tar', ['--numeric-owner', '-tvf', join(dir, 'a.tar')]),
    file: (path) => check('tar', ['-xOf', join(dir, 'a.tar'), path]),
  };
}

describe('DockerBackend.start: every worker its own token, as a root-only file, never in its environment', () => {
  it("creates the container without the token, puts the worker's token file in before the start, and points the agent at it", async () => {
    const { api, calls } = recordingApi();
    const id = await new DockerBackend(api, 'atlas', 'privileged').start({ ...spec, args: ['--job-pids-max', '100'] }, 'abcdef123456', {
      key: 'fleet-key-of-some-length',
    });
    expect(id).toBe('c0ffee');
    expect(calls.map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual([
      'POST /containers/create',
      'PUT /containers/c0ffee/archive',
      'POST /containers/c0ffee/start',
    ]);
    const name = decodeURIComponent(calls[0]?.path.split('name=')[1] ?? '');
    const body = calls[0]?.body as { Cmd: string[]; Env: string[]; Labels: Record<string, string> };
    expect(body.Cmd).toEqual(['run', '--admin-token-file', '/etc/wn-fleet/admin-token', '--job-pids-max', '100']);
    expect(body.Env.filter((e) => e.startsWith('WN_ADMIN'))).toEqual([]);
    expect(JSON.stringify(body)).not.toContain(workerToken('fleet-key-of-some-length', name));
    expect(JSON.stringify(body)).not.toContain('fleet-key-of-some-length');
    expect(body.Labels).toMatchObject({ 'wn-fleet': 'atlas', 'wn-fleet-spec': 'abcdef123456', 'wn-fleet-admin': 'http' });

    const put = calls[1] as { path: string; body: { data: Buffer; contentType: string } };
    expect(put.path).toBe('/containers/c0ffee/archive?path=/');
    expect(put.body.contentType).toBe('application/x-tar');
    const archive = await untar(put.body.data);
    expect(archive.listing).toMatch(/^drwx------ 0\/0 .* etc\/wn-fleet\/\n-r-------- 0\/0 .* etc\/wn-fleet\/admin-token\n$/);
    expect(await archive.file('etc/wn-fleet/admin-token')).toBe(`${workerToken('fleet-key-of-some-length', name)}\n`);
  });

  it('with the fleet TLS files, puts the certificate and key in too and starts the agent serving TLS', async () => {
    const { api, calls } = recordingApi();
    const tls = { cert: Buffer.from('CERT\n'), key: Buffer.from('KEY\n'), ca: Buffer.from('CA\n') };
    await new DockerBackend(api, 'atlas', 'privileged').start(spec, 'abcdef123456', { key: 'fleet-key-of-some-length', tls });
    const body = calls[0]?.body as { Cmd: string[]; Labels: Record<string, string> };
    expect(body.Cmd).toEqual([
      'run',
      '--admin-token-file',
      '/etc/wn-fleet/admin-token',
      '--admin-tls-cert',
      '/etc/wn-fleet/tls.crt',
      '--admin-tls-key',
      '/etc/wn-fleet/tls.key',
    ]);
    expect(body.Labels['wn-fleet-admin']).toBe('https');
    const archive = await untar((calls[1]?.body as { data: Buffer }).data);
    expect(archive.listing).toMatch(/-r--r--r-- 0\/0 .* etc\/wn-fleet\/tls.crt\n-r-------- 0\/0 .* etc\/wn-fleet\/tls.key\n$/);
    expect(await archive.file('etc/wn-fleet/tls.key')).toBe('KEY\n');
    expect(archive.listing.trim().split('\n')).toHaveLength(4); // the directory, the token, the certificate and its key
  });

  it('removes the created container when the files cannot be put in, and says so', async () => {
    const { api, calls } = recordingApi(true);
    await expect(
      new DockerBackend(api, 'atlas', 'privileged').start(spec, 'abcdef123456', { key: 'fleet-key-of-some-length' }),
    ).rejects.toThrow(/worker atlas-abcdef-\w+ not started \(its container was removed\): PUT: HTTP 500: no space left on device/);
    expect(calls.map((c) => `${c.method} ${c.path}`).slice(1)).toEqual([
      'PUT /containers/c0ffee/archive?path=/',
      'DELETE /containers/c0ffee?force=true',
    ]);
  });

  it('auto: capabilities instead of Privileged where the engine runs cgroup v1, privileged on v2; asks the engine once', async () => {
    const v1 = recordingApi(false, '1');
    const backend = new DockerBackend(v1.api, 'atlas');
    await backend.start(spec, 'abcdef123456', { key: 'fleet-key-of-some-length' });
    await backend.start(spec, 'abcdef123456', { key: 'fleet-key-of-some-length' });
    expect(v1.calls.filter((c) => c.path === '/info')).toHaveLength(1);
    const host = (v1.calls[1]?.body as { HostConfig: Record<string, unknown> }).HostConfig;
    expect(host).not.toHaveProperty('Privileged');
    expect(host).toMatchObject({
      CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
      SecurityOpt: ['apparmor=unconfined'],
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
      Binds: [...spec.mounts, '/sys/fs/cgroup:/sys/fs/cgroup:rw'],
    });
    const v2 = recordingApi(false, '2');
    await new DockerBackend(v2.api, 'atlas').start(spec, 'abcdef123456', { key: 'fleet-key-of-some-length' });
    expect((v2.calls[1]?.body as { HostConfig: Record<string, unknown> }).HostConfig).toMatchObject({
      Privileged: true,
      Binds: spec.mounts,
    });
  });

  it("gives the worker its container name as its task ID (WN_TASK_ID) and the fleet's name as an attribute", async () => {
    const { api, calls } = recordingApi();
    await new DockerBackend(api, 'atlas', 'privileged').start(spec, 'abcdef123456', { key: 'fleet-key-of-some-length' });
    const name = decodeURIComponent(calls[0]?.path.split('name=')[1] ?? '');
    expect(name).toMatch(/^atlas-abcdef-[a-z0-9]+$/);
    expect((calls[0]?.body as { Env: string[] }).Env).toEqual(expect.arrayContaining([`WN_TASK_ID=${name}`, 'WN_ATTR_WnFleet=atlas']));
  });
});
