#!/usr/bin/env bash
# npm run demo: builds what is missing, starts a local pool and one worker container, submits a job as an
# unprivileged user, shows the slot in condor_status and the finished job in condor_history, then cleans up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$WN_ROOT"
pool=demo
worker=wn-demo-worker-1
cm=wn-$pool-cm
cleanup() { say "cleaning up"; bash scripts/pool.sh down "$pool" >/dev/null 2>&1 || true; }
trap cleanup EXIT

bash scripts/setup-host.sh
[ -d node_modules ] || { say "npm ci"; npm ci --no-audit --no-fund --loglevel=error; }
bash scripts/image.sh
bash scripts/pool.sh down "$pool" >/dev/null 2>&1 || true
bash scripts/pool.sh up "$pool"

say "starting worker $worker: only CONDOR_HOST and the pool password are given"
bash scripts/pool.sh worker "$pool" --name "$worker" --hostname "$worker" >/dev/null

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  say "timed out after ${seconds}s waiting for $what"; podman logs --tail 30 "$worker" >&2; return 1
}
wait_for 60 "the worker's slot" sh -c "podman exec $cm condor_status -af Name | grep -q '@$worker'"
say "condor_status on the central manager:"
podman exec "$cm" condor_status

say "submitting a job as user 'submitter' (file transfer on)"
podman exec -i -u submitter -w /home/submitter "$cm" sh -c 'cat > hello.sh && chmod 755 hello.sh' <<'JOB'
#!/bin/sh
echo "hello from $(hostname), running as $(id -un)"
JOB
cluster=$(podman exec -i -u submitter -w /home/submitter "$cm" condor_submit -terse - <<'SUB' | cut -d. -f1
executable = hello.sh
output = hello.out
error = hello.err
log = hello.log
should_transfer_files = YES
when_to_transfer_output = ON_EXIT
request_cpus = 1
request_memory = 64
queue
SUB
)
wait_for 120 "job $cluster in condor_history" sh -c "podman exec $cm condor_history -af ClusterId -constraint 'ClusterId == $cluster' | grep -q ."
say "condor_history on the central manager:"
podman exec "$cm" condor_history -constraint "ClusterId == $cluster" -af:h ClusterId ProcId Owner JobStatus ExitCode LastRemoteHost
say "the job's output:"
podman exec "$cm" cat /home/submitter/hello.out
say "the agent's own events (JSON on the worker's stdout):"
podman logs "$worker" | grep '"event"' | cut -c1-200
say "stopping the worker with SIGTERM"
podman stop -t 60 "$worker" >/dev/null
say "worker exit code: $(podman inspect -f '{{.State.ExitCode}}' "$worker"); its last line:"
podman logs --tail 1 "$worker"
say "demo complete"
