import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { check } from './exec.ts';

export interface PemFiles {
  cert: string;
  key: string;
}

const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA made with the real openssl: a self-signed certificate (CA:TRUE) and its key, in `dir`. */
export async function makeCa(dir: string, name: string): Promise<PemFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await check('openssl', ['req', '-x509', ...newKey, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', `/CN=${name}`]);
  return files;
}

/**
 * A server certificate signed by `ca`, for the name `dns` only (never an IP address: workers' certificates cannot
 * name the address the engine will give them); with `intermediate`, a CA certificate signed by `ca` instead.
 */
export async function makeServerCert(
  dir: string,
  ca: PemFiles,
  name: string,
  { dns = `${name}.invalid`, intermediate = false }: { dns?: string; intermediate?: boolean } = {},
): Promise<PemFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(
    ext,
    intermediate
      ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
      : `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${dns}\n`,
  );
  await check('openssl', ['req', '-new', ...newKey, '-keyout', files.key, '-out', csr, '-subj', `/CN=${intermediate ? name : dns}`]);
  await check('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    String(Date.now()),
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    files.cert,
  ]);
  return files;
}
