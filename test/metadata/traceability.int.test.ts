import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// Scheduler environments are stand-ins: a podman container given the variables a Mesos agent with Marathon, or a
// Kubernetes pod with the downward API, would set. Everything else (HTCondor, the pool, the runtime) is real.

const sleeper = { 'sleeper.sh': { text: '#!/bin/sh\nsleep "${1:-1}"\necho done\n', mode: '0755' } };
const submit = (args: string, extra: string[] = []): string =>
  [
    'executable = sleeper.sh',
    `arguments = ${args}`,
    'should_transfer_files = YES',
    'output = sleeper.$(Cluster).$(Process).out',
    'log = sleeper.log',
    'request_memory = 64',
    ...extra,
    'queue',
    '',
  ].join('\n');

const workers: Worker[] = [];
afterAll(async () => {
  for (const worker of workers) await worker.remove();
});

async function start(options: Parameters<typeof pool.startWorker>[0]): Promise<Worker> {
  const worker = await pool.startWorker({ mounts: [pool.passwordMount, pool.testConfigMount], ...options });
  workers.push(worker);
  return worker;
}

/** One slot ad per row as JSON, so strings come back exactly (quotes, backslashes, non-ASCII). */
async function slotJson(constraint: string, attrs: string[]): Promise<Record<string, unknown>[]> {
  const out = await pool.exec(['condor_status', '-constraint', constraint, '-json', '-attributes', attrs.join(',')]);
  return out.trim() ? (JSON.parse(out) as Record<string, unknown>[]) : [];
}

function waitForSlots(constraint: string, attrs: string[], count = 1): Promise<Record<string, unknown>[]> {
  return waitFor(
    async () => {
      const ads = await slotJson(constraint, attrs);
      return ads.length >= count ? ads : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: `${count} slot(s) matching ${constraint}` },
  );
}

const mesosTask = 'htcondor_worker.6f2a1c1e-5b2e-11ef-9d3c-0242ac110002';

describe('Mesos-style worker (Mesos environment is a stand-in)', () => {
  let worker: Worker;

  it('advertises scheduler, task, container, image and host, and resources from its real container limits', async () => {
    worker = await start({
      hostname: 'lcg-node-17',
      env: {
        MESOS_TASK_ID: mesosTask,
        MESOS_EXECUTOR_ID: mesosTask,
        HOST: 'lcg1234.gridpp.rl.ac.uk',
        MARATHON_APP_ID: '/htcondor/worker',
        MARATHON_APP_RESOURCE_CPUS: '8.0', // the container's cgroup limits must win over these
        MARATHON_APP_RESOURCE_MEM: '16384.0',
      },
      podmanArgs: ['--memory', '1g', '--cpus', '1.5'],
    });
    const attrs = [
      'Name',
      'MesosTaskId',
      'MesosExecutorId',
      'MarathonAppId',
      'ContainerScheduler',
      'ContainerTaskId',
      'ContainerId',
      'ContainerImage',
      'ContainerHost',
      'Cpus',
      'Memory',
    ];
    const [ad] = await waitForSlots(`MesosTaskId == "${mesosTask}"`, attrs);
    const version = (await worker.exec(['cat', '/etc/wn-agent/image.json'])).match(/"version":"([^"]+)"/)?.[1];
    expect(ad).toMatchObject({
      MesosTaskId: mesosTask,
      MesosExecutorId: mesosTask,
      MarathonAppId: '/htcondor/worker',
      ContainerScheduler: 'mesos',
      ContainerTaskId: mesosTask,
      ContainerId: await worker.id(),
      ContainerImage: `localhost/wn-agent:${version}`,
      ContainerHost: 'lcg1234.gridpp.rl.ac.uk',
      Cpus: 1, // a 1.5-CPU quota advertises 1 whole CPU
      Memory: 1024 - 256, // the 1 GiB limit less the default --reserved-memory
    });
  });

  it('puts the same attributes in dynamic slots while a job runs, and Chirp* attributes in the job ad for condor_history', async () => {
    const cluster = await pool.submit(submit('8', [`requirements = MesosTaskId == "${mesosTask}"`]), sleeper);
    const [dynamic] = await waitForSlots(`DynamicSlot =?= true && ContainerId == "${await worker.id()}"`, [
      'Name',
      'MesosTaskId',
      'ContainerTaskId',
      'ContainerImage',
    ]);
    expect(dynamic).toMatchObject({ MesosTaskId: mesosTask, ContainerTaskId: mesosTask });
    expect(String(dynamic?.Name)).toMatch(/^slot1_1@lcg-node-17-[0-9a-f]{12}$/);

    const [job] = await pool.waitForHistory(cluster, 1, [
      'JobStatus',
      'ChirpMesosTaskId',
      'ChirpContainerId',
      'ChirpContainerImage',
      'ChirpContainerHost',
      'ChirpContainerScheduler',
      'ChirpContainerTaskId',
    ]);
    expect(job).toEqual([
      '4',
      mesosTask,
      await worker.id(),
      expect.stringMatching(/^localhost\/wn-agent:/),
      'lcg1234.gridpp.rl.ac.uk',
      'mesos',
      mesosTask,
    ]);
    const recorded = await worker.waitForEvent('job-attributes-recorded', (line) => line.jobId === `${cluster}.0`);
    expect(recorded).toMatchObject({ taskId: mesosTask, containerId: await worker.id(), slot: 'slot1_1' });
  });

  it('every stdout line, HTCondor daemon lines included, carries task ID, container ID and image', async () => {
    const lines = await worker.jsonLogs();
    const id = await worker.id();
    expect(lines.filter((line) => line.source === 'condor').length).toBeGreaterThan(20);
    for (const line of lines)
      expect(line).toMatchObject({ taskId: mesosTask, containerId: id, image: expect.stringMatching(/^localhost\/wn-agent:/) });
  });
});

