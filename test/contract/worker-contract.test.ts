import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/parse.ts';
import { workerConfigOf } from '../../agent/contract/worker-contract.ts';
import { AgentError } from '../../agent/errors.ts';

// The fleet's reading of a worker's options is the worker's own: the same parser over the same variables and flags.
describe('workerConfigOf', () => {
  it('reads WN_<FLAG> variables, WN_ATTR_<Name> attributes and flags as the worker does, the flags winning', () => {
    const config = workerConfigOf(
      { CONDOR_HOST: 'cm', WN_IDLE_TIMEOUT: '5m', WN_CPUS: '8', WN_ATTR_Site: 'RAL', WN_CVMFS_REPOSITORIES: 'atlas.cern.ch' },
      ['--cpus', '2', '--attr', 'Rack=A12', 'Zone=north', '--memory=4G'],
    );
    expect(config).toEqual(
      parseConfig(
        { idleTimeout: '5m', cpus: '2', attr: ['Rack=A12', 'Zone=north'], memory: '4G', cvmfsRepositories: 'atlas.cern.ch' },
        { CONDOR_HOST: 'cm', WN_ATTR_Site: 'RAL' },
      ),
    );
    expect(config).toMatchObject({
      cpus: 2,
      memoryMiB: 4096,
      idleTimeoutMs: 300_000,
      attributes: { Site: 'RAL', Rack: 'A12', Zone: 'north' },
    });
  });

  it("refuses what the worker's strict command line refuses: unknown variables, unknown flags, stray arguments", () => {
    const refusal = (env: Record<string, string>, args: string[]): string => {
      try {
        workerConfigOf({ CONDOR_HOST: 'cm', ...env }, args);
      } catch (error) {
        expect(error).toBeInstanceOf(AgentError);
        return (error as AgentError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal({ WN_DRAIN_TIMOUT: '5m' }, [])).toBe(
      'WN_DRAIN_TIMOUT: not an option of wn-agent run (the worker would refuse to start)',
    );
    expect(refusal({}, ['--drain-timout', '5m'])).toContain("the worker's arguments: Unknown argument");
    expect(refusal({}, ['stray'])).toContain("the worker's arguments: Unknown argument: stray");
    expect(refusal({ WN_ATTR_ContainerId: 'x' }, [])).toContain('ContainerId is set by wn-agent itself');
  });

  it("does not read the worker's files: a health-check directory or token file that exists only in its container", () => {
    const config = workerConfigOf({ CONDOR_HOST: 'cm', WN_HEALTH_CHECK_DIR: '/etc/wn-agent/health.d' }, []);
    expect(config.healthCheck.dir).toBe('/etc/wn-agent/health.d');
    expect(() => workerConfigOf({ CONDOR_HOST: 'cm', WN_HEALTH_CHECK_DIR: 'relative' }, [])).toThrow('expected an absolute path');
  });
});
