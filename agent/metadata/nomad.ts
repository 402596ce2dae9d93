import { countCpuList } from '../util/cpu-list.ts';
import { pickAttributes, type Env, type SchedulerFacts } from './scheduler.ts';

/** Nomad's task runtime environment (Nomad docs, "Runtime Environment"): NOMAD_ALLOC_ID and friends. */
export function detectNomad(env: Env): SchedulerFacts | undefined {
  const alloc = env.NOMAD_ALLOC_ID;
  if (!alloc) return undefined;
  const facts: SchedulerFacts = {
    scheduler: 'nomad',
    taskId: alloc,
    attributes: pickAttributes(env, {
      NomadAllocId: 'NOMAD_ALLOC_ID',
      NomadJobName: 'NOMAD_JOB_NAME',
      NomadTaskName: 'NOMAD_TASK_NAME',
      NomadDc: 'NOMAD_DC',
    }),
  };
  const cpus = countCpuList(env.NOMAD_CPU_CORES ?? ''); // reserved cores, a cpuset list such as 0-1,4
  if (cpus) facts.cpus = cpus;
  const mem = Number(env.NOMAD_MEMORY_LIMIT); // MiB
  if (mem > 0) facts.memoryMiB = mem;
  return facts;
}
