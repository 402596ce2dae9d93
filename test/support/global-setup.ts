import { check, repoRoot } from './exec.ts';
import { testPool } from './pool.ts';

/**
 * Integration tests need the image (built from this tree, cached layers make a rebuild quick) and a running pool.
 * WN_SKIP_IMAGE_BUILD=1 reuses an image that is already there.
 */
export async function setup(): Promise<void> {
  if (process.env.WN_SKIP_IMAGE_BUILD !== '1') {
    await check('bash', [`${repoRoot}scripts/image.sh`], { timeoutMs: 900_000 });
  }
  await testPool.down().catch(() => undefined); // leftovers of an interrupted run
  await testPool.up();
}

export async function teardown(): Promise<void> {
  if (process.env.WN_KEEP_POOL === '1') return;
  await testPool.down();
}
