import type { CvmfsConfig } from '../config/options.ts';

/** A value for a file that the CVMFS client sources as a shell script: single-quoted, so nothing in it is run. */
const shellWord = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/** /etc/cvmfs/default.local for the CVMFS client in mount mode (cvmfs docs, "Client configuration"). */
export function renderDefaultLocal(config: CvmfsConfig): string {
  return [
    '# Written by wn-agent at start from its --cvmfs-* options; edits are lost.',
    `CVMFS_REPOSITORIES=${shellWord([...config.required, ...config.optional].join(','))}`,
    `CVMFS_HTTP_PROXY=${shellWord(config.httpProxy ?? 'DIRECT')}`,
    `CVMFS_CACHE_BASE=${shellWord(config.cacheBase)}`,
    `CVMFS_QUOTA_LIMIT=${shellWord(String(config.quotaMiB))}`,
    `CVMFS_MOUNT_DIR=${shellWord(config.mountRoot)}`,
    '',
  ].join('\n');
}
