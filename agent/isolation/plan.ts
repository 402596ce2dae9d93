import { discoverCgroups, isWritable, type CgroupLayout } from '../cgroup/discover.ts';
import { CgroupTree } from '../cgroup/tree.ts';
import type { JobIsolationMode } from '../config/options.ts';
import { AgentError } from '../errors.ts';
import { hasSysAdmin } from './capabilities.ts';

export interface IsolationPlan {
  cgroups: boolean;
  namespaces: boolean;
  tree?: CgroupTree;
  layout?: CgroupLayout;
  cgroupMode?: string;
  /** Why something is missing, in words for the operator. */
  problems: string[];
}

/**
 * What job isolation is possible in this container, decided once at start. `required` refuses to start without all of
 * it; `best-effort` keeps what works and says what is missing; `off` leaves both to nobody.
 */
export async function planIsolation(mode: JobIsolationMode): Promise<IsolationPlan> {
  if (mode === 'off') return { cgroups: false, namespaces: false, problems: [] };
  const problems: string[] = [];
  const layout = await discoverCgroups();
  const tree = new CgroupTree(layout);
  let cgroupsOk = true;
  for (const controller of ['memory', 'cpu', 'pids'] as const) {
    if (!tree.roots.has(controller)) {
      problems.push(`no ${controller} cgroup controller is visible in this container (cgroups: ${layout.mode})`);
      cgroupsOk = false;
    }
  }
  for (const dir of tree.hierarchies) {
    if (!(await isWritable(dir))) {
      problems.push(`the cgroup filesystem at ${dir} is read-only: run the container privileged or with a writable, delegated cgroup`);
      cgroupsOk = false;
    }
  }
  const sysAdmin = await hasSysAdmin();
  if (!sysAdmin) problems.push('no CAP_SYS_ADMIN: HTCondor cannot give jobs their own PID and mount namespaces');
  if (mode === 'required' && problems.length > 0) {
    throw new AgentError(
      'WN_ERR_ISOLATION',
      `--job-isolation (WN_JOB_ISOLATION) is required, but: ${problems.join('; ')}. Use --job-isolation best-effort to run without it.`,
    );
  }
  return { cgroups: cgroupsOk, namespaces: sysAdmin, tree, layout, cgroupMode: layout.mode, problems };
}
