#!/bin/bash
# Boots the cgroup v2 test VM (built by build.sh) under QEMU without KVM and runs SCENARIO in it as root.
# SHARE_DIR is shared with the guest at /share (virtio-9p): the scenario is copied to SHARE_DIR/.vm/scenario.sh, runs
# with /share as its working directory, and its output goes to SHARE_DIR/console.log and the serial console.
# Exits with the scenario's exit code.
# Usage: scripts/vm/run.sh SCENARIO SHARE_DIR [extra qemu args...]
# Env:   WN_VM_DIR       built VM (default /var/lib/wn-agent-vm)
#        WN_VM_TIMEOUT   seconds before qemu is killed (default 1800)
#        WN_VM_IMAGES    host podman images for the guest (space-separated): each is `podman save`d to
#                        SHARE_DIR/images/NAME.tar (again only when its image ID changed) and, unless WN_VM_PRELOAD=0,
#                        loaded once into a cached podman storage disk that later runs start from (see below)
#        WN_VM_SCRATCH   use this raw file as the scratch disk and keep it (made when missing); used by the preload
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
tars=() ids=()
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
  tars+=("/share/images/${tar##*/}") ids+=("$id")
done

# `podman load` of a ~700 MB image takes ~3 minutes under TCG (unpacking layers), so it is done once per image set:
# a boot that only loads the images (preload.sh) makes a storage disk, kept in $vm_dir/storage/, and every run then
# boots with a copy-on-write qcow2 overlay of it. It is redone when the images or the VM build change.
scratch_base=
if [ ${#tars[@]} -gt 0 ] && [ "${WN_VM_PRELOAD:-1}" = 1 ]; then
  mkdir -p "$vm_dir/storage"
  scratch_base=$vm_dir/storage/$(echo "${WN_VM_IMAGES}" | sha256sum | cut -c1-16).img
  key=$(printf '%s\n' "$(cat "$vm_dir/stamp")" "${ids[@]}" | sha256sum | cut -d' ' -f1)
  # One preload at a time for a given image set; a concurrent run waits and then uses the result.
  exec 9>"$scratch_base.lock"
  flock 9
  if [ "$(cat "$scratch_base.key" 2>/dev/null)" != "$key" ]; then
    say "preloading ${WN_VM_IMAGES} into a cached storage disk (once per image set)"
    printf '%s\n' "${tars[@]}" >"$share/.vm/preload.list"
    rm -f "$scratch_base.new"
    WN_VM_IMAGES= WN_VM_SCRATCH=$scratch_base.new "$0" "$here/preload.sh" "$share" \
      || { say "preload failed"; rm -f "$scratch_base.new"; exit 1; }
    mv "$scratch_base.new" "$scratch_base"
    echo "$key" >"$scratch_base.key"
    install -m 755 "$scenario" "$share/.vm/scenario.sh"
  fi
  flock -u 9
fi

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/wn-vm-run.XXXXXX")
qemu_pid=
cleanup() {
  [ -z "$qemu_pid" ] || kill -9 "$qemu_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Scratch disk for podman's storage, fresh for every run: an overlay of the preloaded storage, or an empty sparse
# ext4 image, so it costs only what the run writes.
if [ -n "${WN_VM_SCRATCH:-}" ]; then
  scratch=$WN_VM_SCRATCH scratch_fmt=raw
  [ -f "$scratch" ] || { truncate -s "${WN_VM_SCRATCH_GIB:-16}G" "$scratch" && mkfs.ext4 -q -F -L wn-vm-scratch "$scratch"; }
elif [ -n "$scratch_base" ]; then
  scratch=$tmp/scratch.qcow2 scratch_fmt=qcow2
  qemu-img create -q -f qcow2 -F raw -b "$scratch_base" "$scratch"
else
  scratch=$tmp/scratch.img scratch_fmt=raw
  truncate -s "${WN_VM_SCRATCH_GIB:-16}G" "$scratch"
  mkfs.ext4 -q -F -L wn-vm-scratch "$scratch"
fi

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
  -drive "file=$scratch,format=$scratch_fmt,if=virtio,cache=unsafe" \
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
