# Shared by the scripts: where things live and how podman is called. Source it; do not run it.
WN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export WN_ROOT
# runc and rlimits that work on these hosts (see scripts/containers.conf).
export CONTAINERS_CONF=${CONTAINERS_CONF:-$WN_ROOT/scripts/containers.conf}
export WN_IMAGE_TAG=${WN_IMAGE_TAG:-localhost/wn-agent:dev}
# The same image plus a squashfuse stand-in for the CVMFS client (Dockerfile target test).
export WN_TEST_IMAGE_TAG=${WN_TEST_IMAGE_TAG:-localhost/wn-agent:test}
say() { printf '\033[1m[wn-agent %s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
