#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine (slurmctld + slurmd + munge from Debian's packages),
# for `nextflow run main.nf -profile test,slurm` and tests/pipeline/test_slurm.py. Idempotent: when the cluster
# already answers, it only checks the node is up. Needs root.
#
#   scripts/slurm-up.sh            install (apt-get, if missing), configure, start, wait until the node is idle
#   scripts/slurm-up.sh --down     stop slurmd and slurmctld (munged keeps running)
#
# The configuration (/etc/slurm/slurm.conf) has one partition 'debug' with this node, its CPUs and memory
# as `slurmd -C` detects them, no accounting database (finished jobs are kept 1 h for `scontrol show job`
# and logged to /var/log/slurm/jobcomp.log). An existing slurm.conf not written by this script is kept.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by radplug scripts/slurm-up.sh"
PARTITION="${RADPLUG_SLURM_PARTITION:-debug}"
say() { printf '[slurm-up %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[slurm-up] ERROR: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (slurmctld, slurmd and munged are system daemons)"

if [ "${1:-}" = --down ]; then
  for d in slurmd slurmctld; do
    pid="$(cat "/run/$d.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; say "stopped $d ($pid)"; fi
  done
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
   || ! command -v sbatch >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null; } \
    || die "apt-get install of SLURM/munge failed"
fi

# --- munge --------------------------------------------------------------------------------------------
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge && chown munge:munge /run/munge
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
  munge -n </dev/null | unmunge >/dev/null || die "munge does not work: see /var/log/munge/munged.log"
fi

# --- configuration --------------------------------------------------------------------------------------
host="$(hostname -s)"
if [ ! -f "$CONF" ] || grep -qF "$MARK" "$CONF"; then
  node="$(slurmd -C | head -1)"                      # NodeName=<host> CPUs=.. ... RealMemory=..
  case "$node" in NodeName=*) ;; *) die "slurmd -C did not describe this node: $node" ;; esac
  mem="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")"
  node="$(sed "s/RealMemory=[0-9]*/RealMemory=$(( mem * 95 / 100 ))/" <<<"$node")"
  new="$(cat <<CONF
$MARK
ClusterName=radplug
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
SlurmdTimeout=300
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
)"
  if [ "$(cat "$CONF" 2>/dev/null)" != "$new" ]; then
    say "writing $CONF"
    printf '%s\n' "$new" > "$CONF"
    "$0" --down >/dev/null 2>&1 || true
  fi
else
  say "keeping $CONF (not written by this script)"
fi
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

# --- daemons --------------------------------------------------------------------------------------------
running() { local pid; pid="$(cat "/run/$1.pid" 2>/dev/null || true)"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
running slurmctld || { say "starting slurmctld"; slurmctld; }
for _ in $(seq 30); do scontrol ping >/dev/null 2>&1 && break; sleep 1; done
scontrol ping >/dev/null 2>&1 || die "slurmctld does not answer: see /var/log/slurm/slurmctld.log"
running slurmd || { say "starting slurmd"; slurmd; }

for _ in $(seq 60); do
  state="$(sinfo -h -n "$host" -o '%t' 2>/dev/null | head -1)"
  case "$state" in
    idle|mix|alloc) say "node $host is $state in partition $PARTITION"; exit 0 ;;
    down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
die "node $host is '${state:-unknown}' after 60 s: see /var/log/slurm/slurmd.log and slurmctld.log"
