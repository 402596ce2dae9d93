import { execFile } from 'node:child_process';
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
  });
});
