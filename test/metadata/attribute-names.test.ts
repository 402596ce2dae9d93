import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/parse.ts';
import { healthAttribute, revisionAttribute } from '../../agent/cvmfs/attributes.ts';
import { isReservedAttribute } from '../../agent/metadata/attribute-names.ts';
import { detectKubernetes } from '../../agent/metadata/kubernetes.ts';
import { detectMesos } from '../../agent/metadata/mesos.ts';
import { detectNomad } from '../../agent/metadata/nomad.ts';
import { machineAttributes } from '../../agent/metadata/traceability.ts';

// Scheduler environments written here (no Mesos agent, Kubernetes API server or Nomad client runs in these tests).
const mesosEnv = {
  MESOS_TASK_ID: 't',
  MESOS_EXECUTOR_ID: 'e',
  MESOS_CONTAINER_NAME: 'c',
  MARATHON_APP_ID: '/a',
  MARATHON_APP_VERSION: 'v',
  MARATHON_APP_DOCKER_IMAGE: 'i',
};
const k8sEnv = { POD_NAME: 'p', POD_NAMESPACE: 'n', POD_UID: 'u', NODE_NAME: 'h', KUBERNETES_SERVICE_HOST: '10.0.0.1' };
const nomadEnv = { NOMAD_ALLOC_ID: 'a', NOMAD_JOB_NAME: 'j', NOMAD_TASK_NAME: 't', NOMAD_DC: 'dc' };

describe('reserved attribute names: every attribute the agent sets', () => {
  it('covers every attribute each scheduler detector produces, the traceability set and the CVMFS health attributes', () => {
    const produced = [
      ...Object.keys(detectMesos(mesosEnv)?.attributes ?? {}),
      ...Object.keys(detectKubernetes(k8sEnv)?.attributes ?? {}),
      ...Object.keys(detectNomad(nomadEnv)?.attributes ?? {}),
      ...Object.keys(
        machineAttributes({
          scheduler: 'mesos',
          taskId: 't',
          containerId: 'c',
          image: 'i',
          imageRevision: 'r',
          host: 'h',
          schedulerAttributes: {},
        } as never),
      ),
      healthAttribute('atlas.cern.ch'),
      revisionAttribute('cms.cern.ch'),
      'CVMFS_HEALTHY',
    ];
    expect(produced.length).toBeGreaterThan(20);
    for (const name of produced) expect(isReservedAttribute(name), name).toBe(true);
    expect(isReservedAttribute('SiteRack')).toBe(false);
  });

  it.each(['MesosTaskId', 'k8spodname', 'NomadAllocId', 'HAS_CVMFS_atlas_cern_ch', 'ContainerId'])(
    '--attr %s=x is refused, not silently applied',
    (name) => {
      expect(() => parseConfig({ condorHost: 'cm', attr: [`${name}=x`] }, {})).toThrow(`${name} is set by wn-agent itself`);
    },
  );
});
