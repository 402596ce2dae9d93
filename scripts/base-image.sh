#!/usr/bin/env bash
# Builds localhost/debian:trixie from a debootstrap'd Debian trixie tree and imports it into podman,
# so the Dockerfile's `FROM debian:trixie` works here without a container registry.
# Cached: does nothing when the image already exists (set WN_REBUILD_BASE=1 to force).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
IMAGE=${WN_BASE_IMAGE:-localhost/debian:trixie}
MIRROR=${WN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ -z "${WN_REBUILD_BASE:-}" ] && podman image exists "$IMAGE"; then
  say "$IMAGE already present, reusing it"
  exit 0
fi
tree=$(mktemp -d /var/tmp/wn-trixie.XXXXXX)
trap 'rm -rf "$tree"' EXIT
say "debootstrap --variant=minbase trixie into $tree (2-3 minutes the first time)"
debootstrap --variant=minbase trixie "$tree" "$MIRROR" >"$tree.log" 2>&1 || { tail -30 "$tree.log"; exit 1; }
rm -f "$tree.log"
# Keep the image small: apt lists and caches are refetched by the Dockerfile's own apt-get update.
rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/archives/*.deb
say "importing as $IMAGE"
tar -C "$tree" -c . | podman import --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
say "done"
