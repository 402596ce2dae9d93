// Bundles the agent into ES modules in dist/ for the image (dist/wn-agent.mjs and the chunks it imports on demand):
// no node_modules, and Node loads one module at container start instead of resolving hundreds. Code reached only by
// a dynamic import() (systeminformation for `status`, the fleet controller) is split into chunks that Node reads
// only when that code runs, so it costs nothing on the way from container start to condor_master.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';

// Node's built-in modules are loaded with require(), not import: an ES import of a built-in makes Node build an ES
// module facade of it, which reads every export, lazy ones included. For node:http that loads all of undici (Node
// 22's fetch, about 55 ms of CPU) at every container start, for a module the agent uses only for its admin server.
const builtins = new Set(builtinModules);
const requireBuiltins = {
  name: 'require-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!builtins.has(name) || (args.kind !== 'import-statement' && args.kind !== 'dynamic-import')) return undefined;
      return { path: name, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

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
  plugins: [requireBuiltins],
  logLevel: 'warning',
});
