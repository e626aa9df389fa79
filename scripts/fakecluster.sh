#!/usr/bin/env bash
# A real SLURM cluster of several "nodes" on this one machine, for Saturn's multi-node tests and demos.
#
#   D=/tmp/cluster scripts/fakecluster.sh up            munged + slurmctld + one slurmd per node, all idle
#   D=/tmp/cluster scripts/fakecluster.sh crash n1      the node dies: its slurmd and every job process on it
#   D=/tmp/cluster scripts/fakecluster.sh start n1      the node comes back
#   D=/tmp/cluster scripts/fakecluster.sh down          everything stops (rm -rf "$D" afterwards)
#   D=/tmp/cluster scripts/fakecluster.sh check         exit 0 when this machine can run it (prints why not)
#
# Debian's slurm-wlm 22.05 runs several slurmd on 127.0.0.1 ("multiple slurmd": NodeName + Port per node). Each
# node declares GPUS (default 4) GPU GRES backed by character devices made with mknod (SLURM refuses file-less or
# regular-file GPUs); the jobs get CUDA_VISIBLE_DEVICES from SLURM as on a real cluster. Each slurmd runs in its own
# PID namespace, so killing that namespace takes the node's job processes with it, like a node that loses power.
# BatchStartTimeout=120: on a loaded 2-core machine slurmctld's launch of a batch job can reach its slurmd tens of
# seconds late; with the default 10 s SLURM then kills the job as "missing from batch node" (NODE_FAIL).
# Every daemon runs as root with all state under $D; clients only need SLURM_CONF=$D/etc/slurm.conf.
# Env: D (required), NODES (default "n1 n2"), GPUS (default 4, or one count per node: "4 2"), CPUS (default 4).
set -euo pipefail
D=${D:?set D to a scratch directory}
NODES=${NODES:-"n1 n2"}
GPUS=${GPUS:-4}
CPUS=${CPUS:-4}
export SLURM_CONF=$D/etc/slurm.conf

gpus_of() {  # the GPU count of the i-th node (0-based)
  local counts=($GPUS)
  if ((${#counts[@]} > $1)); then echo "${counts[$1]}"; else echo "${counts[0]}"; fi
}

check() {
  local missing=()
  for c in slurmctld slurmd srun sbatch scontrol squeue scancel sinfo munged mungekey unshare mknod; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  if ((${#missing[@]})); then
    echo "SLURM cannot run here: missing ${missing[*]} (apt-get install slurmctld slurmd slurm-client munge)"
    return 1
  fi
  if [[ $(id -u) != 0 ]]; then
    echo "SLURM cannot run here: the fake cluster's daemons need root (this is uid $(id -u))"
    return 1
  fi
  if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
    echo "SLURM cannot run here: PID namespaces are not allowed (unshare --pid failed), and each fake node needs one"
    return 1
  fi
  return 0
}

write_conf() {
  mkdir -p "$D"/{etc,munge,log,run,ctld,dev,out}
  chmod 755 "$D"
  chmod 711 "$D/munge"          # munged wants its socket dir traversable by all
  local max=0 i=0
  for n in $NODES; do
    mkdir -p "$D/spool/$n"
    local g; g=$(gpus_of $i); ((g > max)) && max=$g; i=$((i + 1))
  done
  for ((k = 0; k < max; k++)); do [[ -e $D/dev/fakegpu$k ]] || mknod "$D/dev/fakegpu$k" c 1 3; done
  [[ -f $D/munge/munge.key ]] || mungekey --create --keyfile="$D/munge/munge.key"
  chmod 400 "$D/munge/munge.key"
  cat >"$SLURM_CONF" <<EOF
ClusterName=saturnfake
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock,cred_expire=10
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/spool/%n
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd-%n.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
GresTypes=gpu
ReturnToService=2
SlurmdTimeout=5
BatchStartTimeout=120
SlurmctldTimeout=5
MessageTimeout=3
KillWait=2
MinJobAge=600
SlurmdParameters=config_overrides
EOF
  local port=17001 list=""
  i=0
  : >"$D/etc/gres.conf"
  for n in $NODES; do
    local g; g=$(gpus_of $i)
    echo "NodeName=$n NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port Sockets=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=4000 Gres=gpu:$g" >>"$SLURM_CONF"
    echo "NodeName=$n Name=gpu File=$D/dev/fakegpu[0-$((g - 1))]" >>"$D/etc/gres.conf"
    port=$((port + 1)); list="$list,$n"; i=$((i + 1))
  done
  echo "PartitionName=main Nodes=${list#,} Default=YES MaxTime=INFINITE State=UP" >>"$SLURM_CONF"
  : >"$D/etc/plugstack.conf"
}

start_node() {
  # Own PID namespace: SIGKILL of this unshare takes slurmd, its stepds and the jobs' processes with it.
  setsid unshare --pid --fork --mount-proc --kill-child=SIGKILL slurmd -D -N "$1" \
    >>"$D/log/slurmd-$1.console" 2>&1 </dev/null &
  echo $! >"$D/run/node-$1.hostpid"
}

all_idle() {
  local states; states=$(timeout 5 sinfo -h -N -o '%N %T' 2>/dev/null) || return 1
  [[ -n $states ]] && ! grep -qvE ' (idle|mixed|allocated)$' <<<"$states"
}

up() {
  check || return 1
  write_conf
  munged --key-file="$D/munge/munge.key" --socket="$D/munge/munge.sock" --pid-file="$D/munge/munged.pid" \
    --log-file="$D/log/munged.log" --seed-file="$D/munge/munged.seed"
  slurmctld -i
  for _ in $(seq 1 50); do timeout 3 scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
  if ! timeout 3 scontrol ping 2>/dev/null | grep -q UP; then
    echo "slurmctld did not come up; its log says:"; tail -5 "$D/log/slurmctld.log"; return 1
  fi
  for n in $NODES; do start_node "$n"; done
  for _ in $(seq 1 150); do all_idle && return 0; sleep 0.2; done
  echo "the nodes did not become idle:"; timeout 5 sinfo -N -l || true; return 1
}

alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }  # a zombie is dead

stop_pid() {  # SIGNAL PID: signal it and wait until it is gone (SIGKILL after 5 s)
  kill "-$1" "$2" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$2" || return 0; sleep 0.05; done
  kill -9 "$2" 2>/dev/null || true
}

down() {
  for n in $NODES; do
    [[ -f $D/run/node-$n.hostpid ]] && stop_pid KILL "$(cat "$D/run/node-$n.hostpid")"   # unshare ignores TERM
  done
  [[ -f $D/run/slurmctld.pid ]] && stop_pid TERM "$(cat "$D/run/slurmctld.pid")"
  [[ -f $D/munge/munged.pid ]] && stop_pid TERM "$(cat "$D/munge/munged.pid")"
  rm -f "$D"/run/* "$D/munge/munged.pid"
  return 0
}

crash() { kill -9 "$(cat "$D/run/node-$1.hostpid")"; }

case ${1:-} in
  up) up ;;
  down) down ;;
  crash) crash "${2:?node}" ;;
  start) start_node "${2:?node}" ;;
  check) check ;;
  *) echo "usage: D=DIR $0 up|down|crash NODE|start NODE|check" >&2; exit 2 ;;
esac
