import { runBounded } from '../util/run.ts';
import { join } from 'node:path';
import { condorPaths } from '../config/options.ts';
import { AgentError } from '../errors.ts';

export interface ToolOptions {
  configFile: string;
  timeoutMs?: number;
}

/**
 * Runs an HTCondor command-line tool against the agent's own configuration and returns its stdout.
 * Tools are bounded by a timeout: a collector that does not answer must not hang a control loop.
 */
export async function runCondorTool(
  tool: string,
  args: readonly string[],
  { configFile, timeoutMs = 20_000 }: ToolOptions,
): Promise<string> {
  const file = tool.startsWith('/') ? tool : join(condorPaths.bin, tool);
  const result = await runBounded(file, args, { timeoutMs, env: { ...process.env, CONDOR_CONFIG: configFile }, maxBuffer: 16 << 20 });
  if (!result.ok) throw new AgentError('WN_ERR_CONDOR_TOOL', `${tool} ${args.join(' ')}: ${result.why}`);
  return result.stdout;
}
