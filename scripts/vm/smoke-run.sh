#!/bin/bash
# Builds the test VM if needed and runs the smoke scenario (smoke.sh) in it; results in SHARE_DIR/smoke.json.
# Usage: scripts/vm/smoke-run.sh [SHARE_DIR]   (default /var/lib/wn-agent-vm/smoke-share; keeps the image tar there)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
share=${1:-${WN_VM_DIR:-/var/lib/wn-agent-vm}/smoke-share}
"$here/build.sh"
mkdir -p "$share"
WN_VM_IMAGES=${WN_VM_IMAGES:-localhost/wn-agent:test} exec "$here/run.sh" "$here/smoke.sh" "$share"
