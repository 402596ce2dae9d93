import { posix } from 'node:path';

/** `path` is `dir` or lies below it (both normalized, absolute). */
export function within(path: string, dir: string): boolean {
  return path === dir || dir === '/' || path.startsWith(`${dir}/`);
}

/** One holds the other: a mount of either reaches into the other. */
export function overlaps(a: string, b: string): boolean {
  return within(a, b) || within(b, a);
}

/** An absolute path without `..` segments, as one spelling: no `.` segments, doubled or trailing slashes. */
export function cleanAbsolute(path: string): string | undefined {
  if (!path.startsWith('/') || path.split('/').includes('..')) return undefined;
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}
