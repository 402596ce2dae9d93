#!/usr/bin/env bash
# Runs INSIDE the cgroup v2 test VM (scripts/vm/run.sh), as root, on a systemd-less host with podman's cgroupfs
# manager: the same local pool as the other integration tests, then for each OCI runtime (crun, runc) one worker
# that runs an isolation job (with a second pool user's job probing its scratch, and condor_ssh_to_job into it), a
# memory hog beside a neighbour, and a drain with a job running; then one worker with --job-pid-namespaces false,
# where HTCondor's own cgroup code holds a job over its memory, and a job that leaves a daemon behind.
# It only collects facts (cgroupfs files, /proc, condor_history, the agent's own log lines) into $RESULTS/<runtime>/;
# test/isolation/cgroup-v2.int.test.ts on the host judges them. Every wait is on an observed fact with a deadline.
set -uo pipefail
SHARE=${SHARE:-/share}
RESULTS=$SHARE/results
REPO=$SHARE/repo
RUNTIMES=$(cat "$SHARE/runtimes" 2>/dev/null || echo crun runc) # written by the host side
export CONTAINERS_CONF=$REPO/scripts/vm/containers.conf
export WN_IMAGE_TAG=localhost/wn-agent:test
POOL=v2
CM=wn-$POOL-cm
mkdir -p "$RESULTS"
log() { printf '[scenario %s] %s\n' "$(date +%T)" "$*"; }
started=$(date +%s)
phase() { echo "$1 $(( $(date +%s) - started ))" >>"$RESULTS/phases.txt"; log "$1"; }

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: polls COMMAND (its stdout non-empty = seen) every second.
wait_for() {
  local what=$1 timeout=$2 out
  shift 2
  local deadline=$(( $(date +%s) + timeout ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    out=$("$@" 2>/dev/null) && [ -n "$out" ] && { printf '%s\n' "$out"; return 0; }
    sleep 1
  done
  log "not seen within ${timeout}s: $what"
  return 1
}

# The worker's log line for an event (and optional extra fixed string, e.g. a job ID), once it is there.
event_line() { podman logs "$1" 2>/dev/null | grep -F "\"event\":\"$2\"" | grep -F -- "${3:-}" | head -1; }

submit() { # submit LINES REQUIREMENTS [USER]: as a pool's unprivileged submitter, on this worker; prints the cluster
  local user=${3:-submitter}
  podman exec -i -u "$user" -w "/home/$user" "$CM" condor_submit -terse - <<<"$1
should_transfer_files = YES
log = v2.log
$2
queue" | sed -n 's/^\([0-9]*\)\..*/\1/p'
}
put_file() { # put_file NAME MODE CONTENT [USER]: into a submitter's home on the central manager
  local user=${4:-submitter}
  podman exec -i -u "$user" -w "/home/$user" "$CM" sh -c "cat > $1 && chmod $2 $1" <<<"$3"
}
# What an operator would look at when a step did not happen: the worker's log, the queue, the startd's view.
diagnose() { # diagnose RUNTIME_DIR WORKER WHY
  log "FAILED: $3; diagnostics in $1"
  echo "$3" >>"$1/failed"
  podman logs "$2" >"$1/worker.log" 2>&1
  podman exec "$CM" condor_q -allusers -better-analyze >"$1/analyze.txt" 2>&1
  podman exec "$2" sh -c 'tail -n 60 /var/lib/wn-agent/condor/log/StartLog /var/lib/wn-agent/condor/log/StarterLog*' >"$1/condor-logs.txt" 2>&1
}
history_of() { podman exec "$CM" condor_history -constraint "ClusterId == $1" -af:t "${@:2}"; }

phase boot-done
uname -r >"$RESULTS/kernel"
cat /sys/fs/cgroup/cgroup.controllers >"$RESULTS/controllers"
stat -fc %T /sys/fs/cgroup >"$RESULTS/cgroupfs-type"

# run.sh (WN_VM_IMAGES) preloads the image into the guest's podman storage.
podman image exists "$WN_IMAGE_TAG" || { log "$WN_IMAGE_TAG is not in the guest's storage (run.sh WN_VM_IMAGES)"; exit 1; }

# The pool: scripts/pool.sh unchanged (its central manager runs under the default runtime, crun).
bash "$REPO/scripts/pool.sh" up "$POOL" >"$RESULTS/pool-up.log" 2>&1 || { cat "$RESULTS/pool-up.log"; exit 1; }
podman exec "$CM" useradd -m submitter2 # a second pool user, whose job probes another's scratch
# What the second user's job tries against the scratch directory it is given: each line ok or denied.
put_file probe.sh 0755 '#!/bin/sh
t=$1
echo "user=$(id -un)"
ls "$t" >/dev/null 2>&1 && echo "list: ok" || echo "list: denied"
cat "$t/.chirp.config" >/dev/null 2>&1 && echo "chirp: ok" || echo "chirp: denied"
cat "$t/.job.ad" >/dev/null 2>&1 && echo "job-ad: ok" || echo "job-ad: denied"
touch "$t/planted" 2>/dev/null && echo "write: ok" || echo "write: denied"
mkfifo "$t/.wn-agent-reply" 2>/dev/null && echo "fifo: ok" || echo "fifo: denied"
cat /var/lib/wn-agent/condor/log/StartLog >/dev/null 2>&1 && echo "daemon-log: ok" || echo "daemon-log: denied"' submitter2
phase pool-up

for runtime in $RUNTIMES; do
  out=$RESULTS/$runtime
  mkdir -p "$out"
  w=wn-$POOL-w-$runtime
  log "worker $w under $runtime"
  # A site's worker on a v2 host: privileged, a memory limit the agent must find in memory.max, podman's default
  # cgroup namespace on v2 (private).
  podman --runtime "$runtime" run -d --name "$w" --hostname "$w" --privileged --network "wn-$POOL" --label "wn-pool=$POOL" \
    --memory 1536m -e CONDOR_HOST="$CM" \
    -v "/var/tmp/wn-pool-$POOL/POOL:/etc/condor/passwords-orig.d/POOL:ro" \
    -v "$REPO/scripts/pool/worker-test.conf:/etc/wn-agent/condor.d/50-test.conf:ro" \
    "$WN_IMAGE_TAG" run --job-pids-max 200 --drain-timeout 10m >"$out/container-id" 2>"$out/run.err" || { cat "$out/run.err"; continue; }
  podman inspect -f '{{.OCIRuntime}}' "$w" >"$out/inspect" 2>&1
  if ! wait_for "$w startd-advertised" 600 event_line "$w" startd-advertised >/dev/null; then
    podman logs "$w" >"$out/worker.log" 2>&1
    continue
  fi
  phase "$runtime-advertised"
  pid=$(podman inspect -f '{{.State.Pid}}' "$w")
  cat "/proc/$pid/cgroup" >"$out/tini-cgroup"
  # The container's cgroup namespace against the VM's: private is podman's default on v2.
  echo "$(readlink "/proc/$pid/ns/cgroup") $(readlink /proc/self/ns/cgroup)" >"$out/cgroupns"
  leaf=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  root=/sys/fs/cgroup${leaf%/agent}
  echo "$root" >"$out/container-cgroup"
  for f in cgroup.subtree_control cgroup.controllers memory.max; do echo "$f=$(cat "$root/$f" 2>&1)"; done >"$out/container-files"
  for f in cgroup.subtree_control cgroup.controllers; do echo "$f=$(cat "$root/jobs/$f" 2>&1)"; done >"$out/jobs-files"
  cat "$root/agent/cgroup.procs" >"$out/agent-procs" 2>&1
  machine="$w-$(head -c 12 "$out/container-id")" # the agent's machine name: <task>-<container ID, 12>
  echo "$machine" >"$out/machine"
  req="requirements = Machine == \"$machine\""

  # 1. Isolation: a job that reports its PID, cgroup and /tmp while the scenario reads its cgroup from the host.
  put_file iso.sh 0755 $'#!/bin/sh\necho "pid=$$"\necho "user=$(id -un)"\necho "cgroup=$(cat /proc/self/cgroup)"\necho "tmp=$(ls -A /tmp | wc -l)"\nsleep 100\necho done'
  iso=$(submit "executable = iso.sh
output = iso.\$(Cluster).out
error = iso.\$(Cluster).err
request_memory = 100
request_cpus = 1" "$req")
  echo "$iso" >"$out/iso-cluster"
  if ! started_line=$(wait_for "job-started $iso.0" 300 event_line "$w" job-started "\"jobId\":\"$iso.0\""); then
    diagnose "$out" "$w" "the isolation job did not start"
    podman rm -f "$w" >/dev/null 2>&1
    continue
  else
    echo "$started_line" >"$out/iso-started.json"
    cg=$(sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p' <<<"$started_line")
    dir=$root/$cg
    {
      echo "cgroup=$cg"
      for f in memory.max cpu.weight pids.max cgroup.procs; do echo "$f=$(tr '\n' ' ' <"$dir/$f")"; done
      for p in $(cat "$dir/cgroup.procs"); do
        echo "proc $p comm=$(cat /proc/$p/comm 2>/dev/null) cgroup=$(sed -n 's/^0:://p' /proc/$p/cgroup 2>/dev/null) pidns=$(readlink /proc/$p/ns/pid) mntns=$(readlink /proc/$p/ns/mnt)"
      done
      echo "tini pidns=$(readlink /proc/$pid/ns/pid) mntns=$(readlink /proc/$pid/ns/mnt) cgroupns=$(readlink /proc/$pid/ns/cgroup)"
      echo "host cgroupns=$(readlink /proc/self/ns/cgroup)"
    } >"$out/iso-cgroup.txt"
    podman exec "$CM" condor_status -constraint "Machine == \"$machine\" && DynamicSlot =?= true" -af:t Name Memory Cpus HasSshd >"$out/iso-slots.txt" 2>&1
    # While it runs: a second pool user's job probes its scratch, and its owner logs in with condor_ssh_to_job.
    starter=$(wait_for "attributes of $iso.0" 120 event_line "$w" job-attributes-recorded "\"jobId\":\"$iso.0\"" |
      sed -n 's/.*"starterPid":\([0-9]*\).*/\1/p')
    probe=$(submit "executable = probe.sh
arguments = /var/lib/wn-agent/condor/execute/dir_$starter
output = probe.\$(Cluster).out
request_memory = 64" "$req" submitter2)
    echo "$probe" >"$out/probe-cluster"
    for _ in $(seq 1 20); do
      podman exec -u submitter -w /home/submitter "$CM" timeout 120 condor_ssh_to_job "$iso.0" \
        'pwd; id -un; cat /proc/self/cgroup' >"$out/ssh.out" 2>"$out/ssh.err" && grep -q /dir_ "$out/ssh.out" && break
      sleep 3
    done
    wait_for "probe $probe in history" 300 history_of "$probe" JobStatus ExitCode >"$out/probe-history.txt" \
      || diagnose "$out" "$w" "not seen: probe $probe in history"
    podman exec -u submitter2 -w /home/submitter2 "$CM" cat "probe.$probe.out" >"$out/probe.out" 2>&1
  fi
  wait_for "iso $iso in history" 300 history_of "$iso" JobStatus ExitCode >"$out/iso-history.txt" \
    || { diagnose "$out" "$w" "not seen: iso $iso in history"; podman rm -f "$w" >/dev/null 2>&1; continue; }
  podman exec -u submitter -w /home/submitter "$CM" cat "iso.$iso.out" >"$out/iso.out" 2>&1
  phase "$runtime-iso"

  # 2. A job touching 512 MiB in a 128 MiB slot, beside a neighbour that must finish.
  hog=$(submit "executable = /usr/bin/node
transfer_executable = False
arguments = \"-e 'const a=[]; for (let i = 0; i < 32; i++) a.push(Buffer.alloc(1 << 24, 1)); console.log(''survived'')'\"
output = hog.\$(Cluster).out
error = hog.\$(Cluster).err
request_memory = 64" "$req")
  nb=$(submit "executable = /bin/sh
transfer_executable = False
arguments = \"-c 'sleep 20; echo neighbour ok'\"
output = nb.\$(Cluster).out
request_memory = 64" "$req")
  echo "$hog $nb" >"$out/hog-clusters"
  wait_for "hog $hog in history" 300 history_of "$hog" JobStatus ExitBySignal ExitSignal ExitCode >"$out/hog-history.txt" \
    || { diagnose "$out" "$w" "not seen: hog $hog in history"; podman rm -f "$w" >/dev/null 2>&1; continue; }
  wait_for "neighbour $nb in history" 300 history_of "$nb" JobStatus ExitCode >"$out/nb-history.txt" \
    || { diagnose "$out" "$w" "not seen: neighbour $nb in history"; podman rm -f "$w" >/dev/null 2>&1; continue; }
  podman exec -u submitter -w /home/submitter "$CM" cat "hog.$hog.out" "nb.$nb.out" >"$out/hog-nb.out" 2>&1
  phase "$runtime-oom"

  # 3. Traceability: what the job ads say ran them.
  podman exec "$CM" condor_history -constraint "ClusterId >= $iso" -af:t ClusterId ChirpContainerId ChirpContainerTaskId LastRemoteHost >"$out/trace.txt" 2>&1

  # 4. A drain (SIGTERM, as a scheduler stops a task) while a job runs: the job finishes, the agent exits 0.
  drainjob=$(submit "executable = /bin/sh
transfer_executable = False
arguments = \"-c 'sleep 30; echo drained ok'\"
output = drain.\$(Cluster).out
request_memory = 64" "$req")
  echo "$drainjob" >"$out/drain-cluster"
  wait_for "drain job started" 300 event_line "$w" job-started "\"jobId\":\"$drainjob.0\"" >/dev/null \
    || { diagnose "$out" "$w" "not seen: drain job started"; podman rm -f "$w" >/dev/null 2>&1; continue; }
  podman stop -t 900 "$w" >/dev/null 2>&1
  podman inspect -f '{{.State.ExitCode}}' "$w" >"$out/exit-code"
  wait_for "drain job $drainjob in history" 300 history_of "$drainjob" JobStatus ExitCode NumJobStarts >"$out/drain-history.txt" \
    || { diagnose "$out" "$w" "not seen: drain job $drainjob in history"; podman rm -f "$w" >/dev/null 2>&1; continue; }
  phase "$runtime-drain"

  podman logs "$w" >"$out/worker.log" 2>&1
  podman rm -f "$w" >/dev/null 2>&1
  # Nothing of the worker's cgroups left behind.
  [ -d "$root" ] && echo present >"$out/cgroup-after" || echo gone >"$out/cgroup-after"

  # 5. A site that turned PID namespaces off: HTCondor's own cgroup code then nests the job's cgroup in the slot's
  # and holds a job over its memory itself; a job that leaves a daemon behind leaves nothing running.
  w2=wn-$POOL-w2-$runtime
  podman --runtime "$runtime" run -d --name "$w2" --hostname "$w2" --privileged --network "wn-$POOL" --label "wn-pool=$POOL" \
    --memory 1536m -e CONDOR_HOST="$CM" \
    -v "/var/tmp/wn-pool-$POOL/POOL:/etc/condor/passwords-orig.d/POOL:ro" \
    -v "$REPO/scripts/pool/worker-test.conf:/etc/wn-agent/condor.d/50-test.conf:ro" \
    "$WN_IMAGE_TAG" run --job-pid-namespaces false >"$out/w2-container-id" 2>"$out/w2-run.err" || { cat "$out/w2-run.err"; continue; }
  if ! wait_for "$w2 startd-advertised" 600 event_line "$w2" startd-advertised >/dev/null; then
    podman logs "$w2" >"$out/w2-worker.log" 2>&1
    podman rm -f "$w2" >/dev/null 2>&1
    continue
  fi
  req2="requirements = Machine == \"$w2-$(head -c 12 "$out/w2-container-id")\""
  put_file hog2.sh 0755 $'#!/bin/sh\nexec node -e \'const a = []; for (let i = 0; i < 50; i++) a.push(Buffer.alloc(1 << 24, 1)); console.log("survived")\''
  put_file daemon.sh 0755 $'#!/bin/sh\n( setsid env -i /bin/sleep 601 </dev/null >/dev/null 2>&1 & )\necho "daemon left"'
  hog2=$(submit "executable = hog2.sh
output = hog2.\$(Cluster).out
request_memory = 200" "$req2")
  daemon=$(submit "executable = daemon.sh
output = daemon.\$(Cluster).out
request_memory = 64" "$req2")
  echo "$hog2 $daemon" >"$out/w2-clusters"
  held() { podman exec "$CM" condor_q -allusers -constraint "ClusterId == $1 && JobStatus == 5" -af:t HoldReasonCode HoldReasonSubCode HoldReason MemoryUsage; }
  wait_for "hog2 $hog2 held" 300 held "$hog2" >"$out/hog2-held.txt" || diagnose "$out" "$w2" "not seen: hog2 $hog2 held"
  podman exec "$CM" condor_rm "$hog2" >/dev/null 2>&1
  wait_for "daemon job $daemon in history" 300 history_of "$daemon" JobStatus ExitCode >"$out/daemon-history.txt" \
    || diagnose "$out" "$w2" "not seen: daemon job $daemon in history"
  wait_for "daemon job finished" 120 event_line "$w2" job-finished "\"jobId\":\"$daemon.0\"" >/dev/null
  podman exec "$w2" sh -c 'pgrep -af "^/bin/sleep 601"; find /sys/fs/cgroup/jobs -mindepth 1 -type d' >"$out/w2-left.txt" 2>&1
  podman logs "$w2" >"$out/w2-worker.log" 2>&1
  podman rm -f "$w2" >/dev/null 2>&1
  phase "$runtime-no-pid-ns"
done

bash "$REPO/scripts/pool.sh" down "$POOL" >/dev/null 2>&1
phase done
exit 0
