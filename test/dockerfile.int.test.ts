import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerEngineDown, dockerEngineUp, docker, dockerRun, firewall, loadFromPodman } from './support/docker-engine.ts';
import { check, repoRoot } from './support/exec.ts';

// The Dockerfile under the real Docker Engine (Debian's docker.io: dockerd 20.10.24 and its own docker CLI), as a site
// builds it: `docker build` with the legacy builder (Docker 20.10's default) and with BuildKit, the base image
// imported (no registry), the plain and test variants, no network beyond Debian's mirror. The engine is private
// (scripts/docker-engine.sh: own socket and data root, iptables off), and the host's firewall must be as it was
// after it is gone, so that podman's networks keep working for the rest of the suite.

let before = '';
let version = '';

beforeAll(async () => {
  version = (JSON.parse(await readFile(`${repoRoot}package.json`, 'utf8')) as { version: string }).version;
  before = await firewall();
  await dockerEngineUp();
  await loadFromPodman('localhost/debian:trixie');
}, 400_000);
afterAll(async () => {
  await dockerEngineDown().catch(() => undefined);
});

async function build(builder: 'legacy' | 'buildkit', variant: 'plain' | 'test'): Promise<{ tag: string; log: string }> {
  const tag = `wn-agent-docker-test:${builder}-${variant}`;
  // No bridge on this private engine: RUN steps reach Debian's mirror through the host's network.
  const log = await docker(
    ['build', '--network', 'host', '--build-arg', 'BASE=localhost/debian:trixie', '--build-arg', `VARIANT=${variant}`, '-t', tag, repoRoot],
    { DOCKER_BUILDKIT: builder === 'buildkit' ? '1' : '0' },
  );
  return { tag, log };
}

const inImage = (tag: string, args: readonly string[]): Promise<string> =>
  docker(['run', '--rm', '--network', 'none', '--entrypoint', args[0] as string, tag, ...args.slice(1)]);

describe('the Dockerfile under Docker Engine 20.10', () => {
  it.each(['legacy', 'buildkit'] as const)(
    'builds the plain variant with the %s builder, and nothing of the production variant',
    async (builder) => {
      const { tag, log } = await build(builder, 'plain');
      // Only the production variant installs curl (to fetch CERN's repository): the legacy builder did not build it.
      expect(log).not.toMatch(/Setting up (curl|cvmfs)/);
      expect(await inImage(tag, ['sh', '-c', 'command -v curl || echo none'])).toBe('none\n');
      expect((await inImage(tag, ['/usr/local/bin/wn-agent', '--version'])).trim()).toBe(version);
      expect(JSON.parse(await inImage(tag, ['cat', '/etc/wn-agent/image.json']))).toMatchObject({ variant: 'plain' });
      expect(await inImage(tag, ['sh', '-c', 'test -e /usr/sbin/mount.cvmfs && echo stand-in || echo none'])).toBe('none\n');
      expect((await inImage(tag, ['condor_version'])).split('\n')[0]).toMatch(/^\$CondorVersion: 23\.9\.6 /);
      const entrypoint = await docker(['image', 'inspect', '-f', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}', tag]);
      expect(entrypoint.trim()).toBe('["/usr/bin/tini","--","/usr/local/bin/wn-agent"] ["run"]');
    },
  );

  it('builds the test variant (the CVMFS stand-in) with the legacy builder', async () => {
    const { tag, log } = await build('legacy', 'test');
    expect(log).not.toMatch(/Setting up (curl|cvmfs)/);
    expect(JSON.parse(await inImage(tag, ['cat', '/etc/wn-agent/image.json']))).toMatchObject({ variant: 'test' });
    expect(await inImage(tag, ['sh', '-c', 'test -x /usr/sbin/mount.cvmfs && command -v squashfuse'])).toBe('/usr/bin/squashfuse\n');
  });

  it('refuses an unknown variant, naming it', async () => {
    const result = await dockerRun(
      ['build', '--network', 'host', '--build-arg', 'BASE=localhost/debian:trixie', '--build-arg', 'VARIANT=fancy', repoRoot],
      { DOCKER_BUILDKIT: '0' },
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("VARIANT must be production, plain or test, not 'fancy'");
  });

  it('leaves the host firewall as it was once the engine is gone', async () => {
    await dockerEngineDown();
    expect(await firewall()).toBe(before);
    await check('bash', [`${repoRoot}scripts/check-network.sh`], { timeoutMs: 120_000 });
  });
});
