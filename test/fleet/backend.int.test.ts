import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerBackend } from '../../agent/fleet/docker-backend.ts';
import { DockerApi } from '../../agent/fleet/docker.ts';
import { observed } from '../../agent/fleet/observe.ts';
import { workerToken } from '../../agent/fleet/worker-token.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { containersConf, image, podman } from '../support/exec.ts';
import { testPool as pool } from '../support/pool.ts';

// The fleet's Docker Engine API backend against a real engine: podman serving the Docker API on a socket of its own
// (`podman system service`), starting a real worker that joins the real pool, which the test then reads and drains
// through the worker's own agent, as the fleet controller does.

const socket = `/run/wn-fleet-test-${randomBytes(3).toString('hex')}.sock`;
const fleet = `wn-fleet-${randomBytes(2).toString('hex')}`;
const key = `fleet-test-key-${randomBytes(8).toString('hex')}`;
let service: ChildProcess;
const api = new DockerApi(socket);
const backend = new DockerBackend(api, fleet);

async function agentStatus(address: string, token: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`http://${address}:9680/v1/status`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(3000),
  }).catch(() => undefined);
  return res?.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
}

beforeAll(async () => {
  service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
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
  for (const w of await backend.list().catch(() => [])) await podman(['rm', '-f', w.id]).catch(() => undefined);
  service?.kill();
});

describe('the Docker Engine API backend (podman system service, real pool)', () => {
  it('starts a worker that joins the pool, lists it with its spec label and address, and sees it drain and go', async () => {
    const spec = {
      image,
      env: { CONDOR_HOST: pool.cm },
      mounts: [pool.passwordMount, pool.testConfigMount],
      network: pool.network,
      args: [],
    };
    const id = await backend.start(spec, 'abcdef123456', { key });
    const listed = await waitFor(async () => (await backend.list()).find((w) => w.id === id && w.address), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the worker listed with an address',
    });
    expect(listed).toMatchObject({ specHash: 'abcdef123456', running: true });
    expect(listed.name.startsWith(`${fleet}-abcdef-`)).toBe(true);

    // Its agent, asked with its own token (derived from the fleet's key and its name, as the controller derives it):
    // idle once the startd is in the collector. The fleet's key itself opens nothing.
    const address = String(listed.address);
    const token = workerToken(key, listed.name);
    await waitFor(async () => (observed(listed, await agentStatus(address, token)).phase === 'idle' ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'the worker idle',
    });
    expect(await pool.status(`ContainerTaskId == "${listed.name}"`, ['Name'])).toHaveLength(1);
    expect(await agentStatus(address, key)).toBeUndefined();

    // Drained the way the fleet drains (never killed): the agent exits on its own, 0, and the backend forgets it.
    const drain = await fetch(`http://${address}:9680/v1/drain`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(drain.status).toBe(202);
    const gone = await waitFor(async () => (await backend.list()).find((w) => w.id === id && !w.running), {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'the worker exited',
    });
    expect(observed(gone, undefined).phase).toBe('gone');
    expect((await podman(['inspect', '-f', '{{.State.ExitCode}}', id])).trim()).toBe('0');
    await backend.forget(id);
    expect((await backend.list()).map((w) => w.id)).not.toContain(id);
  });

  it('says which engine socket is missing, with the fix', async () => {
    await expect(new DockerBackend(new DockerApi('/run/no-such-engine.sock'), fleet).list()).rejects.toThrow(
      /no container engine at \/run\/no-such-engine.sock .*podman system service/,
    );
  });
});
