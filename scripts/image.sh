#!/usr/bin/env bash
# npm run image: builds localhost/wn-agent:dev (and its base image, once) with podman.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$WN_ROOT"
bash scripts/setup-host.sh
bash scripts/base-image.sh
bash scripts/check-network.sh
[ -d node_modules ] || { say "npm ci"; npm ci --no-audit --no-fund >/dev/null; }
say "bundling the agent (dist/wn-agent.mjs and its chunks)"
node scripts/build.mjs
bash scripts/fetch-node.sh
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || revision="$revision-dirty"
version=$(node -p 'require("./package.json").version')
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build() { # build VARIANT TAG
  podman build --network host --isolation chroot --layers --target image --build-arg VARIANT="$1" \
    --build-arg BASE=localhost/debian:trixie \
    --build-arg IMAGE_NAME="${WN_IMAGE_TAG%:*}" \
    --build-arg IMAGE_VERSION="$version" \
    --build-arg IMAGE_REVISION="$revision" \
    --build-arg BUILD_DATE="$date" \
    -t "$2" . >/tmp/wn-agent-image-build.log 2>&1 || { tail -40 /tmp/wn-agent-image-build.log; exit 1; }
  say "built $2"
}
say "podman build $WN_IMAGE_TAG and $WN_TEST_IMAGE_TAG (revision $revision; the first build installs HTCondor, about a minute)"
build plain "$WN_IMAGE_TAG"
# The production variant needs CERN's package repository, which this machine cannot reach; it is not built here.
build test "$WN_TEST_IMAGE_TAG"
