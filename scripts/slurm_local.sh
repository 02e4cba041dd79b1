#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the tests marked `slurm`.
#
#   eval "$(scripts/slurm_local.sh start)"   # prints the exports the tests read
#   scripts/slurm_local.sh stop
#
# munged, slurmctld and slurmd run as root from a state folder of their own
# (LLMD4REC_SLURM_DIR, default /tmp/llmd4rec-slurm); nothing under /etc/slurm is touched:
# the commands find this cluster through SLURM_CONF. No accounting, no cgroups
# (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none), so it starts in seconds.
# Needs the Debian packages slurm-wlm and munge (installed here when missing).
set -euo pipefail

DIR=${LLMD4REC_SLURM_DIR:-/tmp/llmd4rec-slurm}
CONF=$DIR/slurm.conf
HOST=$(hostname -s)
CPUS=${LLMD4REC_SLURM_CPUS:-4} # more slots than cores is fine: the tests' workers mostly wait

install() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
}

write_conf() {
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF" <<EOF
ClusterName=llmd4rec
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${LLMD4REC_SLURMCTLD_PORT:-16817}
SlurmdPort=${LLMD4REC_SLURMD_PORT:-16818}
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=600
SchedulerParameters=defer_batch=0
NodeName=$HOST CPUs=$CPUS RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {
  if [ -S /run/munge/munge.socket.2 ] && munge -n </dev/null | unmunge >/dev/null 2>&1; then
    return
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  [ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged
}

wait_idle() {
  for _ in $(seq 1 100); do
    if SLURM_CONF=$CONF sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      return
    fi
    sleep 0.2
  done
  echo "slurm_local.sh: the node did not come up; see $DIR/log" >&2
  tail -n 20 "$DIR"/log/*.log >&2 || true
  exit 1
}

start() {
  install
  write_conf
  start_munge
  SLURM_CONF=$CONF slurmctld -i
  SLURM_CONF=$CONF slurmd
  wait_idle
  echo "export SLURM_CONF=$CONF"
  echo "export LLMD4REC_TEST_SLURM=$CONF"
}

stop_pid() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  SLURM_CONF=$CONF scancel --user=root 2>/dev/null || true
  stop_pid "$DIR/slurmd.pid"
  stop_pid "$DIR/slurmctld.pid"
  rm -rf "$DIR"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
