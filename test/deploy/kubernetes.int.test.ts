import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { image, podman, repoRoot, run } from '../support/exec.ts';
import { testPool as pool } from '../support/pool.ts';

// deploy/kubernetes/worker.yaml run by a real consumer of Kubernetes YAML, `podman kube play` (no Kubernetes API
// server runs here), on the pool's network, until the worker is in the pool. What the test changes in the file, and
// why, is what a site changes (image, central manager, size) plus what podman 4.3 cannot do: it refuses the downward
// API's metadata.namespace and spec.nodeName, and it has no Kubernetes secret store, so the token comes from a
// hostPath directory.

const dir = `/var/tmp/wn-kube-${randomBytes(3).toString('hex')}`;
const yamlFile = `${dir}/worker.yaml`;

afterAll(async () => {
  await run('podman', ['kube', 'down', yamlFile]);
  await rm(dir, { recursive: true, force: true });
});

describe('deploy/kubernetes/worker.yaml under podman kube play', () => {
  it('starts a worker that joins the pool and advertises the pod it runs in', async () => {
    await mkdir(`${dir}/tokens`, { recursive: true });
    const token = (await pool.exec(['condor_token_create', '-identity', 'condor@wn.test'])).trim();
    await writeFile(`${dir}/tokens/pool-token`, `${token}\n`);
    await chmod(`${dir}/tokens/pool-token`, 0o400);
    const original = await readFile(`${repoRoot}deploy/kubernetes/worker.yaml`, 'utf8');
    const replace = (text: string, from: string | RegExp, to: string): string => {
      const next = text.replace(from, to);
      if (next === text) throw new Error(`deploy/kubernetes/worker.yaml no longer holds ${String(from)}: update this test with it`);
      return next;
    };
    let yaml = replace(original, /image: \S+/, `image: ${image}`);
    yaml = replace(yaml, 'value: cm.example.org', `value: ${pool.cm}`);
    yaml = replace(yaml, /replicas: \d+/, 'replicas: 1');
    yaml = replace(yaml, /limits: \{ cpu: "\d+", memory: \w+ \}/, 'limits: { cpu: "1", memory: 2Gi }');
    yaml = replace(yaml, /\n.*fieldPath: metadata\.namespace.*/, '');
    yaml = replace(yaml, /\n.*fieldPath: spec\.nodeName.*/, '');
    yaml = replace(yaml, /secret: \{ secretName: [\w-]+, defaultMode: 0400 \}/, `hostPath: { path: ${dir}/tokens, type: Directory }`);
    await writeFile(yamlFile, yaml);

    await podman(['kube', 'play', '--network', pool.network, yamlFile], { timeoutMs: 120_000 });
    const [slot] = await waitFor(
      async () => {
        const rows = await pool.status('K8sPodName =!= undefined', ['K8sPodName', 'ContainerScheduler', 'ContainerTaskId']);
        return rows.find(([podName]) => podName?.startsWith('htcondor-worker'));
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: "the pod's worker in the collector" },
    ).then((row) => [row]);
    expect(slot?.[1]).toBe('kubernetes');
    expect(slot?.[2]).toContain(slot?.[0]);
  });
});
