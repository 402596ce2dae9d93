// Bundles the agent into ES modules in dist/ for the image (dist/wn-agent.mjs and the chunks it imports on demand):
// no node_modules, and Node loads one module at container start instead of resolving hundreds. Code reached only by
// a dynamic import() (systeminformation for `status`, the fleet controller) is split into chunks that Node reads
// only when that code runs, so it costs nothing on the way from container start to condor_master.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunks are named by hash: old ones would pile up in dist/ and be copied into the image.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: ['agent/cli.ts'],
  outdir: 'dist',
  entryNames: 'wn-agent',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // No inline source map: it doubles what Node must parse at every container start (measured in docs/benchmarks.md).
  sourcemap: false,
  legalComments: 'none',
  define: { WN_AGENT_VERSION: JSON.stringify(pkg.version) },
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: {
    js: "import { createRequire as __wnCreateRequire } from 'node:module'; const require = __wnCreateRequire(import.meta.url);",
  },
  // ws loads these optional native speed-ups inside try/catch; they are not installed.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
});
