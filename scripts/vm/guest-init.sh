#!/bin/bash
# PID 1 of the test VM (installed as /sbin/wn-vm-init in the root disk): no systemd, just what podman needs,
# then the scenario from the share, its exit code back to the share, and power off.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 WN_VM=1

say() { echo "[wn-vm-init] $*" >/dev/console; }
# If anything goes wrong before the scenario runs, do not hang until run.sh's timeout.
die() { say "FATAL: $*"; sync; echo o >/proc/sysrq-trigger; sleep 10; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Pure unified hierarchy; nsdelegate as systemd mounts it, so cgroup namespaces of containers are delegation boundaries.
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "cgroup2 mount"
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
ln -sf /proc/self/fd /dev/fd
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/lock

# Modules podman needs: overlay storage, fuse (squashfuse, fuse-overlayfs), and what netavark uses for bridge
# networks with iptables-nft (Debian's default iptables). The kernel would autoload most of them, loading them
# here makes a missing one visible in the log instead of a confusing netavark error.
mods=(virtio_blk ext4 9pnet_virtio 9p overlay fuse loop squashfs tun veth bridge br_netfilter
  nf_tables nft_compat nft_chain_nat nf_nat nf_conntrack nft_ct nft_masq nft_fib_inet
  xt_MASQUERADE xt_nat xt_conntrack xt_comment xt_addrtype xt_mark xt_multiport xt_tcpudp
  ip_tables iptable_nat iptable_filter iptable_mangle ip6_tables ip6table_nat ip6table_filter)
for m in "${mods[@]}"; do modprobe -q "$m" || say "modprobe $m failed"; done
sysctl -qw net.ipv4.ip_forward=1

# The scratch disk (fresh per run) holds podman's storage, so the root image stays small and untouched.
mkdir -p /var/lib/containers
mount -t ext4 /dev/vdb /var/lib/containers || die "cannot mount the scratch disk /dev/vdb"
mkdir -p /var/lib/containers/tmp /var/lib/containers/vartmp
mount --bind /var/lib/containers/vartmp /var/tmp

mkdir -p /share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none share /share || die "cannot mount the 9p share"

# Clock: QEMU's RTC starts at the host's UTC time and the kernel reads it at boot; run.sh also passes the host's
# epoch on the command line, used when the RTC is clearly off (e.g. -rtc base=... given as an extra argument).
epoch=$(sed -n 's/.*wn.epoch=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$epoch" ] && [ $(( $(date +%s) - epoch )) -lt 0 -o $(( $(date +%s) - epoch )) -gt 3600 ]; then
  date -s "@$epoch" >/dev/null
fi

hostname wn-vm
ip link set lo up

# Let podman (cgroupfs manager) and crun/runc use every controller below the root.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control; done

say "scenario starts after $(cut -d' ' -f1 /proc/uptime) s of uptime"
cd /share
rm -f /share/exit-code
bash /share/.vm/scenario.sh </dev/null 2>&1 | tee /share/console.log >/dev/console
rc=${PIPESTATUS[0]}
say "scenario exited $rc after $(cut -d' ' -f1 /proc/uptime) s of uptime"
echo "$rc" >/share/exit-code.tmp && mv /share/exit-code.tmp /share/exit-code

sync
umount /share 2>/dev/null
umount -l /var/tmp /var/lib/containers 2>/dev/null
sync
echo o >/proc/sysrq-trigger
sleep 10
