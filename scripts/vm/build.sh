#!/bin/bash
# Builds the cgroup v2 test VM from Debian packages only: Debian's bookworm kernel, a tiny busybox initramfs, and an
# ext4 root disk image made with debootstrap plus podman (crun and runc), netavark and friends (packages.txt).
# Output in $WN_VM_DIR (default /var/lib/wn-agent-vm): vmlinuz, initrd.img, root.img, stamp.
# Cached: nothing is rebuilt while the stamp holds the same hash of the inputs; WN_VM_REBUILD=1 forces a build.
# Usage: scripts/vm/build.sh     (as root; needs the Debian mirror; installs on the host what is missing of
#        qemu-system-x86 qemu-utils cpio e2fsprogs debootstrap busybox-static kmod)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_dir=${WN_VM_DIR:-/var/lib/wn-agent-vm}
suite=bookworm
mirror=${WN_VM_MIRROR:-http://deb.debian.org/debian}
say() { printf '\033[1m[wn-vm build]\033[0m %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { say "must run as root (debootstrap, chroot)"; exit 1; }

# Host tools, only the missing ones.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v cpio >/dev/null || need+=(cpio)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v debootstrap >/dev/null || need+=(debootstrap)
# The initramfs needs a static busybox (Debian's plain busybox package is dynamically linked).
dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
command -v depmod >/dev/null || need+=(kmod)
if [ ${#need[@]} -gt 0 ]; then
  say "installing on the host: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1
fi

inputs_hash=$(cat "$here/build.sh" "$here/packages.txt" "$here/containers.conf" "$here/initramfs-init.sh" \
  "$here/guest-init.sh" | sha256sum | cut -d' ' -f1)
if [ "${WN_VM_REBUILD:-0}" != 1 ] && [ -f "$vm_dir/stamp" ] && [ "$(cat "$vm_dir/stamp")" = "$inputs_hash" ]; then
  say "up to date in $vm_dir"
  exit 0
fi

mkdir -p "$vm_dir"
work=$(mktemp -d "$vm_dir/build.XXXXXX")
tree=$work/rootfs
cleanup() {
  # Never leave proc mounted in a tree that is about to be deleted.
  umount "$tree/proc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

started=$SECONDS
# Keep docs, man pages and translations out of the tree from the start: smaller image, faster mkfs.
say "debootstrap $suite (minbase)"
debootstrap --variant=minbase "$suite" "$tree" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

cat >"$tree/etc/dpkg/dpkg.cfg.d/01-wn-vm-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
CFG
# Package scripts must not start services in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$tree/usr/sbin/policy-rc.d"
chmod +x "$tree/usr/sbin/policy-rc.d"
mount -t proc proc "$tree/proc"

packages=$(sed 's/#.*//' "$here/packages.txt" | xargs)
say "installing into the tree: $packages"
chroot "$tree" apt-get update -qq
chroot "$tree" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages \
  >"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; exit 1; }

# Debian's kernel, unpacked rather than installed: installing it would pull in initramfs-tools and build an
# initramfs we do not use. The exact package behind the linux-image-amd64 metapackage is the current one.
kpkg=$(chroot "$tree" apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
[ -n "$kpkg" ] || { say "cannot find the kernel package behind linux-image-amd64"; exit 1; }
say "kernel: $kpkg"
(cd "$tree/tmp" && chroot "$tree" sh -c "cd /tmp && apt-get download -qq $kpkg")
ktree=$work/kernel
dpkg-deb -x "$tree"/tmp/"$kpkg"_*.deb "$ktree"
kver=$(ls "$ktree/lib/modules")
# Drop driver families a headless virtio VM never loads: a much smaller root image.
for d in drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet drivers/infiniband drivers/staging \
  drivers/bluetooth drivers/scsi drivers/usb drivers/hid drivers/input drivers/iio drivers/isdn drivers/mtd \
  drivers/platform drivers/video net/bluetooth net/wireless net/mac80211 sound; do
  rm -rf "$ktree/lib/modules/$kver/kernel/$d"
done
depmod -b "$ktree" "$kver"
mkdir -p "$tree/lib/modules"
cp -a "$ktree/lib/modules/$kver" "$tree/lib/modules/"

# VM configuration: podman's settings, the init, and the few files a system without systemd still expects.
install -D -m 644 "$here/containers.conf" "$tree/etc/containers/containers.conf"
install -m 755 "$here/guest-init.sh" "$tree/sbin/wn-vm-init"
echo wn-vm >"$tree/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 wn-vm\n::1 localhost\n' >"$tree/etc/hosts"
: >"$tree/etc/resolv.conf"
: >"$tree/etc/fstab"

chroot "$tree" apt-get clean
rm -rf "$tree"/var/lib/apt/lists/* "$tree"/tmp/* "$tree"/var/cache/debconf/*-old "$tree"/var/log/*.log
rm -f "$tree/usr/sbin/policy-rc.d"
umount "$tree/proc"

# Root disk: the tree plus headroom for what a run writes outside the scratch disk (snapshot overlay anyway).
size_mib=$(( $(du -sm "$tree" | cut -f1) + 512 ))
say "root disk: ${size_mib} MiB ext4"
mkfs.ext4 -q -F -L wn-vm-root -E lazy_itable_init=0,lazy_journal_init=0 -d "$tree" "$work/root.img" "${size_mib}M"

# Initramfs: static busybox + the modules to reach an ext4 virtio disk, listed in dependency order.
say "initramfs"
ird=$work/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$ird/bin/busybox"
install -m 755 "$here/initramfs-init.sh" "$ird/init"
: >"$ird/lib/modules/modules.list"
for m in virtio_pci virtio_blk crc32c_generic ext4; do
  # Prints "insmod /path" for each dependency and the module itself, "builtin x" for built-in ones.
  modprobe -d "$ktree" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r path; do
  rel=${path#"$ktree/lib/modules/$kver/"}
  install -D -m 644 "$path" "$ird/lib/modules/$rel"
  echo "$rel" >>"$ird/lib/modules/modules.list"
done
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"

# Publish atomically-ish: the files first, the stamp last.
cp "$ktree/boot/vmlinuz-$kver" "$vm_dir/vmlinuz"
mv "$work/initrd.img" "$vm_dir/initrd.img"
mv "$work/root.img" "$vm_dir/root.img"
echo "$kver" >"$vm_dir/kernel-version"
echo "$inputs_hash" >"$vm_dir/stamp"
say "built in $((SECONDS - started)) s in $vm_dir (kernel $kver, root disk $(du -h --apparent-size "$vm_dir/root.img" | cut -f1))"
