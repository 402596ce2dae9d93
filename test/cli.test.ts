import { execFile } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/exec.ts';

/** The real CLI from source (tsx), as a site would start it; returns its exit code and stderr. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(repoRoot, 'node_modules/.bin/tsx'), [join(repoRoot, 'agent/cli.ts'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      timeout: 30_000,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('wn-agent run', () => {
  it('refuses the admin token on the command line (readable in /proc/<pid>/cmdline) and names the safe ways', async () => {
    for (const flag of [['--admin-token', 'a-token-of-twenty-chars'], ['--admin-token=a-token-of-twenty-chars']]) {
      const { code, stderr } = await cli(['run', '--condor-host', 'cm.example.org', ...flag]);
      expect(code).toBe(2);
      expect(stderr).toContain('WN_ADMIN_TOKEN or --admin-token-file');
      expect(stderr).not.toContain('a-token-of-twenty-chars');
    }
  }, 60_000);
});

describe('wn-agent run with a mistyped option', () => {
  it('names the variable and the nearest known option, and still refuses to start (exit 2)', async () => {
    const flag = await cli(['run', '--condor-host', 'cm', '--idle-timout', '5m']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('idle-timout: did you mean --idle-timeout (WN_IDLE_TIMEOUT)?');
    const variable = await cli(['run', '--condor-host', 'cm'], { WN_DRAIN_TIMOUT: '5m' });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain('from the environment: WN_DRAIN_TIMOUT');
    expect(variable.stderr).toContain('did you mean --drain-timeout (WN_DRAIN_TIMEOUT)?');
    const unrelated = await cli(['run', '--condor-host', 'cm'], { WN_SITE_NAME: 'RAL' });
    expect(unrelated.code).toBe(2);
    expect(unrelated.stderr).toContain('from the environment: WN_SITE_NAME');
  }, 60_000);
});

describe('wn-agent status and drain', () => {
  it('exit 8 (no agent answered), not 1 (a bug), when no agent runs here or at --url', async () => {
    const local = await cli(['status']);
    expect(local.code).toBe(8);
    expect(local.stderr).toContain('no wn-agent is running here');
    const remote = await cli(['drain', '--url', 'http://127.0.0.1:9', '--admin-token', 'a-token-of-twenty-chars']);
    expect(remote.code).toBe(8);
    expect(remote.stderr).toContain('no wn-agent answered at http://127.0.0.1:9');
  }, 60_000);

  it('--url reads an agent over TCP with the token (an HTTP stand-in for the agent, checking the bearer token)', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"running","counters":{"jobsStarted":3}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        join(repoRoot, 'node_modules/.bin/tsx'),
        [
          join(repoRoot, 'agent/cli.ts'),
          'status',
          '--json',
          '--url',
          `http://127.0.0.1:${port}`,
          '--admin-token',
          'a-token-of-twenty-chars',
        ],
        { timeout: 30_000 },
        (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
    server.close();
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ state: 'running', counters: { jobsStarted: 3 } });
    expect(seen).toEqual(['GET /v1/status Bearer a-token-of-twenty-chars']);
  }, 60_000);
});
