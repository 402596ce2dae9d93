import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerBackend, workerContainer } from '../../agent/fleet/docker-backend.ts';
import { DockerApi } from '../../agent/fleet/docker.ts';
import { workerCredentialFiles, type FleetCredentials } from '../../agent/fleet/worker-credentials.ts';
import { workerToken } from '../../agent/fleet/worker-token.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { containersConf, podman, run } from '../support/exec.ts';

// How a worker gets its credentials, against a real engine (podman serving the Docker Engine API on a socket of its
// own): the worker's container as the backend describes it, from a plain Debian image with `sleep` for a command
// (the agent is not needed to see where the files land and who owns them), given its files by the backend before
// it starts, then looked at from outside with podman, as an operator would.

const image = process.env.WN_DEBIAN_IMAGE ?? 'localhost/debian:trixie';
const fleet = `wn-cred-${randomBytes(2).toString('hex')}`;
const credentials: FleetCredentials = {
  key: `fleet-key-${randomBytes(8).toString('hex')}`,
  tls: {
    cert: Buffer.from('-----BEGIN CERTIFICATE-----\nstand-in\n'),
    key: Buffer.from('stand-in key\n'),
    ca: Buffer.from('stand-in ca\n'),
  },
};
let dir: string;
let service: ChildProcess | undefined;
let api: DockerApi;
let backend: DockerBackend;

beforeAll(async () => {
  dir = await mkdtemp('/var/tmp/wn-fleet-cred-');
  api = new DockerApi(`${dir}/engine.sock`);
  backend = new DockerBackend(api, fleet);
  service = spawn('podman', ['system', 'service', '--time=0', `unix://${dir}/engine.sock`], {
    env: { ...process.env, CONTAINERS_CONF: containersConf },
    stdio: 'ignore',
  });
  await waitFor(async () => ((await api.request('GET', '/_ping').catch(() => undefined))?.status === 200 ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'podman system service answering',
  });
});
afterAll(async () => {
  for (const w of await backend.list().catch(() => [])) await podman(['rm', '-f', '-t', '0', w.id]).catch(() => undefined);
  service?.kill();
  await rm(dir, { recursive: true, force: true });
});

/** The worker's container as DockerBackend.start makes it, with `sleep` in place of the agent. */
function sleeper(name: string, args: string[]): Record<string, unknown> {
  const spec = { image, env: { CONDOR_HOST: 'cm.invalid' }, mounts: [], network: 'none', args: [] };
  return { ...workerContainer(fleet, spec, 'abcdef123456', name, args, true), Cmd: ['sleep', '120'] };
}

describe('worker credentials through the Docker Engine API (podman system service)', () => {
  it('puts the token and TLS files into the container root-only before it starts, and nothing secret in its environment', async () => {
    const name = `${fleet}-abcdef-1`;
    const { files, args } = workerCredentialFiles(credentials, name);
    expect(args).toEqual([
      '--admin-token-file',
      '/etc/wn-fleet/admin-token',
      '--admin-tls-cert',
      '/etc/wn-fleet/tls.crt',
      '--admin-tls-key',
      '/etc/wn-fleet/tls.key',
    ]);
    const id = await backend.launch(name, sleeper(name, args), files);
    expect((await podman(['inspect', '-f', '{{.State.Status}}', id])).trim()).toBe('running');

    const stat = (path: string): Promise<string> => podman(['exec', id, 'stat', '-c', '%a %u %g %F', path]).then((out) => out.trim());
    expect(await stat('/etc/wn-fleet')).toBe('700 0 0 directory');
    expect(await stat('/etc/wn-fleet/admin-token')).toBe('400 0 0 regular file');
    expect(await stat('/etc/wn-fleet/tls.crt')).toBe('444 0 0 regular file');
    expect(await stat('/etc/wn-fleet/tls.key')).toBe('400 0 0 regular file');
    const token = workerToken(credentials.key, name);
    expect(await podman(['exec', id, 'cat', '/etc/wn-fleet/admin-token'])).toBe(`${token}\n`);
    expect(await podman(['exec', id, 'ls', '/etc/wn-fleet'])).toBe('admin-token\ntls.crt\ntls.key\n'); // never the CA

    // What `docker inspect` shows, and what any process in the container reads in /proc/1/environ: no token, no key.
    const inspected = await podman(['inspect', id]);
    const env = (JSON.parse(inspected) as { Config: { Env: string[] } }[])[0]?.Config.Env ?? [];
    expect(env).toContain('CONDOR_HOST=cm.invalid');
    expect(env.filter((e) => e.startsWith('WN_ADMIN'))).toEqual([]);
    expect(inspected).not.toContain(token);
    expect(inspected).not.toContain(credentials.key);
    const environ = await podman(['exec', id, 'cat', '/proc/1/environ']);
    expect(environ).toContain('CONDOR_HOST=cm.invalid');
    expect(environ).not.toContain(token);
    expect(environ).not.toContain('WN_ADMIN');

    // Listed as a worker of the fleet that serves its admin port with TLS.
    expect((await backend.list()).find((w) => w.id === id)).toMatchObject({ name, running: true, tls: true, specHash: 'abcdef123456' });
    await podman(['rm', '-f', '-t', '0', id]);
  });

  it('removes a container that was created but could not start, and says so', async () => {
    const name = `${fleet}-abcdef-2`;
    const { files, args } = workerCredentialFiles(credentials, name);
    const body = { ...sleeper(name, args), Cmd: ['/no/such/program'] };
    await expect(backend.launch(name, body, files)).rejects.toThrow(`worker ${name} not started (its container was removed)`);
    expect((await run('podman', ['container', 'exists', name])).code).toBe(1);
  });
});
