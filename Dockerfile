# wn-agent worker-node image: HTCondor execute node whose entrypoint is tini, then wn-agent.
# VARIANT selects the CVMFS client:
#   production (default)  the real CVMFS client from CERN's package repository (needs network access to CERN)
#   plain                 no CVMFS client (bind-mounted repositories only)       -> localhost/wn-agent:dev here
#   test                  a squashfuse stand-in for the CVMFS client, for tests  -> localhost/wn-agent:test here
# Build here:      npm run image        (builds the agent, the base image from debootstrap, then plain and test with podman)
# Build elsewhere: npm ci && npm run build && docker build -t wn-agent .
ARG BASE=debian:trixie
ARG VARIANT=production

FROM ${BASE} AS os-plain
# HTCondor and tini come from Debian (trixie ships htcondor 23.9.6). Node.js does not: Debian's is built without V8's
# startup snapshot and without the code cache of Node's own modules, which doubles the CPU of every container start;
# the official build of a pinned version comes with the agent in dist/node (scripts/fetch-node.sh). iptables: the
# agent refuses jobs' accounts the admin port and the metadata address (agent/isolation/job-firewall.ts). bash-builtins:
# mkfifo and rm as bash loadables, so the starter and job wrappers start no process on a job's way in.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      htcondor tini ca-certificates procps attr bash-builtins openssh-server openssh-client iptables \
 && rm -rf /var/lib/apt/lists/*

# The CVMFS client of each VARIANT, in one stage chosen by a shell test, not by a stage name built from VARIANT: the
# legacy builder (Docker 20.10's default) builds every stage before its target, so a stage per variant would fetch
# CERN's repository for every variant. TEST STAND-IN for CVMFS: image/test/mount.cvmfs mounts
# /srv/cvmfs-standin/<repo>.sqfs with squashfuse (real FUSE).
FROM os-plain AS os-variant
ARG VARIANT
COPY image/test/mount.cvmfs /tmp/wn-variant/mount.cvmfs
RUN case "${VARIANT}" in \
      plain) ;; \
      test) apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends squashfuse fuse3 \
        && echo user_allow_other >> /etc/fuse.conf \
        && install -m 0755 /tmp/wn-variant/mount.cvmfs /usr/sbin/mount.cvmfs ;; \
      production) apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
        && curl -fsSLo /tmp/cvmfs-release.deb https://cvmrepo.s3.cern.ch/cvmrepo/apt/cvmfs-release-latest_all.deb \
        && dpkg -i /tmp/cvmfs-release.deb && rm /tmp/cvmfs-release.deb \
        && apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cvmfs ;; \
      *) echo "VARIANT must be production, plain or test, not '${VARIANT}'" >&2; exit 1 ;; \
    esac \
 && rm -rf /tmp/wn-variant /var/lib/apt/lists/*

FROM os-variant AS image
# The agent is bundled (dist/, built by `npm run build`): wn-agent.mjs, the chunks it imports when a command needs
# them, and the Node.js runtime (dist/node/node); no node_modules in the image.
COPY dist/ /opt/wn-agent/
COPY image/bin/ /usr/local/bin/
COPY image/libexec/ /usr/local/libexec/wn-agent/
# node on PATH and at /usr/bin/node, where Debian's package put it (jobs and tools that name it keep working).
# V8's code cache for the bundle, made here once (every chunk compiled, and the CLI run) instead of at every start:
# wn-agent sets NODE_COMPILE_CACHE to this directory. The cache is keyed by V8's flags: the same flags as the wrapper.
RUN chmod 0755 /usr/local/bin/wn-agent /usr/local/libexec/wn-agent/* /opt/wn-agent/node/node \
 && ln -s /opt/wn-agent/node/node /usr/local/bin/node \
 && ln -s /opt/wn-agent/node/node /usr/bin/node \
 && mkdir /opt/wn-agent/compile-cache \
 && NODE_COMPILE_CACHE=/opt/wn-agent/compile-cache node --max-semi-space-size=1 -e 'Promise.all(require("node:fs").readdirSync("/opt/wn-agent/chunks").map((f) => import("/opt/wn-agent/chunks/" + f)))' \
 && /usr/local/bin/wn-agent --version

# condor tools run inside the worker (podman exec ... condor_who) read the agent's rendered configuration.
ENV CONDOR_CONFIG=/var/lib/wn-agent/condor/condor_config

# Image metadata, written last so that a new revision only rebuilds this layer.
ARG IMAGE_NAME=wn-agent
ARG IMAGE_VERSION=0.0.0
ARG IMAGE_REVISION=unknown
ARG BUILD_DATE=unknown
ARG VARIANT
LABEL org.opencontainers.image.title="${IMAGE_NAME}" \
      org.opencontainers.image.version="${IMAGE_VERSION}" \
      org.opencontainers.image.revision="${IMAGE_REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.description="HTCondor worker node driven by wn-agent (${VARIANT})"
RUN mkdir -p /etc/wn-agent \
 && printf '{"name":"%s","version":"%s","revision":"%s","buildDate":"%s","variant":"%s"}\n' \
      "${IMAGE_NAME}" "${IMAGE_VERSION}" "${IMAGE_REVISION}" "${BUILD_DATE}" "${VARIANT}" > /etc/wn-agent/image.json

# tini is PID 1: it forwards signals to the agent and reaps orphans, which Node does not do.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/wn-agent"]
CMD ["run"]
