import { describe, expect, it } from 'vitest';
import {
  jobAttributes,
  logFields,
  machineAttributes,
  traceabilityFrom,
  type TraceabilityInput,
} from '../../agent/metadata/traceability.ts';

const id = 'befb8adf357566be10766951b6c9c5442c9302324798b04f9df429ec683d1af2';
const input: TraceabilityInput = {
  env: {},
  procCgroup: `4:memory:/libpod_parent/libpod-${id}\n`,
  mountinfo: '',
  hostname: 'wn1',
  imageMetadata: { name: 'localhost/wn-agent', version: '0.1.0', revision: 'abc123', buildDate: '2026-11-24T00:00:00Z' },
  containerEnv: undefined,
  dockerEnv: false,
};

describe('traceabilityFrom', () => {
  it('Mesos: task ID, host and image in machine ads, job ads and log fields', () => {
    const t = traceabilityFrom({ ...input, env: { MESOS_TASK_ID: 't-123', HOST: 'node7', MARATHON_APP_ID: '/wn' } });
    expect(machineAttributes(t)).toEqual({
      ContainerScheduler: 'mesos',
      ContainerTaskId: 't-123',
      ContainerId: id,
      ContainerImage: 'localhost/wn-agent:0.1.0',
      ContainerImageRevision: 'abc123',
      ContainerHost: 'node7',
      MesosTaskId: 't-123',
      MarathonAppId: '/wn',
    });
    expect(jobAttributes(t)).toEqual({
      ChirpContainerScheduler: 'mesos',
      ChirpContainerTaskId: 't-123',
      ChirpContainerId: id,
      ChirpContainerImage: 'localhost/wn-agent:0.1.0',
      ChirpContainerHost: 'node7',
      ChirpMesosTaskId: 't-123',
    });
    expect(logFields(t)).toEqual({ taskId: 't-123', containerId: id, image: 'localhost/wn-agent:0.1.0' });
  });

  it('every job attribute name starts with Chirp, or HTCondor drops it', () => {
    const t = traceabilityFrom({ ...input, env: { MESOS_TASK_ID: 't', HOST: 'h' } });
    for (const name of Object.keys(jobAttributes(t))) expect(name).toMatch(/^Chirp/);
  });

  it("podman alone: scheduler docker, the container's name as task, ID from /run/.containerenv", () => {
    const t = traceabilityFrom({
      ...input,
      procCgroup: '0::/\n',
      containerEnv: `engine="podman-4.3.1"\nname="wn-it-w1"\nid="${id}"\nimage="localhost/wn-agent:dev"\n`,
    });
    expect(t).toMatchObject({ scheduler: 'docker', taskId: 'wn-it-w1', containerId: id });
    expect(t.host).toBeUndefined();
  });

  it('docker without a name: the container ID is the task', () => {
    expect(traceabilityFrom({ ...input, dockerEnv: true })).toMatchObject({ scheduler: 'docker', taskId: id });
  });

  it('--task-id names the task where no scheduler does (a fleet worker under docker), never over a scheduler', () => {
    expect(traceabilityFrom({ ...input, dockerEnv: true, overrides: { taskId: 'atlas-abcdef-mk1' } })).toMatchObject({
      scheduler: 'docker',
      taskId: 'atlas-abcdef-mk1',
      containerId: id,
    });
    expect(traceabilityFrom({ ...input, env: { MESOS_TASK_ID: 't' }, overrides: { taskId: 'x' } }).taskId).toBe('t');
  });

  it('no container at all: scheduler none', () => {
    const t = traceabilityFrom({ ...input, procCgroup: '0::/user.slice\n', imageMetadata: undefined });
    expect(machineAttributes(t)).toEqual({ ContainerScheduler: 'none' });
  });

  it('--image and --container-host override what was detected', () => {
    const t = traceabilityFrom({
      ...input,
      env: { MESOS_TASK_ID: 't', HOST: 'node7' },
      overrides: { image: 'reg/wn:1', host: 'rack3-node7' },
    });
    expect(t).toMatchObject({ image: 'reg/wn:1', host: 'rack3-node7' });
  });

  it('Mesos wins over Kubernetes service variables that leak into the environment', () => {
    expect(traceabilityFrom({ ...input, env: { MESOS_TASK_ID: 't', KUBERNETES_SERVICE_HOST: '10.0.0.1' } }).scheduler).toBe('mesos');
  });
});
