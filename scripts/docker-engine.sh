#!/usr/bin/env bash
# A private Docker Engine for the tests: Debian's docker.io (dockerd 20.10 with its own docker CLI, /usr/bin/docker;
# another docker earlier on PATH is not used), on a socket, data root and exec root of its own, cgroupfs driver.
#   up    start it (idempotent) and wait until it answers; prints the socket
#   down  stop it (its containers with it) and remove its state
# It runs with --iptables=false --ip-masq=false --bridge=none: dockerd otherwise sets the FORWARD chain's policy to
# DROP and adds chains of its own, which cuts podman's container networks off (the test pool runs there). With no
# bridge, its containers use the host's network (--network host) or a podman network's addresses are not reachable.
# Needs root; scripts/setup-host.sh installs docker.io.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
root=${WN_DOCKER_ROOT:-/var/lib/wn-docker}
run=${WN_DOCKER_RUN:-/run/wn-docker}
socket=$run/docker.sock
docker=(/usr/bin/docker -H "unix://$socket")
case "${1:-}" in
  up)
    if "${docker[@]}" version >/dev/null 2>&1; then echo "$socket"; exit 0; fi
    mkdir -p "$root" "$run"
    say "starting dockerd $(/usr/sbin/dockerd --version | sed 's/^Docker version //') on $socket (iptables off, no bridge)"
    nohup /usr/sbin/dockerd --host "unix://$socket" --data-root "$root" --exec-root "$run/exec" \
      --pidfile "$run/dockerd.pid" --iptables=false --ip-masq=false --bridge=none \
      --exec-opt native.cgroupdriver=cgroupfs --containerd-namespace wn-docker --containerd-plugins-namespace wn-docker-plugins \
      >"$run/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do
      if "${docker[@]}" version >/dev/null 2>&1; then echo "$socket"; exit 0; fi
      sleep 0.5
    done
    tail -20 "$run/dockerd.log" >&2
    say "dockerd did not answer within 30 s" && exit 1
    ;;
  down)
    if [ -f "$run/dockerd.pid" ]; then
      pid=$(cat "$run/dockerd.pid")
      "${docker[@]}" ps -aq 2>/dev/null | xargs -r "${docker[@]}" rm -f >/dev/null 2>&1 || true
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    # dockerd leaves its default network namespace mounted (nsfs) under its exec root.
    for ns in "$run"/exec/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null || true; done
    rm -rf "$run"
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
