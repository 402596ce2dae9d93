import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerApi } from '../../agent/fleet/docker.ts';
import { bridgeNetworkCheck, checkBridgeNetwork } from '../../agent/fleet/network-check.ts';

/** A container engine that knows a few networks, on a unix socket, counting the requests for each path. */
async function fakeEngine(drivers: Record<string, string>): Promise<{ api: DockerApi; asked: string[] }> {
  const socket = join(await mkdtemp(join(tmpdir(), 'wn-engine-')), 'engine');
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const name = decodeURIComponent(/^\/v1\.41\/networks\/([^/?]+)$/.exec(req.url ?? '')?.[1] ?? '');
    const driver = drivers[name];
    res.writeHead(driver ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(driver ? { Name: name, Driver: driver } : { message: `network ${name} not found` }));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  servers.push(server);
  return { api: new DockerApi(socket, 2000), asked };
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

describe('the spec network, as the engine sees it', () => {
  it('passes a bridge network and refuses any other driver with WN_ERR_CONFIG, naming the network and its driver', async () => {
    const { api } = await fakeEngine({ htcondor: 'bridge', lan: 'macvlan', host: 'host' });
    await expect(checkBridgeNetwork(api, 'htcondor')).resolves.toBeUndefined();
    await expect(checkBridgeNetwork(api, 'lan')).rejects.toMatchObject({
      code: 'WN_ERR_CONFIG',
      message: '--spec: "network" must be a bridge network, got "lan" (driver "macvlan")',
    });
    await expect(checkBridgeNetwork(api, 'host')).rejects.toMatchObject({ code: 'WN_ERR_CONFIG' });
  });

  it('a network the engine does not know is the engine refusing the call', async () => {
    const { api } = await fakeEngine({});
    await expect(checkBridgeNetwork(api, 'gone')).rejects.toMatchObject({
      code: 'WN_ERR_FLEET_BACKEND',
      message: expect.stringContaining('GET /networks/gone: HTTP 404') as unknown,
    });
  });

  it('asks the engine once per name for a verdict, and again after a failed call', async () => {
    const { api, asked } = await fakeEngine({ htcondor: 'bridge', lan: 'ipvlan' });
    const check = bridgeNetworkCheck(api);
    for (let i = 0; i < 3; i++) {
      await check('htcondor');
      await expect(check('lan')).rejects.toThrow('driver "ipvlan"');
      await expect(check('later')).rejects.toThrow('HTTP 404');
    }
    expect(asked.filter((url) => url.endsWith('/htcondor'))).toHaveLength(1);
    expect(asked.filter((url) => url.endsWith('/lan'))).toHaveLength(1);
    expect(asked.filter((url) => url.endsWith('/later'))).toHaveLength(3);
  });
});