describe('Kubernetes-style worker (downward-API environment is a stand-in)', () => {
  it('advertises the pod and records it in the job ad', async () => {
    const pod = {
      POD_NAME: 'htcondor-worker-7d9f8-x2x4q',
      POD_NAMESPACE: 'grid',
      POD_UID: '3c1e9a52-1d7b-4f0e-8a0b-6f1c2d3e4f50',
      NODE_NAME: 'node-17',
    };
    const worker = await start({ hostname: pod.POD_NAME, env: { ...pod, KUBERNETES_SERVICE_HOST: '10.96.0.1' } });
    const [ad] = await waitForSlots(`K8sPodUid == "${pod.POD_UID}"`, [
      'K8sPodName',
      'K8sNamespace',
      'K8sPodUid',
      'K8sNodeName',
      'ContainerScheduler',
      'ContainerTaskId',
      'ContainerHost',
      'ContainerId',
    ]);
    expect(ad).toEqual({
      K8sPodName: pod.POD_NAME,
      K8sNamespace: 'grid',
      K8sPodUid: pod.POD_UID,
      K8sNodeName: 'node-17',
      ContainerScheduler: 'kubernetes',
      ContainerTaskId: 'grid/htcondor-worker-7d9f8-x2x4q',
      ContainerHost: 'node-17',
      ContainerId: await worker.id(),
    });
    const cluster = await pool.submit(submit('1', [`requirements = K8sPodUid == "${pod.POD_UID}"`]), sleeper);
    const [job] = await pool.waitForHistory(cluster, 1, [
      'ChirpContainerScheduler',
      'ChirpContainerTaskId',
      'ChirpContainerHost',
      'ChirpContainerId',
    ]);
    expect(job).toEqual(['kubernetes', 'grid/htcondor-worker-7d9f8-x2x4q', 'node-17', await worker.id()]);
  });
});

describe('names and operator attributes', () => {
  it('two containers that share a host name are two machines in the collector', async () => {
    const a = await start({ hostname: 'shared-wn' });
    const b = await start({ hostname: 'shared-wn' });
    const ads = await waitForSlots('regexp("^shared-wn-", Machine)', ['Name', 'Machine', 'ContainerId'], 2);
    expect(new Set(ads.map((ad) => ad.Machine)).size).toBe(2);
    expect(new Set(ads.map((ad) => ad.ContainerId))).toEqual(new Set([await a.id(), await b.id()]));
  });

  it('adds --attr and WN_ATTR_ values exactly: quotes, backslashes, non-ASCII, config macros', async () => {
    const site = 'RAL "Tier-1" \\ Zürich\\';
    const rack = 'r12 $(HOME) $$(Memory) a\\$b\\';
    const worker = await start({ env: { WN_ATTR_Rack: rack }, agentArgs: ['--attr', `Site=${site}`, '--attr', 'Tier=1'] });
    await waitForSlots(`ContainerTaskId == "${worker.name}"`, ['Name']);
    // -af evaluates: a value holding "$" is advertised as a strcat() expression (condor/classad.ts).
    const [row] = await pool.status(`ContainerTaskId == "${worker.name}"`, ['Site', 'Rack', 'Tier']);
    expect(row).toEqual([site, rack, '1']);
  });

  it('a job whose attributes cannot be recorded still runs, and the agent says so', async () => {
    // Chirp delayed updates switched off on the execute side: condor_chirp fails for every attribute.
    const conf = `${pool.secretDir}/no-chirp.conf`;
    await writeFile(conf, 'ENABLE_CHIRP_DELAYED = False\n');
    const worker = await start({
      mounts: [pool.passwordMount, pool.testConfigMount, `${conf}:/etc/wn-agent/condor.d/60-no-chirp.conf:ro`],
    });
    await waitForSlots(`ContainerTaskId == "${worker.name}"`, ['Name']);
    const cluster = await pool.submit(submit('1', [`requirements = ContainerTaskId == "${worker.name}"`]), sleeper);
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode', 'ChirpContainerId']);
    expect(job).toEqual(['4', '0', 'undefined']);
    const failed = await worker.waitForEvent('job-attributes-failed', (line) => line.jobId === `${cluster}.0`);
    expect(failed).toMatchObject({ level: 'warn', failed: expect.arrayContaining(['ChirpContainerId', 'ChirpContainerTaskId']) });
  });
});
