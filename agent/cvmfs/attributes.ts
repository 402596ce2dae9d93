import { classAdString } from '../condor/classad.ts';

/** HAS_CVMFS_atlas_cern_ch: the repository name with dots and dashes as underscores. */
export function healthAttribute(repo: string): string {
  return `HAS_CVMFS_${repo.replace(/[.-]/g, '_')}`;
}

export function revisionAttribute(repo: string): string {
  return `CVMFS_${repo.replace(/[.-]/g, '_')}_REVISION`;
}

export interface RepoHealth {
  repo: string;
  healthy: boolean;
  revision?: number | undefined;
}

/**
 * The machine-ad fragment the startd cron job publishes (STARTD_CRON output is ClassAd lines). CVMFS_HEALTHY lists
 * the healthy repositories for the START clause (README: "CVMFS").
 */
export function cvmfsAd(repos: readonly RepoHealth[]): string {
  const lines: string[] = [];
  for (const { repo, healthy, revision } of repos) {
    lines.push(`${healthAttribute(repo)} = ${healthy ? 'true' : 'false'}`);
    if (revision !== undefined) lines.push(`${revisionAttribute(repo)} = ${revision}`);
  }
  lines.push(
    `CVMFS_HEALTHY = ${classAdString(
      repos
        .filter((r) => r.healthy)
        .map((r) => r.repo)
        .join(','),
    )}`,
  );
  return `${lines.join('\n')}\n`;
}
