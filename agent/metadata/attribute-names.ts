import { healthAttributes } from '../health/attributes.ts';

/**
 * Every slot attribute name wn-agent sets itself. An operator's --attr / WN_ATTR_ of one of these names would
 * silently replace the real value (a forged MesosTaskId in every job's history), so config refuses them.
 */
export const traceabilityAttributes = [
  'ContainerScheduler',
  'ContainerTaskId',
  'ContainerId',
  'ContainerImage',
  'ContainerImageRevision',
  'ContainerHost',
  'WnAgentInstance',
] as const;

/** The schedulers' own names, whichever scheduler this worker runs under (metadata/mesos.ts, kubernetes.ts, nomad.ts). */
export const schedulerAttributes = [
  'MesosTaskId',
  'MesosExecutorId',
  'MesosContainerName',
  'MarathonAppId',
  'MarathonAppVersion',
  'MarathonAppDockerImage',
  'K8sPodName',
  'K8sNamespace',
  'K8sPodUid',
  'K8sNodeName',
  'NomadAllocId',
  'NomadJobName',
  'NomadTaskName',
  'NomadDc',
] as const;

/** CVMFS health: CVMFS_HEALTHY, and HAS_CVMFS_<repo> / CVMFS_<repo>_REVISION for any repository (cvmfs/attributes.ts). */
const cvmfsPattern = /^(CVMFS_HEALTHY$|HAS_CVMFS_|CVMFS_\w+_REVISION$)/i;

const reserved = new Set<string>([...traceabilityAttributes, ...schedulerAttributes, ...healthAttributes].map((n) => n.toLowerCase()));

/** Whether the agent sets this attribute itself (ClassAd names are case-insensitive). */
export function isReservedAttribute(name: string): boolean {
  return reserved.has(name.toLowerCase()) || cvmfsPattern.test(name);
}

/** ClassAd attribute names: a letter or underscore, then letters, digits and underscores. */
export function isAttributeName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
