import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSpecFile, validateSpec } from '../../agent/fleet/spec-file.ts';
import { testPool } from '../support/pool.ts';

/** A spec file as the controller expects one: root's, 0644, in a fresh directory. */
async function specFile(spec: unknown, { mode = 0o644, uid = 0 }: { mode?: number; uid?: number } = {}): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'wn-spec-')), 'fleet.json');
  await writeFile(file, typeof spec === 'string' ? spec : JSON.stringify(spec));
  await chown(file, uid, 0);
  await chmod(file, mode);
  return file;
}

/** Why readSpecFile refuses the file (the test fails if it is accepted). */
async function refusal(file: string): Promise<Error & { code?: string }> {
  const spec = await readSpecFile(file).catch((error: unknown) => error as Error & { code?: string });
  if (!(spec instanceof Error)) throw new Error(`accepted: ${JSON.stringify(spec)}`);
  return spec;
}

/** readSpecFile on a real file refuses it with WN_ERR_CONFIG, naming the file and saying each of `parts`. */
async function expectRefused(spec: unknown, ...parts: string[]): Promise<void> {
  const file = await specFile(spec);
  const error = await refusal(file);
  expect(error.message).toContain(`--spec ${file}`);
  for (const part of parts) expect(error.message).toContain(part);
  expect(error.code).toBe('WN_ERR_CONFIG');
}

const withMounts = (...mounts: string[]) => ({ image: 'i', mounts });

describe('the fleet spec file', () => {
  it('accepts a full spec and fills the defaults', () => {
    expect(validateSpec({ image: 'wn-agent:1' }, 'f.json')).toEqual({
      image: 'wn-agent:1',
      env: {},
      mounts: [],
      network: undefined,
      cpus: undefined,
      memoryMiB: undefined,
      args: [],
    });
    const full = {
      image: 'i',
      env: { CONDOR_HOST: 'cm' },
      mounts: ['/a:/b:ro'],
      network: 'n',
      cpus: 8,
      memoryMiB: 16384,
      args: ['--idle-timeout', '10m'],
    };
    expect(validateSpec(full, 'f.json')).toEqual(full);
  });

  it.each([
    [[], '"(top level)" must be a JSON object'],
    [{}, '"image" must be an image reference'],
    [{ image: 'i', env: { A: 1 } }, '"env" must be an object of strings'],
    [{ image: 'i', env: { WN_ADMIN_TOKEN: 'x' } }, 'without WN_ADMIN_TOKEN'],
    [{ image: 'i', cpus: 0 }, '"cpus" must be a positive number'],
    [{ image: 'i', mounts: '/a:/b' }, '"mounts" must be an array of strings'],
    [{ image: 'i', replicas: 3 }, '"replicas" must be one of'],
    // What every worker of the spec would refuse at start (exit 2), in the worker's own words.
    [
      { image: 'i', env: { WN_ATTR_ContainerImage: 'forged' } },
      'a worker would refuse this spec (exit 2): WN_ATTR_ContainerImage: ContainerImage is set by wn-agent itself and cannot be overridden',
    ],
    [
      { image: 'i', env: { WN_IDLE_TIMOUT: '5m' } },
      'a worker would refuse this spec (exit 2): WN_IDLE_TIMOUT: not an option of wn-agent run',
    ],
    [{ image: 'i', args: ['--idle-timout', '5m'] }, "a worker would refuse this spec (exit 2): the worker's arguments: Unknown argument"],
    [{ image: 'i', args: ['--cpus', 'lots'] }, 'a worker would refuse this spec (exit 2): --cpus (WN_CPUS)'],
    [{ image: 'i', env: { WN_JOB_ISOLATION: 'maybe' } }, 'a worker would refuse this spec (exit 2): --job-isolation (WN_JOB_ISOLATION)'],
  ])('refuses %j naming the file and the field', (raw, message) => {
    expect(() => validateSpec(raw, 'fleet.json')).toThrow(message);
    expect(() => validateSpec(raw, 'fleet.json')).toThrow('--spec fleet.json');
  });

  it('reads a root-owned 0644 file holding the mounts and network the integration fleet uses', async () => {
    const spec = {
      image: 'wn-agent:1',
      env: { CONDOR_HOST: testPool.cm, WN_DRAIN_TIMEOUT: '15s' },
      mounts: [testPool.passwordMount, testPool.testConfigMount, '/srv/site:/etc/wn-agent/condor.d:ro,nosuid,nodev,rslave,Z'],
      network: testPool.network,
      cpus: 1,
      args: ['--cpus', '1'],
    };
    expect(await readSpecFile(await specFile(spec))).toEqual({ ...spec, memoryMiB: undefined });
  });
});

