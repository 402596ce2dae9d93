import { classAdString } from '../condor/classad.ts';

/** The machine-ad attributes the worker's health publishes (START requires WnHealthy =!= false). */
export const healthAttributes = ['WnHealthy', 'WnUnhealthyReasons', 'WnDiskHoldSlot', 'WnDiskHoldReason'] as const;

/** A slot ad is sent whole at every update: the reasons are cut at this many characters. */
export const maxReasonsLength = 1000;

/** The job the startd is to hold because the execute disk is nearly full: its dynamic slot's Name, and why. */
export interface DiskHold {
  slot: string;
  reason: string;
}

/**
 * The machine-ad fragment the startd cron job publishes (STARTD_CRON output is ClassAd lines, one attribute each):
 * WnHealthy first, so that it stands whatever the reasons hold. With a disk hold, the slot whose job the startd's
 * WANT_HOLD puts on hold and the hold reason (empty strings without one).
 */
export function healthAd(reasons: readonly string[], hold?: DiskHold): string {
  const lines = [
    `WnHealthy = ${reasons.length === 0 ? 'true' : 'false'}`,
    `WnUnhealthyReasons = ${classAdString(cut(reasons.join('; ')))}`,
    // Always written: an attribute a cron job stops printing is not reliably removed from the slot ads.
    `WnDiskHoldSlot = ${classAdString(hold?.slot ?? '')}`,
    `WnDiskHoldReason = ${classAdString(cut(hold?.reason ?? ''))}`,
  ];
  return `${lines.join('\n')}\n`;
}

function cut(text: string): string {
  const chars = Array.from(text);
  return chars.length <= maxReasonsLength ? text : `${chars.slice(0, maxReasonsLength - 1).join('')}…`;
}
