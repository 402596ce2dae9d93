import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TarEntry } from './tar.ts';
import { workerToken } from './worker-token.ts';

/** The PEM files of the workers' admin port TLS: contents, read at the controller's start. */
export interface WorkerTls {
  /** The certificate (and any intermediates) every worker serves, and its key. */
  cert: Buffer;
  key: Buffer;
  /** The CA that signed it: the only one the controller trusts when it reads a worker. */
  ca: Buffer;
}

/** What the controller gives its workers and reads them with. */
export interface FleetCredentials {
  /** The fleet's key (--admin-token-file): each worker's token is derived from it and the worker's name. */
  key: string;
  /** With it, workers serve their admin port with TLS and the controller reads them over https. */
  tls?: WorkerTls | undefined;
}

/** Where a worker finds what the fleet gave it: root-only, in the container's own filesystem, never in its environment. */
export const workerSecretDir = '/etc/wn-fleet';

/**
 * The files a worker is given before it starts (a tar's entries, rooted at /) and the agent flags that point at them.
 * The token is a file, not WN_ADMIN_TOKEN: a variable is in `docker inspect` and in /proc/1/environ, which a job that
 * got root in the container could read; the file is 0400 root, and the agent covers it from jobs at start as it covers
 * every secret it was given (agent/condor/hide-secrets.ts).
 */
export function workerCredentialFiles(credentials: FleetCredentials, workerName: string): { files: TarEntry[]; args: string[] } {
  const dir = workerSecretDir.slice(1);
  const root = { uid: 0, gid: 0 };
  const files: TarEntry[] = [
    { path: `${dir}/`, type: 'dir', mode: 0o700, ...root },
    { path: `${dir}/admin-token`, type: 'file', mode: 0o400, ...root, data: Buffer.from(`${workerToken(credentials.key, workerName)}\n`) },
  ];
  const args = ['--admin-token-file', `${workerSecretDir}/admin-token`];
  if (credentials.tls) {
    files.push(
      { path: `${dir}/tls.crt`, type: 'file', mode: 0o444, ...root, data: credentials.tls.cert },
      { path: `${dir}/tls.key`, type: 'file', mode: 0o400, ...root, data: credentials.tls.key },
    );
    args.push('--admin-tls-cert', `${workerSecretDir}/tls.crt`, '--admin-tls-key', `${workerSecretDir}/tls.key`);
  }
  return { files, args };
}

/**
 * --worker-tls-cert, --worker-tls-key and --worker-ca-file: all three or none. Checked at start, so that a
 * certificate the controller would refuse stops the controller with a message, instead of leaving every worker it
 * starts unread (and so never drained): the key must match the certificate, and the certificate must chain to the CA.
 */
export function readWorkerTls(
  files: { cert?: unknown; key?: unknown; ca?: unknown },
  bad: (flag: string, message: string) => never,
): WorkerTls | undefined {
  const named = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const certFile = named(files.cert);
  const keyFile = named(files.key);
  const caFile = named(files.ca);
  if (!certFile && !keyFile && !caFile) return undefined;
  if (!certFile || !keyFile) {
    const missing = certFile ? 'worker-tls-key' : 'worker-tls-cert';
    return bad(missing, 'required with --worker-tls-cert, --worker-tls-key and --worker-ca-file: give all three or none');
  }
  if (!caFile)
    return bad(
      'worker-ca-file',
      "required with --worker-tls-cert and --worker-tls-key: the PEM CA that signed the workers' certificate, the only one the controller trusts when it reads them",
    );
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      return bad(flag, `cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const tls = { cert: read('worker-tls-cert', certFile), key: read('worker-tls-key', keyFile), ca: read('worker-ca-file', caFile) };
  const chain = certificates(tls.cert, 'worker-tls-cert', certFile, bad);
  const authorities = certificates(tls.ca, 'worker-ca-file', caFile, bad);
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.key);
  } catch (error) {
    return bad('worker-tls-key', `${keyFile} is not a PEM private key: ${(error as Error).message}`);
  }
  const leaf = chain[0] as X509Certificate;
  if (!leaf.checkPrivateKey(key)) bad('worker-tls-key', `${keyFile} is not the key of the certificate in ${certFile}`);
  // Leaf, then any intermediates the file carries, up to a certificate one of the CA's certificates issued.
  const signedBy = (child: X509Certificate, parent: X509Certificate): boolean =>
    child.checkIssued(parent) && child.verify(parent.publicKey);
  let top = leaf;
  for (const next of chain.slice(1)) if (signedBy(top, next)) top = next;
  if (!authorities.some((ca) => signedBy(top, ca)))
    bad('worker-tls-cert', `the certificate in ${certFile} (${leaf.subject.replace(/\n/g, ', ')}) is not signed by the CA in ${caFile}`);
  return tls;
}

function certificates(pem: Buffer, flag: string, file: string, bad: (flag: string, message: string) => never): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return bad(flag, `${file} holds no PEM certificate`);
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (error) {
    return bad(flag, `${file}: not a PEM certificate: ${(error as Error).message}`);
  }
}