describe('the spec file itself', () => {
  it('refuses a file root does not own, and one group or others can write, saying what to run', async () => {
    const foreign = await specFile({ image: 'i' }, { uid: 1000 });
    await expect(readSpecFile(foreign)).rejects.toThrow(
      `--spec ${foreign}: must be owned by root, got owner uid 1000: run chown root: ${foreign}`,
    );
    const everyone = await specFile({ image: 'i' }, { mode: 0o666 });
    await expect(readSpecFile(everyone)).rejects.toThrow(
      `--spec ${everyone}: must not be writable by group or others, got mode 0666: run chmod go-w ${everyone}`,
    );
    const group = await specFile({ image: 'i' }, { mode: 0o664 });
    await expect(readSpecFile(group)).rejects.toThrow('got mode 0664');
    await expect(readSpecFile(await specFile({ image: 'i' }, { mode: 0o600 }))).resolves.toMatchObject({ image: 'i' });
  });

  it('refuses a file over 1 MiB', async () => {
    const big = await specFile(JSON.stringify({ image: 'i', env: { PAD: 'x'.repeat(1 << 20) } }));
    await expect(readSpecFile(big)).rejects.toThrow(/must be at most 1 MiB, got 10\d{5} bytes/);
  });

  it('refuses what is not a regular file: a FIFO (without waiting on it), a directory, a symbolic link', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-spec-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(readSpecFile(fifo)).rejects.toThrow(`--spec ${fifo}: must be a regular file`);
    await expect(readSpecFile(dir)).rejects.toThrow(`--spec ${dir}: must be a regular file`);
    const link = join(dir, 'link.json');
    await symlink(await specFile({ image: 'i' }), link);
    await expect(readSpecFile(link)).rejects.toThrow(`--spec ${link}: is a symbolic link`);
  });
});

describe('the spec: mounts', () => {
  it.each([
    ['/a', 'host:container[:options]'],
    ['/a:/b:ro:x', 'host:container[:options]'],
    ['a:/b', 'an absolute path without ".." segments on its host side, got "a"'],
    ['/a/../etc:/b', 'an absolute path without ".." segments on its host side, got "/a/../etc"'],
    ['/a:b', 'on its container side, got "b"'],
    ['/a:/b/..', 'on its container side, got "/b/.."'],
    ['/a:/b:exec', 'bind options from ro, rw, z, Z, shared, slave, private, rshared, rslave, rprivate, nosuid, nodev, noexec, got "exec"'],
    ['/a:/b:ro,', 'bind options from'],
    ['/a:/b:ro,rw', 'ro or rw, not both, got "ro,rw"'],
  ])('refuses the entry %j', async (mount, message) => {
    await expectRefused(withMounts('/ok:/ok:ro', mount), '"mounts[1]" must be', message);
  });

  it.each([
    ['/', '/proc'],
    ['/proc', '/proc'],
    ['/proc/1/root', '/proc'],
    ['//sys/', '/sys'],
    ['/dev/sda', '/dev'],
    ['/run/docker.sock', '/run/docker.sock'],
    ['/var/run/docker.sock', '/var/run/docker.sock'],
    ['/run/podman/podman.sock', '/run/podman'],
    ['/var/run/podman', '/var/run/podman'],
    ['/run/containerd/containerd.sock', '/run/containerd'],
    ['/var/run/containerd', '/var/run/containerd'],
    ['/run/crio/crio.sock', '/run/crio'],
    ['/run', '/run/docker.sock'],
    ['/var', '/var/run/docker.sock'],
  ])('refuses the host source %s (it holds or lies in %s)', async (source, place) => {
    await expectRefused(withMounts(`${source}:/mnt/x`), '"mounts[0]" must be a host path', `neither holds nor lies in ${place}`);
  });

  it('refuses a *.sock host path, and a socket the controller sees (itself or through a link); a path missing here passes', async () => {
    await expectRefused(withMounts('/srv/engine/api.sock:/mnt/x'), 'not a socket', '"/srv/engine/api.sock"');
    const dir = await mkdtemp(join(tmpdir(), 'wn-spec-sock-'));
    const socket = join(dir, 'engine');
    const server = await listening(socket);
    try {
      await expectRefused(withMounts(`${socket}:/mnt/x`), '"mounts[0]" must be a host path that is not a socket', socket);
      await symlink(socket, join(dir, 'innocent'));
      await expectRefused(withMounts(`${join(dir, 'innocent')}:/mnt/x`), 'not a socket');
    } finally {
      server.close();
    }
    await symlink('/proc', join(dir, 'data'));
    await expectRefused(withMounts(`${join(dir, 'data')}:/mnt/x`), 'neither holds nor lies in /proc');
    const file = await specFile(withMounts(`${join(dir, 'not-here')}:/mnt/x`));
    await expect(readSpecFile(file)).resolves.toMatchObject({ mounts: [`${join(dir, 'not-here')}:/mnt/x`] });
  });

  it.each(['/', '/proc', '/proc/sys', '/sys/fs/cgroup', '/dev', '/dev/fuse/'])('refuses the container target %s', async (target) => {
    await expectRefused(withMounts(`/srv/x:${target}`), '"mounts[0]" must be a container path apart from /, /proc, /sys, /dev');
  });

  it.each(['/etc/wn-fleet', '/etc/wn-fleet/admin-token', '/etc/'])(
    'refuses the container target %s (each worker gets its credentials there)',
    async (target) => {
      await expectRefused(
        withMounts(`/srv/x:${target}:ro`),
        '"mounts[0]" must be a container path that neither holds nor lies in /etc/wn-fleet',
      );
    },
  );

  it('wants :ro on a mount that holds, or lies in, a place the worker reads credentials from', async () => {
    for (const target of [
      '/etc/condor/passwords-orig.d/POOL',
      '/etc/condor/passwords-orig.d',
      '/etc/condor',
      '/etc/condor/tokens-orig.d/fleet',
      '/etc/condor/passwords.d/POOL',
      '/etc/condor/tokens.d',
      '/var/run/secrets/kubernetes.io/serviceaccount',
      '/run/secrets/db',
    ]) {
      await expectRefused(withMounts(`/srv/secret:${target}:rw`), '"mounts[0]" must be read-only (":ro")', `got "${target}"`);
      await expectRefused(withMounts(`/srv/secret:${target}`), 'read-only');
      expect(validateSpec(withMounts(`/srv/secret:${target}:ro`), 'f')).toMatchObject({ mounts: [`/srv/secret:${target}:ro`] });
    }
    expect(validateSpec(withMounts('/srv/site:/etc/wn-agent/condor.d'), 'f').mounts).toHaveLength(1);
  });

  it('wants :ro where the spec points the worker at other credential paths, by variable or flag', async () => {
    const cases: [Record<string, string>, string[], string][] = [
      [{ WN_POOL_PASSWORD_FILE: '/secrets/pool/POOL' }, [], '/secrets/pool'],
      [{ WN_TOKEN_DIR: '/tokens/' }, [], '/tokens/idtoken'],
      [{}, ['--pool-password-file', '/p/POOL'], '/p'],
      [{}, ['--token-dir=/t'], '/t'],
      [{}, ['--tokenDir', '/camel'], '/camel'],
    ];
    for (const [env, args, target] of cases) {
      await expectRefused({ image: 'i', env, args, mounts: [`/srv/s:${target}`] }, '"mounts[0]" must be read-only', target);
      expect(validateSpec({ image: 'i', env, args, mounts: [`/srv/s:${target}:ro`] }, 'f').mounts).toHaveLength(1);
    }
  });
});

