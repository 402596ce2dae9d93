import type { CvmfsConfig } from '../config/options.ts';

/** /etc/cvmfs/default.local for the CVMFS client in mount mode (cvmfs docs, "Client configuration"). */
export function renderDefaultLocal(config: CvmfsConfig): string {
  return [
    '# Written by wn-agent at start from its --cvmfs-* options; edits are lost.',
    `CVMFS_REPOSITORIES=${[...config.required, ...config.optional].join(',')}`,
    `CVMFS_HTTP_PROXY=${config.httpProxy === undefined ? 'DIRECT' : `'${config.httpProxy}'`}`,
    `CVMFS_CACHE_BASE=${config.cacheBase}`,
    `CVMFS_QUOTA_LIMIT=${config.quotaMiB}`,
    `CVMFS_MOUNT_DIR=${config.mountRoot}`,
    '',
  ].join('\n');
}
