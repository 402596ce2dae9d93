import { describe, expect, it } from 'vitest';
import { machineName } from '../../agent/metadata/machine-name.ts';

const id = 'befb8adf357566be10766951b6c9c5442c9302324798b04f9df429ec683d1af2';

describe('machineName', () => {
  it('adds the short container ID to a shared host name', () => {
    expect(machineName('mesos-node-7', { containerId: id, fallbackId: 'x' })).toBe('mesos-node-7-befb8adf3575');
  });

  it('keeps the domain of a fully qualified host name', () => {
    expect(machineName('Node7.Example.org', { containerId: id, fallbackId: 'x' })).toBe('node7-befb8adf3575.example.org');
  });

  it('keeps a host name that already is the container ID (podman and docker default)', () => {
    expect(machineName('befb8adf3575', { containerId: id, fallbackId: 'x' })).toBe('befb8adf3575');
  });

  it('without a container ID: a stable suffix from the task ID, else from the persisted agent ID', () => {
    const a = machineName('worker', { taskId: 'grid/pod-a', fallbackId: 'x' });
    expect(a).toMatch(/^worker-[0-9a-f]{12}$/);
    expect(machineName('worker', { taskId: 'grid/pod-a', fallbackId: 'y' })).toBe(a);
    expect(machineName('worker', { taskId: 'grid/pod-b', fallbackId: 'x' })).not.toBe(a);
    expect(machineName('worker', { fallbackId: 'x' })).not.toBe(machineName('worker', { fallbackId: 'y' }));
  });

  it('two containers with one host name get two names', () => {
    const other = `${'0'.repeat(12)}${id.slice(12)}`;
    expect(machineName('wn', { containerId: id, fallbackId: 'x' })).not.toBe(machineName('wn', { containerId: other, fallbackId: 'x' }));
  });

  it('makes a valid DNS label of odd host names', () => {
    const name = machineName(`Under_score${'x'.repeat(80)}`, { containerId: id, fallbackId: 'x' });
    expect(name).toMatch(/^[a-z0-9-]{1,63}$/);
    expect(name.endsWith('-befb8adf3575')).toBe(true);
  });

  it('never lets a host name carry configuration syntax into NETWORK_HOSTNAME (every label cleaned)', () => {
    const name = machineName('wn.evil domain\nSTART = True #$(x)', { containerId: id, fallbackId: 'x' });
    expect(name).toMatch(/^[a-z0-9.-]+$/);
    expect(name.startsWith('wn-befb8adf3575.')).toBe(true);
    expect(machineName(`${id.slice(0, 12)}.bad$label`, { containerId: id, fallbackId: 'x' })).toBe(`${id.slice(0, 12)}.bad-label`);
  });
});
