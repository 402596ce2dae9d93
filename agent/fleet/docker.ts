import http from 'node:http';
import { AgentError } from '../errors.ts';

/**
 * The few Docker Engine API calls the fleet needs, over the engine's unix socket: Docker serves it, and so does
 * podman (`podman system service`). Plain HTTP/1.1 with node:http; every call has a deadline and a bounded answer.
 */
export class DockerApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return this.send<T>(
      method,
      path,
      body === undefined ? undefined : { type: 'application/json', data: Buffer.from(JSON.stringify(body)) },
    );
  }

  /** Like call(), with a raw body: a tar for PUT /containers/<id>/archive (files put into a container). */
  async put(path: string, data: Buffer, contentType: string): Promise<void> {
    this.ok('PUT', path, await this.send('PUT', path, { type: contentType, data }));
  }

  /** Like request(), but an answer outside 2xx is an error naming the call and the engine's message. */
  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.ok(method, path, await this.request<T>(method, path, body));
  }

  private ok<T>(method: string, path: string, answer: { status: number; body: T }): T {
    if (answer.status < 200 || answer.status >= 300) {
      const message = (answer.body as { message?: string } | undefined)?.message ?? JSON.stringify(answer.body);
      throw new AgentError('WN_ERR_FLEET_BACKEND', `${method} ${path}: HTTP ${answer.status}: ${message}`);
    }
    return answer.body;
  }

  private send<T>(method: string, path: string, payload?: { type: string; data: Buffer }): Promise<{ status: number; body: T }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path: `/v1.41${path}`,
          timeout: this.timeoutMs,
          headers: payload ? { 'content-type': payload.type, 'content-length': payload.data.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > 16 << 20) req.destroy(new Error(`${method} ${path}: answer over 16 MiB`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // plain text answer (errors of some engines)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from ${this.socketPath} within ${this.timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new AgentError(
            'WN_ERR_FLEET_BACKEND',
            error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
              ? `no container engine at ${this.socketPath} (${error.code}): start one (podman system service, dockerd) or set --engine-socket`
              : error.message,
          ),
        ),
      );
      req.end(payload?.data);
    });
  }
}
