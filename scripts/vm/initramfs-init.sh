#!/bin/busybox sh
# PID 1 of the VM's tiny busybox initramfs: load the few modules needed to reach the root disk (Debian builds
# virtio and ext4 as modules), mount it, and hand over to the real init on it (guest-init.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() { echo "initramfs: $*" >/dev/console; sleep 1; echo o >/proc/sysrq-trigger; }

# modules.list is in dependency order (resolved on the build host); some may be built in, so errors are fine.
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done </lib/modules/modules.list

# The virtio disk appears asynchronously after virtio_pci probes.
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1)); [ "$i" -gt 100 ] && fail "no /dev/vda after 10 s"
  sleep 0.1
done
# Writable: run.sh boots the disk with snapshot=on, so writes land in a throwaway overlay, never in the image.
mount -t ext4 /dev/vda /newroot || fail "cannot mount /dev/vda"
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/wn-vm-init
