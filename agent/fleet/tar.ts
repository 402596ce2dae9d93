/**
 * A minimal ustar writer for the few small files the fleet puts into a worker's container before it starts
 * (Docker Engine API PUT /containers/<id>/archive takes a tar). POSIX ustar: a 512-byte header per entry, the data
 * padded to 512 bytes, two zero blocks at the end. Paths are ours and short: nothing here needs long-name extensions.
 */
export interface TarEntry {
  /** Relative path inside the archive; a directory's may end with '/'. ASCII, at most 99 bytes. */
  path: string;
  type: 'file' | 'dir';
  /** Permission bits, e.g. 0o400. */
  mode: number;
  uid?: number;
  gid?: number;
  /** A file's content. */
  data?: Buffer;
  /** Seconds since the epoch (default: now). */
  mtime?: number;
}

const block = 512;

export function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(entry, data.length));
    if (data.length > 0) parts.push(data, Buffer.alloc((block - (data.length % block)) % block));
  }
  parts.push(Buffer.alloc(2 * block));
  return Buffer.concat(parts);
}

function header(entry: TarEntry, size: number): Buffer {
  const path = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  if (!/^[A-Za-z0-9._/-]+$/.test(path) || path.startsWith('/') || path.split('/').includes('..') || path.length > 99)
    throw new Error(`tar: ${JSON.stringify(entry.path)}: only short relative ASCII paths without '..'`);
  const h = Buffer.alloc(block);
  h.write(path, 0, 'ascii');
  octal(h, 100, 8, entry.mode & 0o7777);
  octal(h, 108, 8, entry.uid ?? 0);
  octal(h, 116, 8, entry.gid ?? 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, entry.mtime ?? Math.floor(Date.now() / 1000));
  h.write(entry.type === 'dir' ? '5' : '0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii'); // magic "ustar\0", version "00"
  // The checksum is the byte sum of the header with its own field read as eight spaces.
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return h;
}

/** A numeric field: zero-padded octal digits and a NUL, in `length` bytes. */
function octal(h: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (!Number.isInteger(value) || value < 0 || digits.length > length - 1)
    throw new Error(`tar: ${value} does not fit a ${length}-byte field`);
  h.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, 'ascii');
}