describe('the spec: network, env and args', () => {
  it.each([
    'host',
    'HOST',
    'none',
    'private',
    'slirp4netns',
    'slirp4netns:port_handler=slirp4netns',
    'pasta',
    'pasta:-T,8080',
    'container:abc',
    'ns:/proc/1/ns/net',
    'a/b',
    'a:b',
    '-flag',
    '',
    'n'.repeat(65),
  ])('refuses the network %j', async (network) => {
    await expectRefused({ image: 'i', network }, '"network" must be the name of a bridge network', `got ${JSON.stringify(network)}`);
  });

  it('accepts a network name', () => {
    expect(validateSpec({ image: 'i', network: 'wn-pool_1.net' }, 'f').network).toBe('wn-pool_1.net');
    expect(validateSpec({ image: 'i', network: 'n'.repeat(64) }, 'f').network).toHaveLength(64);
  });

  it.each(['WN_ADMIN_LISTEN', 'WN_ADMIN_TOKEN_FILE', 'WN_ADMIN_TLS_KEY', 'WN_ADMIN_MAX_CLIENTS'])(
    'refuses %s in env without echoing its value',
    async (key) => {
      const file = await specFile({ image: 'i', env: { [key]: 'secret-value' } });
      const error = await refusal(file);
      expect(error.message).toContain(`--spec ${file}: "env" must be without WN_ADMIN_TOKEN or any other WN_ADMIN_* variable`);
      expect(error.message).toContain(`got "${key}"`);
      expect(error.message).not.toContain('secret-value');
    },
  );

  it.each([
    [['--admin-listen', '0.0.0.0:1'], '--admin-listen'],
    [['--admin-token=secret-value'], '--admin-token'],
    [['--cpus', '2', '--adminTokenFile', '/x'], '--adminTokenFile'],
  ])('refuses the args %j without echoing a value', async (args, flag) => {
    const file = await specFile({ image: 'i', args });
    const error = await refusal(file);
    expect(error.message).toContain(`--spec ${file}: "args" must be without --admin* flags`);
    expect(error.message).toContain(`got "${flag}"`);
    expect(error.message).not.toContain('secret-value');
  });
});

function listening(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(path, () => resolve(server));
  });
}
