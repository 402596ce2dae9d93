import http from 'node:http';

/** A request to the agent's local admin socket; rejects with a clear message when no agent listens there. */
export function localRequest(socketPath: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socketPath} within 10 s`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
            ? `no wn-agent is running here (${socketPath}: ${error.code})`
            : error.message,
        ),
      ),
    );
    req.end();
  });
}

/** The same request to an agent's TCP admin port (--url http[s]://host:9680), with the admin token. */
export async function remoteRequest(
  url: string,
  token: string,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: unknown }> {
  const base = url.replace(/^ws/, 'http').replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(
      `no wn-agent answered at ${base} (${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message})`,
    );
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}
