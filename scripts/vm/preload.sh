#!/bin/bash
# Scenario that run.sh boots once per set of images: loads the image tars listed in /share/.vm/preload.list into the
# scratch disk's podman storage, which run.sh then keeps as the read-only base of later runs' scratch disks.
set -euo pipefail
while read -r tar; do
  echo "preload: podman load -i $tar"
  time podman load -q -i "$tar"
done </share/.vm/preload.list
podman images
