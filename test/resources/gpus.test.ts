import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpuDevices } from '../../agent/resources/gpus.ts';

describe('hasGpuDevices (a directory standing in for /dev)', () => {
  it('sees NVIDIA and AMD compute device nodes, and nothing else', async () => {
    const dev = await mkdtemp(join(tmpdir(), 'wn-dev-'));
    await Promise.all(['null', 'fuse', 'nvidiactl', 'nvidia-uvm'].map((name) => writeFile(join(dev, name), '')));
    expect(await hasGpuDevices(dev)).toBe(false); // control devices without a GPU node: nothing to use
    await writeFile(join(dev, 'nvidia0'), '');
    expect(await hasGpuDevices(dev)).toBe(true);
    const amd = await mkdtemp(join(tmpdir(), 'wn-dev-'));
    await mkdir(join(amd, 'dri'));
    await writeFile(join(amd, 'kfd'), '');
    expect(await hasGpuDevices(amd)).toBe(true);
    expect(await hasGpuDevices(join(dev, 'absent'))).toBe(false);
  });
});
