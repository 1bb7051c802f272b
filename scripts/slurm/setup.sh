#!/usr/bin/env bash
# A real one-node Slurm cluster (Debian 12's slurm-wlm 22.05 + munge) on this machine, for `npm run test:cluster`.
# Adapted from the reference setup measured on this kind of machine (root, no systemd, no cgroups).
#   bash scripts/slurm/setup.sh up      install if missing, write config, start munged, slurmctld, slurmd; wait for an idle node
#   bash scripts/slurm/setup.sh down    cancel our jobs, stop the daemons it started (by their PID files), remove the state
#   bash scripts/slurm/setup.sh env     print the export line clients need (SLURM_CONF)
#   bash scripts/slurm/setup.sh packages   print the Debian packages it needs (installed by `up` when missing, as root)
#   SLURM_ACCOUNTING=1 ... up            also a private MariaDB + slurmdbd, so sacct works
# Everything lives under $SLURM_SANDBOX (default ${TMPDIR:-/tmp}/bertft-slurm); nothing is written to /etc. The ports
# ($SLURMCTLD_PORT, $SLURMD_PORT; default 6827, 6828) differ from Slurm's own so that another cluster may run beside it.
# No cgroups, no systemd: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none;
# accounting: none by default (sacct answers "Slurm accounting storage is disabled"; jobcomp/filetxt keeps a
# completion log), or with SLURM_ACCOUNTING=1 a MariaDB on 127.0.0.1:${SLURM_DB_PORT:-3307} and slurmdbd.
# Two partitions: batch (default, preemptible: REQUEUE, GraceTime 20) and urgent (preempts batch), with
# preempt_send_user_signal, cred_expire=10 so that a requeued job restarts within seconds, KillWait=30 (Slurm's
# default: the time a cancelled trainer has for its checkpoint on a loaded machine), and one fake GPU GRES
# (File=/dev/null: --gres=gpu:1 / --gpus=1 can be scheduled; it is NOT a GPU).
set -euo pipefail
BASE=${SLURM_SANDBOX:-${TMPDIR:-/tmp}/bertft-slurm}
CONF=$BASE/etc/slurm.conf
HOST=$(hostname -s)
t0=$(date +%s%N)
say() { local ms=$(( ($(date +%s%N) - t0) / 1000000 )); printf '[scripts/slurm/setup.sh %4d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"; }

# The Debian packages of the cluster (`packages` prints them: .ci/run and `npm test` ensure them through
# scripts/system-packages.sh).
PACKAGES=(slurm-wlm slurmctld slurmd slurm-client munge)

# An `up` that fails half-way takes down what it had started (after showing the daemons' last log lines), so that no
# daemon is left behind even when nobody calls `down`.
up_failed() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  say "up failed (exit $rc): taking down what it started"
  tail -n 5 "$BASE"/log/*.log 2>/dev/null || true
  down
  exit "$rc"
}

up() {
  trap up_failed EXIT
  local pkgs=("${PACKAGES[@]}")
  [ "${SLURM_ACCOUNTING:-0}" = 1 ] && pkgs+=(slurmdbd mariadb-server)
  local missing=(); for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing from apt: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  say "installed: $(slurmctld -V)"
  mkdir -p -m 0755 "$BASE"
  mkdir -p -m 0755 "$BASE"/{etc,state,spool,log,run,munge}
  chmod 0700 "$BASE/munge"
  # munge: a private key, socket and pid file under $BASE; munged runs as root (the sandbox's user)
  [ -s "$BASE/munge/munge.key" ] || { dd if=/dev/urandom of="$BASE/munge/munge.key" bs=1024 count=1 status=none; chmod 0400 "$BASE/munge/munge.key"; }
  local sock=$BASE/munge/munge.socket.2
  munged --force --socket="$sock" --key-file="$BASE/munge/munge.key" --pid-file="$BASE/run/munged.pid" \
    --log-file="$BASE/log/munged.log" --seed-file="$BASE/munge/munged.seed"
  say "munged pid $(cat "$BASE/run/munged.pid")"
  munge -S "$sock" -n | unmunge -S "$sock" >/dev/null && say "munge round trip ok"
  # node line from what slurmd sees (CPUs, sockets, cores, memory), memory rounded down a little
  local node; node=$(slurmd -C | head -1)
  local mem; mem=$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$node"); node=${node/RealMemory=$mem/RealMemory=$((mem*9/10))}
  local acct="AccountingStorageType=accounting_storage/none"
  if [ "${SLURM_ACCOUNTING:-0}" = 1 ]; then
    local dbport=${SLURM_DB_PORT:-3307} dbdport=${SLURMDBD_PORT:-6819}
    mkdir -p "$BASE/mysql"
    mariadb-install-db --user=root --datadir="$BASE/mysql" --auth-root-authentication-method=socket >"$BASE/log/mariadb-install.log" 2>&1
    mariadbd --user=root --datadir="$BASE/mysql" --socket="$BASE/run/mysqld.sock" --pid-file="$BASE/run/mariadbd.pid" \
      --port="$dbport" --bind-address=127.0.0.1 --log-error="$BASE/log/mariadbd.log" --innodb-buffer-pool-size=64M >/dev/null 2>&1 &
    for _ in $(seq 1 120); do mariadb -S "$BASE/run/mysqld.sock" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.25; done
    mariadb -S "$BASE/run/mysqld.sock" -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmci'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
    say "mariadbd pid $(cat "$BASE/run/mariadbd.pid") on 127.0.0.1:$dbport"
    cat >"$BASE/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$sock
DbdHost=$HOST
DbdPort=$dbdport
SlurmUser=root
PidFile=$BASE/run/slurmdbd.pid
LogFile=$BASE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$dbport
StorageUser=slurm
StoragePass=slurmci
StorageLoc=slurm_acct_db
EOF
    chmod 0600 "$BASE/etc/slurmdbd.conf"
    SLURM_CONF=$CONF slurmdbd    # reads slurmdbd.conf from the folder of $SLURM_CONF
    for _ in $(seq 1 120); do [ -s "$BASE/run/slurmdbd.pid" ] && grep -q 'slurmdbd version .* started' "$BASE/log/slurmdbd.log" 2>/dev/null && break; sleep 0.25; done
    say "slurmdbd pid $(cat "$BASE/run/slurmdbd.pid" 2>/dev/null || echo '?') on :$dbdport"
    acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
AccountingStoragePort=$dbdport
AccountingStoragePass=$sock"
  fi
  cat >"$BASE/etc/gres.conf" <<EOF
AutoDetect=off
NodeName=$HOST Name=gpu File=/dev/null
EOF
  cat >"$CONF" <<EOF
ClusterName=bertfttest
SlurmctldHost=$HOST
SlurmctldPort=${SLURMCTLD_PORT:-6827}
SlurmdPort=${SLURMD_PORT:-6828}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock,cred_expire=10
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
$acct
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
JobRequeue=0
KillWait=30
MinJobAge=600
GresTypes=gpu
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
SlurmctldParameters=preempt_send_user_signal
$node Gres=gpu:1 State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=REQUEUE GraceTime=20
PartitionName=urgent Nodes=ALL MaxTime=INFINITE State=UP PriorityTier=10 PreemptMode=OFF
EOF
  export SLURM_CONF=$CONF
  slurmctld -f "$CONF" -i            # -i: ignore state left by an earlier run that was not taken down
  for _ in $(seq 1 40); do [ -s "$BASE/run/slurmctld.pid" ] && break; sleep 0.05; done
  say "slurmctld pid $(cat "$BASE/run/slurmctld.pid" 2>/dev/null || echo '?')"
  slurmd -f "$CONF"
  say "slurmd started"
  local deadline=$(( $(date +%s) + 60 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    kill -0 "$(cat "$BASE/run/slurmctld.pid" 2>/dev/null || echo 0)" 2>/dev/null || break   # slurmctld died: see its log
    if timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then break; fi
    sleep 0.5
  done
  timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qx idle || { say "node not idle"; exit 1; }
  say "cluster up: $(sinfo -h -o '%P %a %D %T %C' | tr '\n' ';')"
  echo "export SLURM_CONF=$CONF"
  trap - EXIT
}

stop_pidfile() {  # stop one daemon we started, by its PID file only
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$f"
}

down() {
  export SLURM_CONF=$CONF
  if [ -f "$CONF" ] && kill -0 "$(cat "$BASE/run/slurmctld.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
    timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 1 60); do [ -z "$(timeout 5 squeue -h -u "$(id -un)" 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  stop_pidfile "$BASE/run/slurmd.pid"
  stop_pidfile "$BASE/run/slurmctld.pid"
  stop_pidfile "$BASE/run/slurmdbd.pid"
  stop_pidfile "$BASE/run/mariadbd.pid"
  stop_pidfile "$BASE/run/munged.pid"
  rm -rf "$BASE"
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  packages) echo "${PACKAGES[*]}" ;;
  *) echo "usage: $0 up|down|env|packages" >&2; exit 2 ;;
esac
