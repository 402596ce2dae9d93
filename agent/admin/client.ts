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
      reject(new Error(error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? `no wn-agent is running here (${socketPath}: ${error.code})` : error.message)),
    );
    req.end();
  });
}
