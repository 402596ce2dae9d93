#!/usr/bin/env bash
# Proves that a podman container network works before anything depends on it: creates a network, starts a container
# on it that resolves its own name through the network's DNS (aardvark-dns), and removes both. A pool whose workers
# cannot reach the central manager by name fails much later and much less clearly, so this stops early, saying why.
# Needs the base image (scripts/base-image.sh). Takes about 2 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
IMAGE=${WN_BASE_IMAGE:-localhost/debian:trixie}
net=wn-netcheck-$$
ctr=wn-netcheck-$$
cleanup() { podman rm -f -t 0 "$ctr" >/dev/null 2>&1 || true; podman network rm -f "$net" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() {
  say "container networking does not work: $1"
  say "podman needs netavark, aardvark-dns and iptables (scripts/setup-host.sh installs them) and runc"
  say "(scripts/containers.conf); check 'podman info --format {{.Host.NetworkBackend}}' says netavark."
  exit 1
}
out=$(podman network create "$net" 2>&1) || fail "podman network create: $out"
err=$(mktemp)
out=$(podman run --rm --name "$ctr" --network "$net" "$IMAGE" getent hosts "$ctr" 2>"$err") ||
  fail "a container on network $net could not resolve its own name: $(cat "$err")"
rm -f "$err"
say "container network ok (created $net, a container on it resolved its own name to ${out%% *}, removed both)"
