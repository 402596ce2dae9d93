job "htcondor-worker" {
  group "workers" {
    count = 10
    task "worker" {
      driver       = "docker"
      kill_timeout = "420s"   # more than WN_DRAIN_TIMEOUT + WN_STOP_TIMEOUT
      config {
        image        = "registry.example.org/wn-agent:0.1.0"
        # The minimum on a cgroup v1 host instead of privileged = true (the client's docker plugin must allow these
        # capabilities: allow_caps). On cgroup v2 hosts use privileged = true.
        cap_add      = ["sys_admin", "net_admin"]
        security_opt = ["apparmor=unconfined"]
        devices      = [{ host_path = "/dev/fuse" }]
        volumes      = ["/etc/condor/pool-password:/etc/condor/passwords-orig.d/POOL:ro", "/sys/fs/cgroup:/sys/fs/cgroup:rw"]
      }
      env {
        CONDOR_HOST       = "cm.example.org"
        WN_DRAIN_TIMEOUT  = "5m"
        # Nomad does not tell a task its node's host name: pass it for ContainerHost.
        WN_CONTAINER_HOST = "${attr.unique.hostname}"
      }
      resources { cpu = 8000, memory = 16384 }
    }
  }
}
