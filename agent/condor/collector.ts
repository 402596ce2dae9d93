import { classAdString } from './classad.ts';
import { runCondorTool } from './tools.ts';

export interface SlotAd {
  name: string;
  state: string;
  activity: string;
}

/**
 * The agent's own slot ads as the collector holds them (what `condor_status` shows an operator), found by the
 * per-run WnAgentInstance attribute rather than by host name: two containers may share a host name.
 */
export async function ownSlotAds(configFile: string, instanceId: string, timeoutMs = 10_000): Promise<SlotAd[]> {
  const out = await runCondorTool(
    'condor_status',
    ['-constraint', `WnAgentInstance == ${classAdString(instanceId)}`, '-af:t', 'Name', 'State', 'Activity'],
    { configFile, timeoutMs },
  );
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name = '', state = '', activity = ''] = line.split('\t');
      return { name, state, activity };
    });
}
