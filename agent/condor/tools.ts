import { execFile } from 'node:child_process';
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
export function runCondorTool(tool: string, args: readonly string[], { configFile, timeoutMs = 20_000 }: ToolOptions): Promise<string> {
  const file = tool.startsWith('/') ? tool : join(condorPaths.bin, tool);
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: { ...process.env, CONDOR_CONFIG: configFile }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const why = error.killed ? `timed out after ${timeoutMs} ms` : `exit ${String(error.code)}`;
        reject(
          new AgentError('WN_ERR_CONDOR_TOOL', `${tool} ${args.join(' ')}: ${why}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, {
            cause: error,
          }),
        );
      },
    );
  });
}
