// Bundles the agent into one ES module (dist/wn-agent.mjs) for the image: one file to copy, no node_modules,
// and Node loads one module instead of resolving hundreds at every container start.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['agent/cli.ts'],
  outfile: 'dist/wn-agent.mjs',
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
