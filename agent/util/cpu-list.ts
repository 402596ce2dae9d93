/** Linux CPU lists (cpuset.cpus, NOMAD_CPU_CORES): "0-3,8,10-11" names 7 CPUs. */
export function countCpuList(list: string): number | undefined {
  if (!list.trim()) return undefined;
  let count = 0;
  for (const part of list.trim().split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) return undefined;
    count += to === undefined ? 1 : to - from + 1;
  }
  return count;
}
