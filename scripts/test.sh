#!/usr/bin/env bash
# npm test: everything CI checks, on a fresh Debian 12 machine as root.
#   1. system packages (apt-get: podman, runc, buildah, debootstrap, squashfuse) and npm dependencies (npm ci)
#   2. type-check (tsc), lint (eslint) and format check (prettier)
#   3. unit tests (vitest, project "unit")
#   4. the image (debootstrap'd trixie base once, then podman build) and integration tests against a real
#      HTCondor pool in podman containers (vitest, project "integration")
#   5. the benchmarks in --smoke mode (npm run bench runs them in full; results in docs/benchmarks.md)
# The first run builds the base image and installs HTCondor into it (a few minutes); later runs reuse both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$WN_ROOT"
started=$(date +%s)
bash scripts/setup-host.sh
say "npm ci"
npm ci --no-audit --no-fund --loglevel=error
say "type-check"
npx tsc --noEmit
say "lint and format (prettier --check: npm run format fixes it)"
npx eslint .
npm run --silent format:check
say "unit tests"
npx vitest run --project unit
say "image"
bash scripts/image.sh
say "integration tests (real pool in podman)"
WN_SKIP_IMAGE_BUILD=1 npx vitest run --project integration
say "benchmark smoke run (checks every measurement can be taken; asserts no timing)"
npx tsx bench/run.ts --smoke
say "all green in $(( $(date +%s) - started )) s"
