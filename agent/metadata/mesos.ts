import { pickAttributes, type Env, type SchedulerFacts } from './scheduler.ts';

/**
 * Mesos (any framework) sets MESOS_TASK_ID, MESOS_EXECUTOR_ID, MESOS_CONTAINER_NAME, MESOS_SANDBOX and HOST (the agent's
 * host name); Marathon adds MARATHON_APP_* (Marathon docs, "Task Environment Variables").
 */
export function detectMesos(env: Env): SchedulerFacts | undefined {
  const taskId = env.MESOS_TASK_ID;
  if (!taskId) return undefined;
  const facts: SchedulerFacts = {
    scheduler: 'mesos',
    taskId,
    attributes: pickAttributes(env, {
      MesosTaskId: 'MESOS_TASK_ID',
      MesosExecutorId: 'MESOS_EXECUTOR_ID',
      MesosContainerName: 'MESOS_CONTAINER_NAME',
      MarathonAppId: 'MARATHON_APP_ID',
      MarathonAppVersion: 'MARATHON_APP_VERSION',
      MarathonAppDockerImage: 'MARATHON_APP_DOCKER_IMAGE',
    }),
  };
  if (env.HOST) facts.host = env.HOST;
  const cpus = Number(env.MARATHON_APP_RESOURCE_CPUS);
  if (cpus > 0) facts.cpus = cpus;
  const mem = Number(env.MARATHON_APP_RESOURCE_MEM); // MiB, as Marathon's "mem"
  if (mem > 0) facts.memoryMiB = Math.floor(mem);
  return facts;
}
