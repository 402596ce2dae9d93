#!/usr/bin/env bash
# Installs the system packages the image build, the local pool and the tests need, if any is missing:
#   podman + runc (container runtime), buildah (podman build), debootstrap (base image), squashfuse + squashfs-tools
#   (the CVMFS stand-in), fuse3, netavark + aardvark-dns (container networks with name resolution: containers find the
#   central manager by name; scripts/containers.conf selects netavark), iptables (netavark programs the network's NAT
#   and firewall rules with it; apt-get --no-install-recommends does not bring it, and without it the first
#   `podman network create` fails with "netavark: No such file or directory"), catatonit (a pod's pause process, for
#   `podman kube play`), prometheus (its promtool lints every metrics page and tests the alerting rules in
#   deploy/prometheus/; the server itself is not started as a service), docker.io (Docker Engine 20.10 and its own
#   docker CLI at /usr/bin/docker: the Dockerfile is built with it; scripts/docker-engine.sh starts a private dockerd
#   that leaves iptables alone, never the system service).
# Needs root and apt-get (Debian 12). scripts/check-network.sh then proves that a container network really works.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PATH=$PATH:/usr/sbin:/sbin
need=()
for pair in podman:podman runc:runc debootstrap:debootstrap squashfuse:squashfuse mksquashfs:squashfs-tools \
  buildah:buildah fusermount3:fuse3 iptables:iptables promtool:prometheus; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
# Not on PATH: podman runs them from /usr/lib/podman.
for pair in netavark:netavark aardvark-dns:aardvark-dns; do
  [ -x "/usr/lib/podman/${pair%%:*}" ] || need+=("${pair#*:}")
done
# Docker Engine: dockerd is in /usr/sbin (not on every PATH), and a docker CLI elsewhere on PATH is not Debian's.
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || need+=(docker.io)
# The pause process of a pod (podman kube play runs the Kubernetes example as a pod): without it "finding pause binary".
[ -x /usr/libexec/podman/catatonit ] || need+=(catatonit)
if [ ${#need[@]} -eq 0 ]; then
  say "system packages present (podman, runc, buildah, debootstrap, squashfuse, netavark, aardvark-dns, iptables, catatonit, prometheus, docker.io)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  say "missing ${need[*]} and not root: install them with apt-get as root" && exit 1
fi
say "installing ${need[*]} with apt-get (one time, about a minute)"
export DEBIAN_FRONTEND=noninteractive
# Debian's docker.io and prometheus start their services when installed: dockerd would set the FORWARD chain's policy
# to DROP and cut podman's networks off, prometheus would take port 9090. Nothing here needs either service (the
# tests start a private dockerd with iptables off, and Prometheus servers of their own), so service starts are
# denied for this install (policy-rc.d, honoured by invoke-rc.d and deb-systemd-invoke) unless the host already
# decides that.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# wn-agent setup-host.sh: no service starts during its apt-get install\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" uidmap >/dev/null
say "installed ${need[*]}"
