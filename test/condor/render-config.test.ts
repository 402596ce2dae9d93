import { describe, expect, it } from 'vitest';
import { condorLayout } from '../../agent/condor/layout.ts';
import { renderCondorConfig, type RenderInput } from '../../agent/condor/render-config.ts';
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

  it('includes site files last, in the given order, so they can override anything', () => {
    const text = render({}, ['/etc/wn-agent/condor.d/10-a.conf', '/etc/wn-agent/condor.d/20-b.conf']);
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(['include : /etc/wn-agent/condor.d/10-a.conf', 'include : /etc/wn-agent/condor.d/20-b.conf']);
  });
});
