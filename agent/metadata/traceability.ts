import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { containerId as findContainerId } from './container-id.ts';
import { readImageMetadata, type ImageMetadata } from './image.ts';
import { defaultKubernetesEnv, detectKubernetes, type KubernetesEnvNames } from './kubernetes.ts';
import { detectMesos } from './mesos.ts';
import { detectNomad } from './nomad.ts';
import type { Env, SchedulerName } from './scheduler.ts';

/** Who runs this worker: the facts that go into every machine ad, every job ad and every log line. */
export interface Traceability {
  scheduler: SchedulerName;
  taskId?: string;
  /** The runtime's full container ID. */
  containerId?: string;
  image?: string;
  imageRevision?: string;
  /** The physical host the container runs on, when known. */
  host?: string;
  /** The container's own host name. */
  hostname: string;
  /** The scheduler's own names (MesosTaskId, K8sPodName, ...). */
  schedulerAttributes: Record<string, string>;
  /** What the scheduler granted, if it says; used only where no cgroup limit is visible. */
  granted: { cpus?: number; memoryMiB?: number };
}

export interface TraceabilityInput {
  env: Env;
  procCgroup: string;
  mountinfo: string;
  hostname: string;
  imageMetadata: ImageMetadata | undefined;
  /** podman writes name="..." id="..." into /run/.containerenv of privileged containers; docker creates /.dockerenv. */
  containerEnv: string | undefined;
  dockerEnv: boolean;
  kubernetesEnv?: KubernetesEnvNames;
  overrides?: { image?: string | undefined; host?: string | undefined; taskId?: string | undefined };
}

function containerEnvValue(text: string | undefined, key: string): string | undefined {
  const value = text ? new RegExp(`^${key}="(.*)"$`, 'm').exec(text)?.[1] : undefined;
  return value || undefined;
}

function imageName(meta: ImageMetadata | undefined): string | undefined {
  if (!meta?.name) return undefined;
  return meta.version ? `${meta.name}:${meta.version}` : meta.name;
}

export function traceabilityFrom(input: TraceabilityInput): Traceability {
  const { env } = input;
  const fromScheduler = detectMesos(env) ?? detectNomad(env) ?? detectKubernetes(env, input.kubernetesEnv ?? defaultKubernetesEnv);
  const id = containerEnvValue(input.containerEnv, 'id') ?? findContainerId(input.procCgroup, input.mountinfo);
  const inContainer = id !== undefined || input.containerEnv !== undefined || input.dockerEnv;
  const scheduler: SchedulerName = fromScheduler?.scheduler ?? (inContainer ? 'docker' : 'none');
  // Without an orchestrator: the task ID the operator gave (a fleet gives its worker's name), the container's name
  // (podman tells it to privileged containers only) or its ID.
  const taskId = fromScheduler?.taskId ?? input.overrides?.taskId ?? containerEnvValue(input.containerEnv, 'name') ?? id;
  const image = input.overrides?.image ?? imageName(input.imageMetadata);
  const host = input.overrides?.host ?? fromScheduler?.host;

  const out: Traceability = { scheduler, hostname: input.hostname, schedulerAttributes: fromScheduler?.attributes ?? {}, granted: {} };
  if (taskId) out.taskId = taskId;
  if (id) out.containerId = id;
  if (image) out.image = image;
  if (input.imageMetadata?.revision) out.imageRevision = input.imageMetadata.revision;
  if (host) out.host = host;
  if (fromScheduler?.cpus) out.granted.cpus = fromScheduler.cpus;
  if (fromScheduler?.memoryMiB) out.granted.memoryMiB = fromScheduler.memoryMiB;
  return out;
}

const readOptional = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

export async function detectTraceability(
  env: Env,
  options: {
    kubernetesEnv?: KubernetesEnvNames;
    overrides?: { image?: string | undefined; host?: string | undefined; taskId?: string | undefined };
  } = {},
): Promise<Traceability> {
  const [procCgroup, mountinfo, imageMetadata, containerEnv, dockerEnv] = await Promise.all([
    readOptional('/proc/self/cgroup'),
    readOptional('/proc/self/mountinfo'),
    readImageMetadata(),
    readOptional('/run/.containerenv'),
    readOptional('/.dockerenv').then((text) => text !== undefined),
  ]);
  return traceabilityFrom({
    env,
    procCgroup: procCgroup ?? '',
    mountinfo: mountinfo ?? '',
    hostname: osHostname(),
    imageMetadata,
    containerEnv,
    dockerEnv,
    ...options,
  });
}

/** Machine ad attributes (ClassAd names → plain values) for every slot. */
export function machineAttributes(t: Traceability): Record<string, string> {
  const out: Record<string, string> = { ContainerScheduler: t.scheduler };
  if (t.taskId) out.ContainerTaskId = t.taskId;
  if (t.containerId) out.ContainerId = t.containerId;
  if (t.image) out.ContainerImage = t.image;
  if (t.imageRevision) out.ContainerImageRevision = t.imageRevision;
  if (t.host) out.ContainerHost = t.host;
  return { ...out, ...t.schedulerAttributes };
}

/**
 * Job ad attributes recorded from the execute side over Chirp (the agent speaks it to the job's starter, agent/condor/chirp.ts).
 * The names must start with "Chirp": both the starter and the shadow refuse other names for delayed updates
 * (CHIRP_DELAYED_UPDATE_PREFIX).
 */
export function jobAttributes(t: Traceability): Record<string, string> {
  const out: Record<string, string> = { ChirpContainerScheduler: t.scheduler };
  if (t.taskId) out.ChirpContainerTaskId = t.taskId;
  if (t.containerId) out.ChirpContainerId = t.containerId;
  if (t.image) out.ChirpContainerImage = t.image;
  if (t.host) out.ChirpContainerHost = t.host;
  if (t.schedulerAttributes.MesosTaskId) out.ChirpMesosTaskId = t.schedulerAttributes.MesosTaskId;
  return out;
}

/** Fields every log line carries, so a log store finds a job's lines after the container is gone. */
export function logFields(t: Traceability): Record<string, string> {
  const out: Record<string, string> = {};
  if (t.taskId) out.taskId = t.taskId;
  if (t.containerId) out.containerId = t.containerId;
  if (t.image) out.image = t.image;
  return out;
}
