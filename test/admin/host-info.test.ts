import { statfs } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { hostInfoReader } from '../../agent/admin/host-info.ts';
import { statusScreen } from '../../agent/admin/status-screen.ts';

describe('host facts for status', () => {
  it("reads this host's OS and the disk holding the directory, once a minute at most", async () => {
    const read = hostInfoReader('/tmp');
    const first = read();
    expect(read()).toBe(first); // cached: the second status request does not run df again
    const info = await first;
    expect(info?.os).toMatch(/\w/);
    expect(info?.kernel).toMatch(/^\d+\.\d+/);
    const fs = await statfs('/tmp');
    // The same filesystem as statfs(2) reports, within what changes between the two reads.
    expect(Math.abs((info?.executeDisk?.sizeBytes ?? 0) - fs.blocks * fs.bsize)).toBeLessThan(0.01 * fs.blocks * fs.bsize);
    expect(info?.executeDisk?.mount).toMatch(/^\//);
  });

  it('shows them on the status screen', () => {
    const screen = statusScreen({
      state: 'running',
      host: {
        os: 'Debian GNU/Linux 13',
        kernel: '6.12.0',
        executeDisk: { mount: '/', sizeBytes: 10 * 1048576 * 1024, availableBytes: 4 * 1048576 * 1024 },
      },
    });
    expect(screen).toContain('host: Debian GNU/Linux 13, kernel 6.12.0, execute disk /: 4096 MiB free of 10240 MiB');
  });
});
