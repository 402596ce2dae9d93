import { pickAttributes, type Env, type SchedulerFacts } from './scheduler.ts';

/** Names of the downward-API variables the pod spec sets (README: "Kubernetes"); configurable per site. */
export interface KubernetesEnvNames {
  podName: string;
  namespace: string;
  podUid: string;
  nodeName: string;
}

export const defaultKubernetesEnv: KubernetesEnvNames = {
  podName: 'POD_NAME',
  namespace: 'POD_NAMESPACE',
  podUid: 'POD_UID',
  nodeName: 'NODE_NAME',
};

/**
 * Kubernetes tells a pod nothing about itself unless the manifest maps fieldRef values into variables (downward API).
 * KUBERNETES_SERVICE_HOST alone still says "this is Kubernetes".
 */
export function detectKubernetes(env: Env, names: KubernetesEnvNames = defaultKubernetesEnv): SchedulerFacts | undefined {
  const pod = env[names.podName];
  if (!pod && !env.KUBERNETES_SERVICE_HOST) return undefined;
  const namespace = env[names.namespace];
  const facts: SchedulerFacts = {
    scheduler: 'kubernetes',
    attributes: pickAttributes(env, {
      K8sPodName: names.podName,
      K8sNamespace: names.namespace,
      K8sPodUid: names.podUid,
      K8sNodeName: names.nodeName,
    }),
  };
  if (pod) facts.taskId = namespace ? `${namespace}/${pod}` : pod;
  const node = env[names.nodeName];
  if (node) facts.host = node;
  return facts;
}
