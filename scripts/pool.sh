#!/usr/bin/env bash
# A local HTCondor pool in podman for tests and the demo.
#   pool.sh up NAME        central manager + schedd container wn-NAME-cm on network wn-NAME, pool password in /var/tmp/wn-pool-NAME
#   pool.sh worker NAME [podman run args...] [-- agent args...]
#                          starts a wn-agent worker joined to it (privileged, runc), prints its container ID
#   pool.sh down NAME      removes workers, the central manager, the network and the password
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cmd=${1:?usage: pool.sh up|worker|down NAME}
name=${2:?usage: pool.sh up|worker|down NAME}
shift 2
net=wn-$name
cm=wn-$name-cm
dir=/var/tmp/wn-pool-$name

case "$cmd" in
up)
  mkdir -p "$dir" && chmod 0700 "$dir"
  if [ ! -s "$dir/POOL" ]; then
    # A pool password as HTCondor writes it (condor_store_cred), from a random secret that is never printed.
    head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/secret"
    podman run --rm --network none -e CONDOR_CONFIG=/etc/condor/condor_config -v "$dir:/out" --entrypoint /bin/sh "$WN_IMAGE_TAG" \
      -c 'condor_store_cred add -c -i /out/secret -f /out/POOL >/dev/null' 
    rm -f "$dir/secret"
    chmod 0600 "$dir/POOL"
  fi
  podman network exists "$net" || podman network create "$net" >/dev/null
  podman rm -f "$cm" >/dev/null 2>&1 || true
  say "starting central manager $cm on network $net"
  podman run -d --name "$cm" --hostname cm --network "$net" --label "wn-pool=$name" \
    -e CONDOR_CONFIG=/etc/condor-pool/condor_config \
    -v "$WN_ROOT/scripts/pool/central-manager.conf:/etc/condor-pool/condor_config:ro" \
    -v "$dir/POOL:/etc/condor/passwords.d/POOL:ro" \
    --entrypoint /usr/bin/tini "$WN_IMAGE_TAG" -- /bin/sh -c \
    'mkdir -p /var/lib/condor-pool/log /var/lib/condor-pool/spool /var/lib/condor-pool/execute /var/lib/condor-pool/lock /var/lib/condor-pool/run &&
     chown condor:condor /var/lib/condor-pool/* && (id submitter >/dev/null 2>&1 || useradd -m submitter 2>/dev/null) && exec condor_master -f' >/dev/null
  for _ in $(seq 1 120); do
    if [ -n "$(podman exec "$cm" condor_status -schedd -af Name 2>/dev/null)" ]; then
      say "pool $name ready: collector and schedd at $cm (workers use CONDOR_HOST=$cm on network $net)"
      exit 0
    fi
    sleep 0.5
  done
  say "pool $name did not come up within 60 s; CollectorLog and SchedLog follow"
  podman exec "$cm" sh -c 'tail -20 /var/lib/condor-pool/log/CollectorLog /var/lib/condor-pool/log/SchedLog' >&2 || podman logs "$cm" >&2
  exit 1
  ;;
worker)
  podman_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do podman_args+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  podman run -d --privileged --network "$net" --label "wn-pool=$name" \
    -e CONDOR_HOST="$cm" \
    -v "$dir/POOL:/etc/condor/passwords-orig.d/POOL:ro" \
    -v "$WN_ROOT/scripts/pool/worker-test.conf:/etc/wn-agent/condor.d/50-test.conf:ro" \
    "${podman_args[@]}" "$WN_IMAGE_TAG" run "$@"
  ;;
down)
  ids=$(podman ps -aq --filter "label=wn-pool=$name")
  [ -z "$ids" ] || podman rm -f -t 5 $ids >/dev/null
  podman network exists "$net" && podman network rm "$net" >/dev/null
  rm -rf "$dir"
  say "pool $name removed"
  ;;
*) echo "usage: pool.sh up|worker|down NAME" >&2; exit 2 ;;
esac
