import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentCallLimits, httpAgentCall } from '../../agent/fleet/agent-call.ts';
import type { FleetCredentials } from '../../agent/fleet/worker-credentials.ts';
import { workerToken } from '../../agent/fleet/worker-token.ts';
import { makeCa, makeServerCert } from '../support/tls.ts';

// The controller's calls to a worker's agent, against real local servers: https with certificates made by openssl
// (one CA for the fleet, another one that the controller must refuse), and plain http.

const key = 'fleet-key-for-the-agent-call-test';
let fleetCa: Buffer;
let worker: { cert: Buffer; key: Buffer };
let stranger: { cert: Buffer; key: Buffer };
/** Signed by an intermediate CA that the fleet's CA signed; `cert` carries both. */
let chained: { cert: Buffer; key: Buffer };
const servers: http.Server[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wn-agent-call-'));
  const ca = await makeCa(dir, 'fleet-ca');
  const otherCa = await makeCa(dir, 'other-ca');
  const read = async (files: { cert: string; key: string }): Promise<{ cert: Buffer; key: Buffer }> => ({
    cert: await readFile(files.cert),
    key: await readFile(files.key),
  });
  fleetCa = await readFile(ca.cert);
  worker = await read(await makeServerCert(dir, ca, 'worker'));
  stranger = await read(await makeServerCert(dir, otherCa, 'stranger'));
  const intermediate = await makeServerCert(dir, ca, 'intermediate', { intermediate: true });
  const leaf = await read(await makeServerCert(dir, intermediate, 'leaf'));
  chained = { cert: Buffer.concat([leaf.cert, await readFile(intermediate.cert)]), key: leaf.key };
});
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

interface Seen {
  requests: { method?: string; url?: string; authorization?: string }[];
  connections: number;
}

/** A stand-in agent on 127.0.0.1: records what it was asked, answers `answer`. */
async function agent(
  tls: { cert: Buffer; key: Buffer } | undefined,
  answer: (res: http.ServerResponse) => void = (res) => res.end(JSON.stringify({ state: 'running' })),
): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { requests: [], connections: 0 };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer();
  server.on(tls ? 'secureConnection' : 'connection', () => (seen.connections += 1));
  server.on('tlsClientError', () => undefined);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.requests.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    answer(res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

const credentials = (tls: boolean): FleetCredentials => ({
  key,
  tls: tls ? { cert: worker.cert, key: worker.key, ca: fleetCa } : undefined,
});
const name = 'wn-abcdef-lq3k9z1';

describe('httpAgentCall: the controller reading and draining a worker', () => {
  it("over https: verifies the worker's chain against the fleet's CA, whatever name the certificate has, and sends that worker's own token", async () => {
    const { port, seen } = await agent(worker);
    // The certificate names worker.invalid, the call goes to 127.0.0.1: accepted, the chain is the fleet's.
    const answer = await httpAgentCall(credentials(true), { ...agentCallLimits, port })(
      { name, address: '127.0.0.1', tls: true },
      'POST',
      '/v1/drain',
    );
    expect(answer).toEqual({ status: 200, body: { state: 'running' } });
    expect(seen.requests).toEqual([{ method: 'POST', url: '/v1/drain', authorization: `Bearer ${workerToken(key, name)}` }]);
  });

  it('follows a chain through an intermediate CA the worker serves with its certificate', async () => {
    const { port } = await agent(chained);
    const call = httpAgentCall(credentials(true), { ...agentCallLimits, port });
    expect(await call({ name, address: '127.0.0.1', tls: true }, 'GET', '/v1/status')).toMatchObject({ status: 200 });
  });

  it('refuses a worker whose certificate another CA signed: no request, so no token, is sent', async () => {
    const { port, seen } = await agent(stranger);
    const answer = await httpAgentCall(credentials(true), { ...agentCallLimits, port })(
      { name, address: '127.0.0.1', tls: true },
      'GET',
      '/v1/status',
    );
    expect(answer).toBeUndefined();
    expect(seen.requests).toEqual([]);
  });

  it('does not speak in clear to a worker started with TLS when the controller has no CA for it', async () => {
    const { port, seen } = await agent(undefined);
    const answer = await httpAgentCall(credentials(false), { ...agentCallLimits, port })(
      { name, address: '127.0.0.1', tls: true },
      'GET',
      '/v1/status',
    );
    expect(answer).toBeUndefined();
    expect(seen.connections).toBe(0);
  });

  it('over plain http for a worker started without TLS, with its own token', async () => {
    const { port, seen } = await agent(undefined);
    const answer = await httpAgentCall(credentials(true), { ...agentCallLimits, port })(
      { name, address: '127.0.0.1' },
      'GET',
      '/v1/status',
    );
    expect(answer).toEqual({ status: 200, body: { state: 'running' } });
    expect(seen.requests[0]?.authorization).toBe(`Bearer ${workerToken(key, name)}`);
  });

  it('gives up on an answer over the size limit, and on a worker that does not answer within the deadline', async () => {
    const big = await agent(worker, (res) => res.end('x'.repeat(3 << 20)));
    const limits = { ...agentCallLimits, maxBodyBytes: 1 << 20 };
    expect(
      await httpAgentCall(credentials(true), { ...limits, port: big.port })({ name, address: '127.0.0.1', tls: true }, 'GET', '/'),
    ).toBeUndefined();

    const silent = await agent(worker, () => undefined);
    const started = Date.now();
    const answer = await httpAgentCall(credentials(true), { ...limits, port: silent.port, timeoutMs: 300 })(
      { name, address: '127.0.0.1', tls: true },
      'GET',
      '/v1/status',
    );
    expect(answer).toBeUndefined();
    expect(silent.seen.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
