import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classAdString } from './classad.ts';
import { runCondorTool } from './tools.ts';

/** Our startd's address, as it writes it into LOG/.startd_address, for `condor_status -direct`. */
async function startdAddress(logDir: string): Promise<string> {
  const address = (await readFile(join(logDir, '.startd_address'), 'utf8')).split('\n')[0]?.trim();
  if (!address) throw new Error('the startd has not written its address yet');
  return address;
}

/**
 * A dynamic slot's resources, asked of our own startd directly (its address is in LOG/.startd_address), not of the
 * collector: the slot was created for this claim a moment ago and the collector may not have heard of it yet.
 */
export async function dynamicSlotResources(
  configFile: string,
  logDir: string,
  machineName: string,
  slot: string,
): Promise<{ cpus: number; memoryMiB: number }> {
  const address = await startdAddress(logDir);
  const out = await runCondorTool(
    'condor_status',
    ['-direct', address, '-constraint', `Name == ${classAdString(`${slot}@${machineName}`)}`, '-af', 'Cpus', 'Memory'],
    { configFile, timeoutMs: 5000 },
  );
  const [cpus, memory] = out.trim().split(/\s+/).map(Number);
  if (!cpus || !memory) throw new Error(`the startd does not list ${slot}@${machineName} (got ${JSON.stringify(out.trim())})`);
  return { cpus, memoryMiB: memory };
}

export interface SlotState {
  name: string;
  dynamic: boolean;
  state: string;
  activity: string;
}

/** Every slot of our startd as the startd itself sees it now (partitionable and dynamic). */
export async function startdSlots(configFile: string, logDir: string): Promise<SlotState[]> {
  const address = await startdAddress(logDir);
  const out = await runCondorTool('condor_status', ['-direct', address, '-af:t', 'Name', 'DynamicSlot', 'State', 'Activity'], {
    configFile,
    timeoutMs: 10_000,
  });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', dynamic = '', state = '', activity = ''] = line.split('\t');
      return { name, dynamic: dynamic === 'true', state, activity };
    });
}

/**
 * Work on this worker: a dynamic slot exists for every claim, idle or busy, so "any dynamic slot" covers
 * claimed-but-idle too; the partitionable slot itself stays Unclaimed/Idle while dynamic slots run (HTCondor 23.9).
 * A static slot counts when it is claimed, matched or preempting.
 */
export function busySlots(slots: readonly SlotState[]): SlotState[] {
  return slots.filter((slot) => slot.dynamic || ['Claimed', 'Matched', 'Preempting'].includes(slot.state));
}
