import { classAdString } from '../condor/classad.ts';

/** The machine-ad attributes the health checks publish (START requires WnHealthy =!= false). */
export const healthAttributes = ['WnHealthy', 'WnUnhealthyReasons'] as const;

/** A slot ad is sent whole at every update: the reasons are cut at this many characters. */
export const maxReasonsLength = 1000;

/**
 * The machine-ad fragment the startd cron job publishes (STARTD_CRON output is ClassAd lines, one attribute each):
 * WnHealthy first, so that it stands whatever the reasons hold.
 */
export function healthAd(reasons: readonly string[]): string {
  const chars = Array.from(reasons.join('; '));
  const text = chars.length <= maxReasonsLength ? chars.join('') : `${chars.slice(0, maxReasonsLength - 1).join('')}…`;
  return `WnHealthy = ${reasons.length === 0 ? 'true' : 'false'}\nWnUnhealthyReasons = ${classAdString(text)}\n`;
}
