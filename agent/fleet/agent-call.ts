import http from 'node:http';
import https from 'node:https';
import type { FleetCredentials } from './worker-credentials.ts';
import { adminPort } from '../contract/worker-contract.ts';
import { workerToken } from './worker-token.ts';

/** A worker as the controller reaches it: its name (its token is derived from it) and its address on the fleet's network. */
export interface WorkerEndpoint {
  name: string;
  address: string;
  /** It serves its admin port with TLS (it was started with the fleet's worker certificate). */
  tls?: boolean | undefined;
}

export type AgentCall = (
  worker: WorkerEndpoint,
  method: 'GET' | 'POST',
  path: string,
) => Promise<{ status: number; body: unknown } | undefined>;

export const agentCallLimits = {
  port: adminPort,
  /** The whole call: connect, TLS handshake, answer. A worker slower than this counts as not answering this cycle. */
  timeoutMs: 5000,
  /** A worker's /v1/status is a few KiB; a worker (or what got into it) cannot make the controller hold more. */
  maxBodyBytes: 1 << 20,
};

/**
 * GET/POST to a worker's agent on its admin port with that worker's own token; undefined when it does not answer
 * within the deadline, answers more than the limit, or (over TLS) shows a certificate the fleet's CA did not sign.
 * node:https rather than fetch: fetch cannot take a CA for one request. With `ca` Node trusts that CA only, not the
 * system's. Any subject name is accepted for a chain that verifies: a worker's address is assigned by the engine
 * when it starts, after its certificate was made, so no name in the certificate could match it; what the chain
 * proves is that the peer holds the key of the fleet's worker certificate.
 */
export function httpAgentCall(credentials: FleetCredentials, limits = agentCallLimits): AgentCall {
  return (worker, method, path) =>
    new Promise((resolve) => {
      const tls = credentials.tls;
      // A worker started with TLS cannot be verified without the CA: it is not spoken to in clear instead.
      if (worker.tls && !tls) return resolve(undefined);
      const options: https.RequestOptions = {
        host: worker.address,
        port: limits.port,
        method,
        path,
        headers: { authorization: `Bearer ${workerToken(credentials.key, worker.name)}` },
        agent: false,
        signal: AbortSignal.timeout(limits.timeoutMs),
      };
      const answer = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBodyBytes) {
            req.destroy();
            resolve(undefined);
          } else chunks.push(chunk);
        });
        res.on('error', () => resolve(undefined));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      };
      const req =
        worker.tls && tls
          ? https.request({ ...options, ca: tls.ca, checkServerIdentity: () => undefined }, answer)
          : http.request(options, answer);
      req.on('error', () => resolve(undefined));
      req.end();
    });
}
