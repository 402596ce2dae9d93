import { join } from 'node:path';

/** Where the agent's HTCondor lives inside its state directory. One place, so every module agrees. */
export interface CondorLayout {
  localDir: string;
  configFile: string;
  log: string;
  spool: string;
  execute: string;
  lock: string;
  run: string;
  passwordDir: string;
  tokenDir: string;
}

export function condorLayout(stateDir: string): CondorLayout {
  const localDir = join(stateDir, 'condor');
  return {
    localDir,
    configFile: join(localDir, 'condor_config'),
    log: join(localDir, 'log'),
    spool: join(localDir, 'spool'),
    execute: join(localDir, 'execute'),
    lock: join(localDir, 'lock'),
    run: join(localDir, 'run'),
    passwordDir: join(localDir, 'passwords.d'),
    tokenDir: join(localDir, 'tokens.d'),
  };
}
