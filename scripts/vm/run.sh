#!/bin/bash
# Boots the cgroup v2 test VM (built by build.sh) under QEMU without KVM and runs SCENARIO in it as root.
# SHARE_DIR is shared with the guest at /share (virtio-9p): the scenario is copied to SHARE_DIR/.vm/scenario.sh, runs
# with /share as its working directory, and its output goes to SHARE_DIR/console.log and the serial console.
# Exits with the scenario's exit code.
# Usage: scripts/vm/run.sh SCENARIO SHARE_DIR [extra qemu args...]
# Env:   WN_VM_DIR       built VM (default /var/lib/wn-agent-vm)
#        WN_VM_TIMEOUT   seconds before qemu is killed (default 1800)
#        WN_VM_IMAGES    host podman images to `podman save` into SHARE_DIR/images/ first (space-separated);
#                        a tar is saved again only when the image ID changed; the guest loads them itself
#        WN_VM_MEM / WN_VM_CPUS / WN_VM_SCRATCH_GIB   memory (MiB, 4096), CPUs (2), scratch disk size (16)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_dir=${WN_VM_DIR:-/var/lib/wn-agent-vm}
timeout_s=${WN_VM_TIMEOUT:-1800}
say() { printf '\033[1m[wn-vm run]\033[0m %s\n' "$*" >&2; }

[ $# -ge 2 ] || { echo "usage: $0 SCENARIO SHARE_DIR [extra qemu args...]" >&2; exit 2; }
scenario=$1 share=$2
shift 2
[ -f "$scenario" ] || { say "no scenario file $scenario"; exit 2; }
for f in vmlinuz initrd.img root.img; do
  [ -f "$vm_dir/$f" ] || { say "no $vm_dir/$f: run scripts/vm/build.sh first"; exit 2; }
done

mkdir -p "$share/.vm"
share=$(cd "$share" && pwd)
install -m 755 "$scenario" "$share/.vm/scenario.sh"
rm -f "$share/exit-code" "$share/console.log"

# Images for the guest, as docker-archive tars: the guest has no registry to pull from.
for image in ${WN_VM_IMAGES:-}; do
  mkdir -p "$share/images"
  tar=$share/images/$(echo "$image" | sed 's|^localhost/||; s|[/:]|_|g').tar
  id=$(podman image inspect --format '{{.Id}}' "$image")
  if [ ! -f "$tar" ] || [ "$(cat "$tar.id" 2>/dev/null)" != "$id" ]; then
    say "saving $image to $tar"
    rm -f "$tar" "$tar.id"
    podman save -q -o "$tar" "$image"
    echo "$id" >"$tar.id"
  fi
done

# Scratch disk for podman's storage, fresh for every run; sparse, so it costs only what the run writes.
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/wn-vm-run.XXXXXX")
qemu_pid=
cleanup() {
  [ -z "$qemu_pid" ] || kill -9 "$qemu_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
truncate -s "${WN_VM_SCRATCH_GIB:-16}G" "$tmp/scratch.img"
mkfs.ext4 -q -F -L wn-vm-scratch "$tmp/scratch.img"

# TCG, not KVM: nested KVM hangs on these hosts. The root disk is booted with snapshot=on: the guest may write to it,
# but the writes go to a temporary overlay and the image stays pristine. No NIC: the guest needs no network.
# panic=1 + -no-reboot: if init dies, qemu exits instead of hanging until the timeout.
# wn.epoch: the host's clock, for the guest init to check its own against.
cmdline="console=ttyS0 panic=1 quiet loglevel=4 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all wn.epoch=$(date +%s)"
say "booting (TCG, timeout ${timeout_s}s); serial console follows, also in $share/serial.log"
started=$SECONDS
qemu-system-x86_64 \
  -accel tcg -cpu max -smp "${WN_VM_CPUS:-2}" -m "${WN_VM_MEM:-4096}" \
  -nographic -serial mon:stdio -no-reboot -nic none \
  -kernel "$vm_dir/vmlinuz" -initrd "$vm_dir/initrd.img" -append "$cmdline" \
  -drive "file=$vm_dir/root.img,format=raw,if=virtio,snapshot=on" \
  -drive "file=$tmp/scratch.img,format=raw,if=virtio,cache=unsafe" \
  -virtfs "local,path=$share,mount_tag=share,security_model=none" \
  "$@" </dev/null > >(tee "$share/serial.log") 2>&1 &
qemu_pid=$!

# Our own timeout (rather than timeout(1)) so the message says what happened.
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ $((SECONDS - started)) -ge "$timeout_s" ]; then
    kill -9 "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=
    say "TIMEOUT: the VM ran longer than ${timeout_s}s (WN_VM_TIMEOUT) and was killed; see $share/serial.log"
    exit 124
  fi
  sleep 1
done
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=
say "VM ran $((SECONDS - started)) s"

if [ ! -f "$share/exit-code" ]; then
  say "the scenario did not report an exit code (qemu exit $qemu_rc): see $share/serial.log"
  exit 125
fi
rc=$(cat "$share/exit-code")
say "scenario exit code: $rc"
exit "$rc"
