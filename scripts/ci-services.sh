#!/usr/bin/env bash
# Services for the container and SLURM tests (tests/pipeline/test_containers.py, tests/pipeline/test_slurm.py), called by CI
# before pytest. Idempotent and quick when everything is in place:
#   1. apt-get install podman, debootstrap, runc, slurmctld, slurmd, slurm-client, munge (when missing);
#   2. a podman drop-in (/etc/containers/containers.conf.d/50-radplug.conf): runc, cgroupfs, no default
#      ulimits: what works in a VM without systemd, where podman's defaults fail;
#   3. scripts/slurm-up.sh: a single-node SLURM cluster on this machine;
#   4. scripts/build-image.sh: the CPU image localhost/radplug:<version> (skipped when up to date).
# Every step runs even when an earlier one failed; the exit status is 1 when any failed (the log says which).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '[ci-services %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
failed=()
t0=$(date +%s)
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    say "not root and no passwordless sudo: cannot install or start services; container/slurm tests will skip"
    exit 0
  fi
fi

step() {   # step NAME COMMAND...: run, time, record failures
  local name="$1" s; shift; s=$(date +%s)
  if "$@"; then say "$name: ok ($(( $(date +%s) - s )) s)"; else say "$name: FAILED"; failed+=("$name"); fi
}

install_packages() {
  local pkgs=(podman debootstrap runc slurmctld slurmd slurm-client munge) missing=()
  for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq "${missing[@]}" >/tmp/radplug-ci-apt.log 2>&1 \
    || { $SUDO apt-get update -qq >>/tmp/radplug-ci-apt.log 2>&1 \
         && $SUDO apt-get install -y -qq "${missing[@]}" >>/tmp/radplug-ci-apt.log 2>&1; } \
    || { tail -20 /tmp/radplug-ci-apt.log >&2; return 1; }
}

podman_conf() {
  local f=/etc/containers/containers.conf.d/50-radplug.conf
  local want='# Installed by radplug scripts/ci-services.sh: podman settings that work inside this VM
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
  if [ "$(cat "$f" 2>/dev/null)" != "$want" ]; then
    $SUDO mkdir -p "$(dirname "$f")" && printf '%s\n' "$want" | $SUDO tee "$f" >/dev/null
  fi
  $SUDO podman run --rm --network none localhost/debian-base:bookworm true 2>/dev/null \
    || $SUDO podman info >/dev/null     # before the first build there is no image to run: podman must answer
}

step "packages" install_packages
step "podman configuration" podman_conf
step "slurm" $SUDO "$REPO/scripts/slurm-up.sh"
step "image" $SUDO "$REPO/scripts/build-image.sh"

say "done in $(( $(date +%s) - t0 )) s${failed[*]:+; FAILED: ${failed[*]}}"
[ ${#failed[@]} = 0 ]
