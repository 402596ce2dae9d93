import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/files.ts';
import type { CvmfsConfig } from '../config/options.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { cvmfsAd, healthAttribute } from './attributes.ts';
import { renderDefaultLocal } from './client-config.ts';
import { mountAt, mountRepo, unmount } from './mounts.ts';
import { probeRepo } from './probe.ts';
import { PollLoop } from '../util/poll-loop.ts';

export interface RepoState {
  repo: string;
  required: boolean;
  dir: string;
  healthy: boolean;
  /** Mounted by the agent (and so unmounted by it); false for a mount the host or a CSI driver made. */
  ours: boolean;
  revision?: number | undefined;
  lastError?: string | undefined;
  /** Probes failed in a row. */
  failures: number;
}

const mountTimeoutMs = 60_000;

/**
 * Mounts (or finds) the configured repositories, probes them at start and then every --cvmfs-probe-interval,
 * remounts what broke, and keeps `adFile` (published into the machine ad by a startd cron job) true to what it saw.
 */
export class CvmfsManager {
  readonly repos: RepoState[];
  private readonly loop: PollLoop;

  constructor(
    private readonly config: CvmfsConfig,
    /** Published into the machine ad by the startd cron job the configuration renders. */
    readonly adFile: string,
    private readonly log: Logger,
    private readonly clientConfigFile = '/etc/cvmfs/default.local',
  ) {
    this.loop = new PollLoop(() => this.probeAll(), config.probeIntervalMs);
    this.repos = [
      ...config.required.map((repo) => ({ repo, required: true })),
      ...config.optional.map((repo) => ({ repo, required: false })),
    ].map(({ repo, required }) => ({ repo, required, dir: join(config.mountRoot, repo), healthy: false, ours: false, failures: 0 }));
  }

  get configured(): boolean {
    return this.repos.length > 0;
  }

  /** Mounts and probes every repository in parallel. A broken required one: everything is unmounted again, then exit 4. */
  async start(): Promise<void> {
    if (!this.configured) return;
    await mkdir(dirname(this.adFile), { recursive: true });
    if (this.config.mode !== 'bind') {
      await mkdir(join(this.clientConfigFile, '..'), { recursive: true });
      await writeFileAtomic(this.clientConfigFile, renderDefaultLocal(this.config));
    }
    await Promise.all(this.repos.map((state) => this.bringUp(state)));
    await this.publish();
    const broken = this.repos.filter((state) => state.required && !state.healthy);
    if (broken.length > 0) {
      await this.unmountAll();
      throw new AgentError(
        'WN_ERR_CVMFS',
        `required CVMFS ${broken.length === 1 ? 'repository' : 'repositories'} unavailable: ${broken.map((s) => `${s.repo} (${s.lastError ?? 'unknown error'})`).join('; ')}`,
        { details: { repositories: broken.map((s) => s.repo) } },
      );
    }
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.unmountAll();
  }

  private async bringUp(state: RepoState): Promise<void> {
    const existing = await mountAt(state.dir);
    if (!existing && this.config.mode === 'bind') {
      state.lastError = `nothing is mounted at ${state.dir} (--cvmfs-mode bind expects the host or a CSI driver to mount it)`;
      this.log.error({ event: 'cvmfs-missing', repo: state.repo, dir: state.dir, required: state.required }, state.lastError);
      return;
    }
    if (!existing) {
      await mkdir(state.dir, { recursive: true });
      const mounted = await mountRepo(state.repo, state.dir, mountTimeoutMs);
      if (!mounted.ok) {
        state.lastError = `mount failed: ${mounted.output}`;
        this.log.error(
          { event: 'cvmfs-mount-failed', repo: state.repo, dir: state.dir, required: state.required, output: mounted.output },
          `cannot mount ${state.repo}`,
        );
        return;
      }
      state.ours = true;
      this.log.info({ event: 'cvmfs-mounted', repo: state.repo, dir: state.dir }, `mounted ${state.repo}`);
    } else {
      this.log.info(
        { event: 'cvmfs-found', repo: state.repo, dir: state.dir, fsType: existing.fsType, source: existing.source },
        `${state.repo} already mounted`,
      );
    }
    await this.probe(state);
  }

  private async probe(state: RepoState): Promise<boolean> {
    // A FUSE daemon that exits cleanly takes its mount with it and leaves an empty directory that reads fine: the
    // mount table (read in the agent: it touches no FUSE) must show the mount too.
    const result = (await mountAt(state.dir))
      ? await probeRepo(state.dir, this.config.probeTimeoutMs)
      : { ok: false, ms: 0, error: `nothing is mounted at ${state.dir}` };
    const was = state.healthy;
    state.healthy = result.ok;
    state.lastError = result.error;
    state.failures = result.ok ? 0 : state.failures + 1;
    if (result.revision !== undefined) state.revision = result.revision;
    if (result.ok !== was || !result.ok) {
      const fields = {
        event: result.ok ? 'cvmfs-healthy' : 'cvmfs-unhealthy',
        repo: state.repo,
        required: state.required,
        attribute: healthAttribute(state.repo),
        probeMs: result.ms,
        revision: state.revision,
        error: result.error,
      };
      if (result.ok) this.log.info(fields, `${state.repo} is healthy`);
      else this.log.warn(fields, `${state.repo} failed its probe`);
    }
    return result.ok;
  }

  /**
   * A repository that fails is advertised false at once; it is remounted at the next probe if it is still broken.
   * That keeps the false visible for a probe period (the collector and jobs being matched see it), lets a transient
   * hiccup heal by itself, and bounds remount attempts to one per period.
   */
  private async probeAll(): Promise<void> {
    await Promise.all(
      this.repos.map(async (state) => {
        if (await this.probe(state)) return;
        if (state.failures >= 2) await this.remount(state);
      }),
    );
    await this.publish();
  }

  /** Detaches the broken mount and mounts again; for bind mounts the host must mend it, so only the probe repeats. */
  private async remount(state: RepoState): Promise<void> {
    if (!state.ours && this.config.mode === 'bind') return;
    if (await mountAt(state.dir)) await unmount(state.dir, 10_000);
    const mounted = await mountRepo(state.repo, state.dir, mountTimeoutMs);
    if (!mounted.ok) {
      this.log.error(
        { event: 'cvmfs-remount-failed', repo: state.repo, output: mounted.output },
        `cannot remount ${state.repo}; will try again`,
      );
      return;
    }
    state.ours = true;
    this.log.info({ event: 'cvmfs-remounted', repo: state.repo, dir: state.dir }, `remounted ${state.repo}`);
    await this.probe(state);
  }

  private async publish(): Promise<void> {
    await writeFileAtomic(this.adFile, cvmfsAd(this.repos));
  }

  private async unmountAll(): Promise<void> {
    await Promise.all(
      this.repos
        .filter((state) => state.ours)
        .map(async (state) => {
          const result = await unmount(state.dir, 10_000);
          state.ours = false;
          state.healthy = false;
          const fields = {
            event: result.ok ? 'cvmfs-unmounted' : 'cvmfs-unmount-failed',
            repo: state.repo,
            dir: state.dir,
            lazy: result.lazy,
            output: result.output,
          };
          if (result.ok) this.log.info(fields, `unmounted ${state.repo}`);
          else this.log.error(fields, `cannot unmount ${state.repo}`);
        }),
    );
  }
}
