#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge, run as root): for the sweep runner's
# Slurm test in .ci/run, and for trying `ilgpuseg sweep slurm` by hand.
#   tools/slurm_local.sh start    write /etc/slurm/slurm.conf (this host, its cores and memory), start munged,
#                                 slurmctld and slurmd, wait until sinfo shows the node idle
#   tools/slurm_local.sh stop     stop the three daemons (by their pid files)
#   tools/slurm_local.sh logs     print the end of each daemon's log
set -euo pipefail

conf=/etc/slurm/slurm.conf
logs=/var/log/slurm
marker="# written by ilgpuseg tools/slurm_local.sh"

die() { echo "slurm_local.sh: $*" >&2; exit 1; }

show_logs() {
  for log in /var/log/munge/munged.log "$logs/slurmctld.log" "$logs/slurmd.log"; do
    echo "--- $log"
    tail -n 20 "$log" 2>/dev/null || echo "(no log)"
  done
}

start() {
  [ "$(id -u)" = 0 ] || die "must run as root (it writes $conf and starts daemons)"
  for exe in munged slurmctld slurmd sinfo; do
    command -v "$exe" > /dev/null || die "$exe not found (apt-get install -y slurm-wlm munge)"
  done
  # Never overwrite a configuration someone else wrote.
  if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then die "$conf exists and was not written by this script; not touching it"; fi

  # munged refuses to start unless its directories exist and belong to the munge user.
  mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge "$logs" /var/spool/slurmctld /var/spool/slurmd
  chown munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
  [ -f /etc/munge/munge.key ] || runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
  [ -S /run/munge/munge.socket.2 ] && munge -n > /dev/null 2>&1 || runuser -u munge -- munged

  local node cpus mem
  node=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)   # MB, leaving a tenth to the system
  cat > "$conf.tmp" << EOF
$marker
ClusterName=local
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$conf.tmp" "$conf"

  pgrep -x slurmctld > /dev/null || slurmctld
  pgrep -x slurmd > /dev/null || slurmd
  for _ in $(seq 1 30); do
    if sinfo -h -o '%t' 2> /dev/null | grep -qx 'idle'; then
      sinfo
      return 0
    fi
    sleep 1
  done
  show_logs >&2
  die "the node did not become idle within 30 s (logs above)"
}

stop() {
  for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2> /dev/null || true
    fi
  done
  echo "slurm_local.sh: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  logs) show_logs ;;
  *) die "usage: tools/slurm_local.sh start|stop|logs" ;;
esac
