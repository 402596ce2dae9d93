import { describe, expect, it } from 'vitest';
import { detectKubernetes } from '../../agent/metadata/kubernetes.ts';
import { detectMesos } from '../../agent/metadata/mesos.ts';
import { detectNomad } from '../../agent/metadata/nomad.ts';

// Environment samples in the formats Mesos 1.x with Marathon 1.x, Kubernetes' downward API and Nomad 1.x produce.
const mesosEnv = {
  MESOS_TASK_ID: 'htcondor_worker.6f2a1c1e-5b2e-11ef-9d3c-0242ac110002',
  MESOS_EXECUTOR_ID: 'htcondor_worker.6f2a1c1e-5b2e-11ef-9d3c-0242ac110002',
  MESOS_CONTAINER_NAME: 'mesos-2f7d1e6a-8c1b-4b9e-9a51-3d9c3e1b7a10',
  MESOS_SANDBOX: '/mnt/mesos/sandbox',
  HOST: 'lcg1234.gridpp.rl.ac.uk',
  MARATHON_APP_ID: '/htcondor/worker',
  MARATHON_APP_VERSION: '2016-04-18T14:02:33.021Z',
  MARATHON_APP_DOCKER_IMAGE: 'registry.example.org/wn-agent:0.1.0',
  MARATHON_APP_RESOURCE_CPUS: '8.0',
  MARATHON_APP_RESOURCE_MEM: '16384.0',
};

describe('detectMesos', () => {
  it('reads the Mesos and Marathon task environment', () => {
    expect(detectMesos(mesosEnv)).toEqual({
      scheduler: 'mesos',
      taskId: 'htcondor_worker.6f2a1c1e-5b2e-11ef-9d3c-0242ac110002',
      host: 'lcg1234.gridpp.rl.ac.uk',
      cpus: 8,
      memoryMiB: 16384,
      attributes: {
        MesosTaskId: 'htcondor_worker.6f2a1c1e-5b2e-11ef-9d3c-0242ac110002',
        MesosExecutorId: 'htcondor_worker.6f2a1c1e-5b2e-11ef-9d3c-0242ac110002',
        MesosContainerName: 'mesos-2f7d1e6a-8c1b-4b9e-9a51-3d9c3e1b7a10',
        MarathonAppId: '/htcondor/worker',
        MarathonAppVersion: '2016-04-18T14:02:33.021Z',
        MarathonAppDockerImage: 'registry.example.org/wn-agent:0.1.0',
      },
    });
  });

  it('is not Mesos without MESOS_TASK_ID', () => {
    expect(detectMesos({ HOST: 'x', MARATHON_APP_ID: '/a' })).toBeUndefined();
  });
});

describe('detectKubernetes', () => {
  const env = {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    POD_NAME: 'htcondor-worker-7d9f8-x2x4q',
    POD_NAMESPACE: 'grid',
    POD_UID: '3c1e9a52-1d7b-4f0e-8a0b-6f1c2d3e4f50',
    NODE_NAME: 'node-17',
  };

  it('reads the downward-API variables', () => {
    expect(detectKubernetes(env)).toEqual({
      scheduler: 'kubernetes',
      taskId: 'grid/htcondor-worker-7d9f8-x2x4q',
      host: 'node-17',
      attributes: {
        K8sPodName: 'htcondor-worker-7d9f8-x2x4q',
        K8sNamespace: 'grid',
        K8sPodUid: '3c1e9a52-1d7b-4f0e-8a0b-6f1c2d3e4f50',
        K8sNodeName: 'node-17',
      },
    });
  });

  it('honours site-specific variable names', () => {
    const facts = detectKubernetes(
      { MY_POD: 'p', MY_NS: 'n', MY_UID: 'u', MY_NODE: 'h' },
      { podName: 'MY_POD', namespace: 'MY_NS', podUid: 'MY_UID', nodeName: 'MY_NODE' },
    );
    expect(facts).toMatchObject({ taskId: 'n/p', host: 'h', attributes: { K8sPodName: 'p', K8sNodeName: 'h' } });
  });

  it('knows it is Kubernetes from the service variables alone, without a task ID', () => {
    expect(detectKubernetes({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toEqual({ scheduler: 'kubernetes', attributes: {} });
  });
});

describe('detectNomad', () => {
  it('reads the Nomad runtime environment', () => {
    const facts = detectNomad({
      NOMAD_ALLOC_ID: '5e4a1b2c-3d4e-5f60-7182-93a4b5c6d7e8',
      NOMAD_JOB_NAME: 'htcondor-worker',
      NOMAD_TASK_NAME: 'worker',
      NOMAD_DC: 'ral',
      NOMAD_CPU_CORES: '0-1,4',
      NOMAD_MEMORY_LIMIT: '4096',
    });
    expect(facts).toMatchObject({
      scheduler: 'nomad',
      taskId: '5e4a1b2c-3d4e-5f60-7182-93a4b5c6d7e8',
      cpus: 3,
      memoryMiB: 4096,
      attributes: {
        NomadAllocId: '5e4a1b2c-3d4e-5f60-7182-93a4b5c6d7e8',
        NomadJobName: 'htcondor-worker',
        NomadTaskName: 'worker',
        NomadDc: 'ral',
      },
    });
    expect(facts?.host).toBeUndefined();
  });
});
