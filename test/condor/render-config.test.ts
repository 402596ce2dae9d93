import { describe, expect, it } from 'vitest';
import { condorLayout } from '../../agent/condor/layout.ts';
import { noIssuingKey, renderCondorConfig, type RenderInput } from '../../agent/condor/render-config.ts';
import { slotAccounts } from '../../agent/condor/slot-users.ts';
import { parseConfig } from '../../agent/config/parse.ts';

function render(raw: Parameters<typeof parseConfig>[0], siteConfigFiles: string[] = [], extra: Partial<RenderInput> = {}): string {
  const config = parseConfig({ condorHost: 'cm.example.org', ...raw });
  return renderCondorConfig({
    config,
    layout: condorLayout(config.stateDir),
    instanceId: 'id-1',
    siteConfigFiles,
    resources: { cpus: 4, memoryMiB: 8192 },
    attributes: { ContainerScheduler: 'mesos', MesosTaskId: 'say "hi"\nSTART = False' },
    machineName: 'node7-0123456789ab',
    namespaces: false,
    ...extra,
  });
}

/** Settings as HTCondor would read them: last assignment wins. */
function settings(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) map.set(match[1].toUpperCase(), match[2]);
  }
  return map;
}

describe('renderCondorConfig', () => {
  it('points HTCondor at the central manager and the agent-owned directories', () => {
    const s = settings(render({ stateDir: '/srv/wn' }));
    expect(s.get('CONDOR_HOST')).toBe('cm.example.org');
    expect(s.get('COLLECTOR_HOST')).toBe('$(CONDOR_HOST)');
    expect(s.get('LOCAL_DIR')).toBe('/srv/wn/condor');
    expect(s.get('LOG')).toBe('/srv/wn/condor/log');
    expect(s.get('EXECUTE')).toBe('/srv/wn/condor/execute');
    expect(s.get('SEC_PASSWORD_FILE')).toBe('$(SEC_PASSWORD_DIRECTORY)/POOL');
    expect(s.get('SEC_PASSWORD_DIRECTORY')).toBe('/srv/wn/condor/passwords.d');
    // No daemon here signs a token for anyone (a job authenticated by FS asked for one with condor_token_fetch).
    expect(s.get('SEC_TOKEN_ISSUER_KEY')).toBe(noIssuingKey);
    expect(s.get('SEC_TOKEN_FETCH_ALLOWED_SIGNING_KEYS')).toBe(noIssuingKey);
    expect(s.get('SEC_TOKEN_DIRECTORY')).toBe('/srv/wn/condor/tokens.d');
    expect(s.get('LIBEXEC')).toBe('/usr/libexec/condor');
  });

  it('uses the ordinary 9.0 security setup with pool password and IDTOKENS', () => {
    const text = render({});
    expect(text).toContain('use SECURITY: recommended_v9_0');
    expect(settings(text).get('SEC_DEFAULT_AUTHENTICATION_METHODS')).toBe('FS, IDTOKENS, PASSWORD');
  });

  it('runs only master and startd, with kernel tuning off for containers', () => {
    const s = settings(render({}));
    expect(s.get('DAEMON_LIST')).toBe('MASTER, STARTD');
    expect(s.get('ENABLE_KERNEL_TUNING')).toBe('False');
  });

  it('skips start-up probes that can only find nothing: the Python transfer plugins, and GPU discovery without GPU devices', () => {
    const s = settings(render({}));
    expect(s.get('FILETRANSFER_PLUGINS')).toBe('$(LIBEXEC)/curl_plugin, $(LIBEXEC)/data_plugin');
    expect(s.get('STARTD_DETECT_GPUS')).toBe('false');
    expect(settings(render({}, [], { gpus: true })).has('STARTD_DETECT_GPUS')).toBe(false);
  });

  it('advertises one partitionable slot owning the resources the agent decided', () => {
    const s = settings(render({}, [], { resources: { cpus: 3, memoryMiB: 1792 } }));
    expect(s.get('NUM_CPUS')).toBe('3');
    expect(s.get('MEMORY')).toBe('1792');
    expect(s.get('SLOT_TYPE_1')).toBe('100%');
    expect(s.get('SLOT_TYPE_1_PARTITIONABLE')).toBe('True');
  });

  it('advertises the instance ID and every attribute in all slot ads, ClassAd-quoted so no value can add a setting', () => {
    const text = render({});
    const s = settings(text);
    expect(s.get('WNAGENTINSTANCE')).toBe('"id-1"');
    expect(s.get('CONTAINERSCHEDULER')).toBe('"mesos"');
    expect(s.get('MESOSTASKID')).toBe('"say \\"hi\\" START = False"');
    expect(s.has('START')).toBe(false);
    expect(s.get('STARTD_ATTRS')).toBe('$(STARTD_ATTRS) WnAgentInstance ContainerScheduler MesosTaskId');
  });

  it('gives the machine the per-container name', () => {
    expect(settings(render({})).get('NETWORK_HOSTNAME')).toBe('node7-0123456789ab');
  });

  it('installs the job wrapper only when the image has it', () => {
    expect(settings(render({}, [], { jobWrapper: '/usr/local/libexec/wn-agent/job-wrapper' })).get('USER_JOB_WRAPPER')).toBe(
      '/usr/local/libexec/wn-agent/job-wrapper',
    );
    expect(settings(render({})).has('USER_JOB_WRAPPER')).toBe(false);
  });

  it('runs the jobs of each dynamic slot as its own account when the agent made them, else leaves HTCondor its default', () => {
    const s = settings(render({}, [], { slotAccounts: slotAccounts(4) }));
    expect(s.get('SLOT1_1_USER')).toBe('wnslot1');
    expect(s.get('SLOT1_4_USER')).toBe('wnslot4');
    expect(s.has('SLOT1_5_USER')).toBe(false);
    expect(s.get('DEDICATED_EXECUTE_ACCOUNT_REGEXP')).toBe('wnslot[0-9]+');
    expect(s.get('MODIFY_REQUEST_EXPR_REQUESTCPUS')).toBe('max({1, quantize(RequestCpus, {1})})');
    const without = settings(render({}));
    expect([...without.keys()].filter((k) => /^SLOT1_\d+_USER$/.test(k) || k.startsWith('DEDICATED_'))).toEqual([]);
  });

  it("finds Debian's condor_ssh_to_job pieces: LIB for the sshd template, the image's sshd", () => {
    for (const s of [settings(render({})), settings(render({}, [], { condorCgroups: true, slotAccounts: slotAccounts(1) }))]) {
      expect(s.get('LIB')).toBe('/usr/lib/condor');
      expect(s.get('SSH_TO_JOB_SSHD')).toBe('/usr/sbin/sshd');
      expect(s.get('ENABLE_SSH_TO_JOB')).toBe('True');
    }
  });

  it("lets HTCondor hold a job over its memory only where its cgroup code nests the job's cgroup", () => {
    const nested = settings(render({}, [], { condorCgroups: true }));
    expect(nested.get('CGROUP_MEMORY_LIMIT_POLICY')).toBe('hard');
    expect(nested.get('MEMORY_USAGE_METRIC')).toBe('((ImageSize+1023)/1024)');
    const alone = settings(render({}, [], { condorCgroups: false }));
    expect(alone.has('CGROUP_MEMORY_LIMIT_POLICY')).toBe(false);
    expect(alone.has('MEMORY_USAGE_METRIC')).toBe(false);
    expect(settings(render({})).has('CGROUP_MEMORY_LIMIT_POLICY')).toBe(false);
  });

  it('gives no daemon a BASE_CGROUP: only the starter wrapper sets one, per starter', () => {
    for (const condorCgroups of [false, true]) {
      const text = render({}, [], { condorCgroups, starterWrapper: '/usr/local/libexec/wn-agent/starter-wrapper' });
      expect(settings(text).get('BASE_CGROUP')).toBe('');
      // No per-daemon override (STARTD.BASE_CGROUP, STARTER.BASE_CGROUP) either.
      expect(text.split('\n').filter((l) => !l.startsWith('#') && l.includes('BASE_CGROUP'))).toEqual(['BASE_CGROUP =']);
      expect(settings(text).get('STARTER')).toBe('/usr/local/libexec/wn-agent/starter-wrapper');
    }
  });

  it('includes site files last, in the given order, so they can override anything', () => {
    const text = render({}, ['/etc/wn-agent/condor.d/10-a.conf', '/etc/wn-agent/condor.d/20-b.conf']);
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(['include : /etc/wn-agent/condor.d/10-a.conf', 'include : /etc/wn-agent/condor.d/20-b.conf']);
  });

  it('the lifetime guard: WnJobsEndBy advertised and a START clause on the job runtime attribute, only when the drain time is known', () => {
    expect(settings(render({})).has('WNJOBSENDBY')).toBe(false);
    const text = render({ jobRuntimeAttribute: 'EstimatedRuntimeMins' }, [], { jobsEndBy: 1_800_003_600 });
    const s = settings(text);
    expect(s.get('WNJOBSENDBY')).toBe('1800003600');
    expect(text).toContain('STARTD_ATTRS = $(STARTD_ATTRS) WnJobsEndBy');
    expect(s.get('WN_LIFETIME_START')).toBe(
      '(TARGET.EstimatedRuntimeMins =?= undefined) || (time() + 60 * TARGET.EstimatedRuntimeMins <= MY.WnJobsEndBy)',
    );
    expect(s.get('START')).toBe('($(START)) && ($(WN_LIFETIME_START))');
  });

  it('holds the job the agent names for the execute disk, keeping any PREEMPT and WANT_HOLD a site set before', () => {
    const s = settings(render({}, [], { healthAdFile: '/run/wn-agent/health.ad' }));
    expect(s.get('WN_DISK_HOLD')).toBe('((MY.Name == MY.WnDiskHoldSlot) =?= true)');
    expect(s.get('PREEMPT')).toBe('($(PREEMPT:False)) || $(WN_DISK_HOLD)');
    expect(s.get('WANT_HOLD')).toBe('($(WANT_HOLD:False)) || $(WN_DISK_HOLD)');
    expect(s.get('WANT_HOLD_REASON')).toBe('ifThenElse($(WN_DISK_HOLD), MY.WnDiskHoldReason, $(WANT_HOLD_REASON:undefined))');
    expect(s.get('WANT_HOLD_SUBCODE')).toBe('ifThenElse($(WN_DISK_HOLD), 1, $(WANT_HOLD_SUBCODE:0))');
    expect(s.get('MAXJOBRETIREMENTTIME')).toBe('ifThenElse($(WN_DISK_HOLD), 0, $(MAXJOBRETIREMENTTIME:0))');
  });

  it('publishes the worker health with a startd cron job and closes START while a check fails', () => {
    const without = render({});
    expect(without).not.toContain('WNHEALTH');
    expect(without).not.toContain('WnHealthy');
    const text = render({}, [], { healthAdFile: '/run/wn-agent/health.ad' });
    const s = settings(text);
    expect(s.get('STARTD_CRON_JOBLIST')).toBe('$(STARTD_CRON_JOBLIST) WNHEALTH');
    expect(s.get('STARTD_CRON_WNHEALTH_EXECUTABLE')).toBe('/bin/cat');
    expect(s.get('STARTD_CRON_WNHEALTH_ARGS')).toBe('/run/wn-agent/health.ad');
    expect(s.get('STARTD_CRON_WNHEALTH_MODE')).toBe('Periodic');
    expect(s.get('STARTD_CRON_WNHEALTH_PERIOD')).toBe('2s');
    // No verdict (undefined) keeps START open; only false closes it. No ?: (the negotiator's projection).
    expect(s.get('START')).toBe('($(START)) && (MY.WnHealthy =!= false)');
    expect(text.split('\n').filter((l) => /^START\s*=/.test(l) && l.includes('?'))).toEqual([]);
  });

  it('chains every START clause on the previous one: CVMFS, health and the lifetime guard together', () => {
    const text = render({ cvmfsRepositories: 'atlas.cern.ch' }, [], {
      cvmfsAdFile: '/run/wn-agent/cvmfs.ad',
      healthAdFile: '/run/wn-agent/health.ad',
      jobsEndBy: 1_800_003_600,
    });
    expect(text.split('\n').filter((l) => l.startsWith('START ='))).toEqual([
      'START = ($(START)) && ($(WN_CVMFS_START))',
      'START = ($(START)) && (MY.WnHealthy =!= false)',
      'START = ($(START)) && ($(WN_LIFETIME_START))',
    ]);
    expect(settings(text).get('STARTD_CRON_JOBLIST')).toBe('$(STARTD_CRON_JOBLIST) WNHEALTH');
    expect(text).toContain('STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) WNCVMFS');
  });

  it('refuses a job runtime attribute that is not a plain attribute name (it is written into START)', () => {
    expect(() => render({ jobRuntimeAttribute: 'x) || true || (y' })).toThrow(
      /--job-runtime-attribute \(WN_JOB_RUNTIME_ATTRIBUTE\): expected a ClassAd attribute name/,
    );
  });
});
