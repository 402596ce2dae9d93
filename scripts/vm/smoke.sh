#!/bin/bash
# Smoke scenario for the test VM: run it with scripts/vm/smoke-run.sh (or run.sh with WN_VM_IMAGES set).
# Inside the guest it checks the pure cgroup v2 host, loads the wn-agent test image, and runs containers under crun
# and runc: plain, on a netavark network with name resolution (aardvark-dns), and privileged with a writable
# cgroup namespace. What it saw, with the time of each phase, goes to /share/smoke.json; exits non-zero on a failure.
set -euo pipefail

image=${SMOKE_IMAGE:-localhost/wn-agent:test}
tar=${SMOKE_IMAGE_TAR:-/share/images/wn-agent_test.tar}
out=/share/smoke.json
failed=0
echo '{"phases": {}}' >"$out.tmp"

# record NAME SECONDS RC OUTPUT: one phase into the JSON report.
record() {
  jq --arg n "$1" --argjson s "$2" --argjson rc "$3" --arg o "$4" \
    '.phases[$n] = {seconds: $s, rc: $rc, output: $o}' "$out.tmp" >"$out.tmp2" && mv "$out.tmp2" "$out.tmp"
}
# phase NAME CMD...: run, time, print and record a command; a failure marks the run failed but goes on.
phase() {
  local name=$1 t0 t1 rc=0 output
  shift
  echo "=== $name: $*"
  t0=$(date +%s.%N)
  output=$("$@" 2>&1) || rc=$?
  t1=$(date +%s.%N)
  printf '%s\n' "$output"
  local secs
  secs=$(echo "$t1 $t0" | awk '{printf "%.2f", $1 - $2}')
  echo "=== $name: rc=$rc in ${secs}s"
  record "$name" "$secs" "$rc" "$output"
  [ "$rc" = 0 ] || failed=1
}
# expect NAME PATTERN: the named phase's output must match PATTERN (extended regex).
expect() {
  if ! jq -r --arg n "$1" '.phases[$n].output' "$out.tmp" | grep -Eq "$2"; then
    echo "!!! $1: output does not match /$2/"
    failed=1
  fi
}

jq --arg k "$(uname -r)" --arg c "$(cat /sys/fs/cgroup/cgroup.controllers)" --arg f "$(stat -fc %T /sys/fs/cgroup)" \
  --arg d "$(date -u +%FT%TZ)" --argjson up "$(cut -d' ' -f1 /proc/uptime)" \
  --arg p "$(podman --version)" --arg crun "$(crun --version | head -1)" --arg runc "$(runc --version | head -1)" \
  '. + {kernel: $k, controllers: $c, cgroup_fs: $f, date: $d, uptime_at_start: $up, podman: $p, crun: $crun, runc: $runc}' \
  "$out.tmp" >"$out.tmp2" && mv "$out.tmp2" "$out.tmp"
jq 'del(.phases)' "$out.tmp"
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "!!! /sys/fs/cgroup is not cgroup2"; failed=1; }

# run.sh normally preloads the image into the VM's storage disk (WN_VM_IMAGES); load it here only when missing.
if podman image exists "$image"; then
  phase image-preloaded podman image inspect --format '{{.Id}}' "$image"
else
  phase load podman load -q -i "$tar"
fi
phase network-create podman network create wn-smoke-net

for rt in crun runc; do
  phase "$rt-cgroup" podman --runtime "$rt" run --rm --entrypoint cat "$image" /proc/self/cgroup
  expect "$rt-cgroup" '^0::/$'
  # Own name, as a worker resolves itself, and a peer's name, which only aardvark-dns can answer.
  phase "$rt-dns-self" podman --runtime "$rt" run --rm --network wn-smoke-net --name "smoke-self-$rt" \
    --entrypoint getent "$image" hosts "smoke-self-$rt"
  expect "$rt-dns-self" "smoke-self-$rt"
  phase "$rt-peer-start" podman --runtime "$rt" run -d --network wn-smoke-net --name "smoke-peer-$rt" \
    --entrypoint sleep "$image" 600
  phase "$rt-dns-peer" podman --runtime "$rt" run --rm --network wn-smoke-net \
    --entrypoint sh "$image" -c "cat /etc/resolv.conf; grep -c smoke-peer /etc/hosts || true; getent hosts smoke-peer-$rt"
  expect "$rt-dns-peer" "smoke-peer-$rt"
  podman rm -f -t 0 "smoke-peer-$rt" >/dev/null
  # Private cgroup namespace (podman's default on v2) with /sys/fs/cgroup writable: sub-cgroups can be made.
  phase "$rt-privileged-cgroup" podman --runtime "$rt" run --rm --privileged --entrypoint sh "$image" \
    -c 'cat /proc/self/cgroup; mkdir /sys/fs/cgroup/x && echo mkdir-ok && cat /sys/fs/cgroup/x/cgroup.controllers && rmdir /sys/fs/cgroup/x'
  expect "$rt-privileged-cgroup" 'mkdir-ok'
done

jq --argjson failed "$failed" '. + {ok: ($failed == 0)}' "$out.tmp" >"$out" && rm -f "$out.tmp"
echo "=== smoke: $([ "$failed" = 0 ] && echo PASSED || echo FAILED)"
exit "$failed"
