import { describe, expect, it } from 'vitest';
import { daemonLogFile, parseDaemonLogLine } from '../../agent/condor/log-line.ts';

describe('daemonLogFile', () => {
  it.each([
    ['MasterLog', { daemon: 'master' }],
    ['StartLog', { daemon: 'startd' }],
    ['StarterLog', { daemon: 'starter' }],
    ['StarterLog.slot1_1', { daemon: 'starter', slot: 'slot1_1' }],
    ['SharedPortLog', { daemon: 'shared_port' }],
    ['ProcLog', { daemon: 'procd' }],
    ['XferStatsLog', { daemon: 'xfer_stats' }],
  ])('%s → %j', (name, expected) => expect(daemonLogFile(name)).toEqual(expected));

  it.each(['MasterLog.old', 'InstanceLock', 'StartLog.slot1_1.old', 'shared_port_ad', '.MasterLog.swp'])('ignores %s', (name) => {
    expect(daemonLogFile(name)).toBeUndefined();
  });
});

describe('parseDaemonLogLine', () => {
  it('splits off the daemon timestamp', () => {
    expect(parseDaemonLogLine('11/24/26 05:41:13 Started DaemonCore process "/usr/sbin/condor_startd", pid and pgroup = 21')).toEqual({
      condorTime: '2026-11-24T05:41:13',
      level: 'info',
      msg: 'Started DaemonCore process "/usr/sbin/condor_startd", pid and pgroup = 21',
    });
  });

  it("drops condor_procd's extra separator", () => {
    expect(parseDaemonLogLine('11/24/26 05:41:13 : taking a snapshot...').msg).toBe('taking a snapshot...');
  });

  it('raises ERROR and WARNING lines', () => {
    expect(parseDaemonLogLine('11/24/26 05:41:13 ERROR "Can\'t open file" at line 12').level).toBe('error');
    expect(parseDaemonLogLine('11/24/26 05:41:13 WARNING: no swap').level).toBe('warn');
    expect(parseDaemonLogLine('11/24/26 05:41:13 Errors are counted below').level).toBe('info');
  });

  it('keeps continuation lines whole', () => {
    expect(parseDaemonLogLine('    (continued)')).toEqual({ level: 'info', msg: '    (continued)' });
  });
});
