# shellcheck shell=bash disable=SC2034 # (variables used by the scripts that source this)
# Shared by lab/up and lab/down (sourced, not run). Everything here logs to stderr.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE="$LAB_DIR/state"
VENV="$STATE/venv"
# The lab's ports sit below Linux's ephemeral range (32768-60999 by default): a port in it can
# be the local end of any outgoing connection at the moment a server binds it, and the bind
# then fails with "Address already in use" although nothing listens there.
MOTO_PORT=${QPCONSOLE_LAB_MOTO_PORT:-27101}
MINISTACK_PORT=${QPCONSOLE_LAB_MINISTACK_PORT:-27102}
# The fault proxy in front of the emulators (lab/faultproxy.py): forwards, or fails on request.
FAULT_PORT=${QPCONSOLE_LAB_FAULT_PORT:-27103}
# The ssh part: three sshds, a Dropbear bastion and an HTTP server (see lab/README.md, "The
# bastion").
BASTION_PORT=${QPCONSOLE_LAB_BASTION_PORT:-27110}
INSTANCE_SSH_PORT=${QPCONSOLE_LAB_INSTANCE_SSH_PORT:-27111}
# A second bastion that is not OpenSSH, and an sshd that takes passwords through PAM.
DROPBEAR_PORT=${QPCONSOLE_LAB_DROPBEAR_PORT:-27112}
PAM_SSH_PORT=${QPCONSOLE_LAB_PAM_SSH_PORT:-27113}
# The bastion sshd again, through a relay of the fault proxy that can drop its traffic
# (lab/fault bastion drop|pass).
BASTION_RELAY_PORT=${QPCONSOLE_LAB_BASTION_RELAY_PORT:-27114}
# The lab's own login on those two: Dropbear reads a user's ~/.ssh/authorized_keys and PAM a
# user's password, and the lab never touches those of the user who runs it. Its home is
# lab/state/home; its password is made at random by lab/up (lab/state/ssh/login-password).
LAB_LOGIN=qpconsole-lab
LAB_HOME="$STATE/home"
HTTP_PORT=${QPCONSOLE_LAB_HTTP_PORT:-27120}
# Reserved for the benchmarks' echo and sink servers: the bastion forwards to them.
BENCH_PORTS=(27121 27122)
# A port the bastion refuses to forward to (the config's "denied" tunnel).
DENIED_PORT=27129
# The databases: a MariaDB primary and a replica of it (see lab/README.md, "The databases").
DB_PRIMARY_PORT=${QPCONSOLE_LAB_DB_PRIMARY_PORT:-27130}
DB_REPLICA_PORT=${QPCONSOLE_LAB_DB_REPLICA_PORT:-27131}
# The cluster's writer and reader endpoints as lab/sqlfailover serves them: two forwarders it
# repoints when the emulator's cluster fails over (see lab/README.md, "A failover at the SQL layer").
DB_WRITER_RELAY_PORT=${QPCONSOLE_LAB_DB_WRITER_RELAY_PORT:-27132}
DB_READER_RELAY_PORT=${QPCONSOLE_LAB_DB_READER_RELAY_PORT:-27133}
# One health server per Phoenix instance in the seed, on BASE, BASE+1, ... (at most
# PHOENIX_HTTP_MAX of them: the ASG's max).
PHOENIX_HTTP_BASE_PORT=${QPCONSOLE_LAB_PHOENIX_HTTP_BASE_PORT:-27140}
PHOENIX_HTTP_MAX=4
SSH_DIR="$STATE/ssh"
WWW="$STATE/www"
AGENT_SOCK="$SSH_DIR/agent.sock"
SSHD=/usr/sbin/sshd
SSHDS=(bastion instance pam)
DROPBEAR=/usr/sbin/dropbear
MARIADBD=/usr/sbin/mariadbd
DBS=(primary replica)
DB_DIR="$STATE/mariadb"
# The password of the application user qpconsole (made once by lab/up, mode 600), and the
# replication user's (the replica's login to the primary).
DB_PASSWORD_FILE="$STATE/db-password"
# The AWS secret key the lab's environment gives (the emulators take any): new on every start.
AWS_SECRET_FILE="$STATE/aws-secret-key"
DB_REPL_PASSWORD_FILE="$DB_DIR/repl-password"
# The operator's (qp_operator: CONNECTION ADMIN, for the DB load view's kill query/session).
DB_OPERATOR_PASSWORD_FILE="$STATE/db-operator-password"
# The failover probe's (qp_probe: its own schema qpconsole_probe, for the heartbeat table).
DB_PROBE_PASSWORD_FILE="$STATE/db-probe-password"
# What a workstation's shell may hold that would take boto3, the AWS CLI or the console away
# from the lab's keys and endpoints: a profile (which AWS_CONFIG_FILE=/dev/null cannot have, so
# boto3 refuses to start), a session token or role beside the lab's keys, other retry
# settings (the fault tests count attempts), and a Python of another install for the venv.
# Gone from every lab script, and from the shell that evals lab/up's lines.
FOREIGN_ENV=(AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN
  AWS_ROLE_SESSION_NAME AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_MAX_ATTEMPTS
  AWS_RETRY_MODE AWS_USE_FIPS_ENDPOINT AWS_USE_DUALSTACK_ENDPOINT AWS_CA_BUNDLE PYTHONHOME
  PYTHONPATH PYTHONWARNINGS)
# And any service's own endpoint the shell names: one the lab does not set would send that
# service's calls off the machine.
for v in $(compgen -e); do
  [[ $v == AWS_ENDPOINT_URL_* ]] && FOREIGN_ENV+=("$v")
done
unset "${FOREIGN_ENV[@]}"
# The environment the lab's daemons get (nothing else of the caller's).
DAEMON_ENV=(env -i "PATH=/usr/sbin:/usr/bin:/sbin:/bin" "HOME=${HOME:-/}" "LANG=C.UTF-8")
# The lab's account: moto's default, and what ministack is told to use.
LAB_ACCOUNT=123456789012
EMULATORS=(moto ministack)

log() { printf 'lab: %s\n' "$*" >&2; }
die() {
  printf 'lab: error: %s\n' "$*" >&2
  exit 1
}

emu_port() {
  case $1 in
    moto) echo "$MOTO_PORT" ;;
    ministack) echo "$MINISTACK_PORT" ;;
  esac
}

emu_port_var() {
  case $1 in
    moto) echo QPCONSOLE_LAB_MOTO_PORT ;;
    ministack) echo QPCONSOLE_LAB_MINISTACK_PORT ;;
  esac
}

# What the emulator's command line contains: the lab's script that runs it, so a pid reused
# by an unrelated process is never taken for ours.
emu_marker() {
  case $1 in
    moto) echo "$LAB_DIR/moto_server.py" ;;
    ministack) echo "$LAB_DIR/ministack_server.py" ;;
  esac
}

# The URL that answers 200 when the emulator is up.
emu_health_url() {
  case $1 in
    moto) echo "http://127.0.0.1:$(emu_port "$1")/moto-api/" ;;
    ministack) echo "http://127.0.0.1:$(emu_port "$1")/_ministack/health" ;;
  esac
}

# Prints the pid of our running emulator NAME (from its pid file, checked against the
# process's command line); fails when there is none.
emu_pid() { pid_from_file "$STATE/$1.pid" "$(emu_marker "$1") "; }

# Prints the pid in pid FILE when that process's command line (NULs read as spaces) contains
# MARKER; fails otherwise (no file, no such process, or a pid reused by something else).
pid_from_file() {
  local f=$1 marker=$2 pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
  echo "$pid"
}

# sshd NAME (bastion or instance): its config (written by lab/up), pid file, log and the
# master's command line. The master retitles itself "sshd: <command line> [listener] ...",
# which still contains it; its per-connection children ("sshd: USER [priv]") do not.
sshd_conf() { echo "$SSH_DIR/sshd-$1.conf"; }
sshd_pidfile() { echo "$STATE/sshd-$1.pid"; }
sshd_log() { echo "$STATE/sshd-$1.log"; }
sshd_marker() { echo "$SSHD -D -e -f $(sshd_conf "$1") -E $(sshd_log "$1")"; }
sshd_pid() { pid_from_file "$(sshd_pidfile "$1")" "$(sshd_marker "$1")"; }
# The port in NAME's config.
sshd_port() { awk '$1 == "Port" { print $2; exit }' "$(sshd_conf "$1")" 2>/dev/null; }

dropbear_pidfile() { echo "$STATE/dropbear.pid"; }
dropbear_log() { echo "$STATE/dropbear.log"; }
dropbear_marker() { echo "$DROPBEAR -F -E -w -s -p 127.0.0.1:$DROPBEAR_PORT"; }
dropbear_pid() { pid_from_file "$(dropbear_pidfile)" "$(dropbear_marker)"; }

http_marker() { echo "$VENV/bin/python -u -m http.server --bind 127.0.0.1 --directory $WWW "; }
http_pid() { pid_from_file "$STATE/http.pid" "$(http_marker)"; }

agent_marker() { echo "ssh-agent -D -a $AGENT_SOCK "; }
agent_pid() { pid_from_file "$STATE/ssh-agent.pid" "$(agent_marker)"; }

# The fault proxy: any of the lab's (whatever port and upstream it was given), so lab/down
# stops it; lab/up compares the rest of its command line to decide whether to reuse it.
fault_marker() { echo "$VENV/bin/python -u $LAB_DIR/faultproxy.py "; }
fault_pid() { pid_from_file "$STATE/faultproxy.pid" "$(fault_marker)"; }
# The Phoenix instances' log files (written by lab/seed.py, appended to by lab/logs).
LOGS_DIR="$STATE/logs"

# MariaDB server NAME (primary or replica): its config (written by lab/up), data directory,
# unix socket, pid file (written by lab/mariadb, then by the server itself, which removes it
# when it shuts down), log and command line.
db_conf() { echo "$DB_DIR/$1.cnf"; }
db_datadir() { echo "$DB_DIR/$1"; }
db_tmpdir() { echo "$DB_DIR/tmp-$1"; }
db_sock() { echo "$DB_DIR/$1.sock"; }
db_pidfile() { echo "$STATE/mariadb-$1.pid"; }
db_log() { echo "$STATE/mariadb-$1.log"; }
db_marker() { echo "$MARIADBD --defaults-file=$(db_conf "$1") "; }
db_pid() { pid_from_file "$(db_pidfile "$1")" "$(db_marker "$1")"; }
# The port in NAME's config (nothing when there is none).
db_conf_port() { awk -F= '$1 == "port" { print $2; exit }' "$(db_conf "$1")" 2>/dev/null || true; }
# The port NAME is meant to have (from the environment).
db_port() {
  case $1 in
    primary) echo "$DB_PRIMARY_PORT" ;;
    replica) echo "$DB_REPLICA_PORT" ;;
  esac
}
# The mariadb client (and mariadb-admin) as the lab's own account over NAME's unix socket:
# mariadb-install-db made it (and root@localhost) IDENTIFIED VIA unix_socket, so whoever runs
# the lab gets in without a password, and nothing else does. --no-defaults: no ~/.my.cnf.
db_client() {
  local name=$1
  shift
  mariadb --no-defaults --protocol=socket --socket="$(db_sock "$name")" --user="$(id -un)" \
    --connect-timeout=5 "$@"
}
db_admin() {
  local name=$1
  shift
  mariadb-admin --no-defaults --protocol=socket --socket="$(db_sock "$name")" \
    --user="$(id -un)" --connect-timeout=5 "$@"
}

# Phoenix health server INDEX: its config (written by lab/up: the port and the instance id),
# pid file, log and command line.
phoenix_conf() { echo "$STATE/phoenix-http-$1.conf"; }
phoenix_pidfile() { echo "$STATE/phoenix-http-$1.pid"; }
phoenix_log() { echo "$STATE/phoenix-http-$1.log"; }
phoenix_marker() { echo "$VENV/bin/python -u $LAB_DIR/phoenix_http.py --index $1 "; }
phoenix_pid() { pid_from_file "$(phoenix_pidfile "$1")" "$(phoenix_marker "$1")"; }
# A key's value in INDEX's config (port or instance_id; nothing when there is none).
phoenix_conf_get() { awk -F= -v k="$2" '$1 == k { print $2; exit }' "$(phoenix_conf "$1")" 2>/dev/null || true; }

# new_secret FILE: a random alphanumeric secret in FILE (mode 600, no newline), unless FILE
# already holds one.
new_secret() {
  local f=$1
  [[ -s $f ]] && return 0
  (
    umask 077
    head -c 30 /dev/urandom | base64 -w0 | tr -d '/+=' >"$f.tmp"
  )
  mv "$f.tmp" "$f"
}

# The direct children of PID, one a line.
children_of() {
  local pid=$1 f
  if [[ -r /proc/$pid/task/$pid/children ]]; then
    for f in /proc/"$pid"/task/*/children; do
      tr ' ' '\n' <"$f" 2>/dev/null
    done | grep -E '^[0-9]+$' || true
  else
    ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ' || true
  fi
}

# All descendants of PID (children first, then theirs), one a line.
descendants_of() {
  local c
  for c in $(children_of "$1"); do
    echo "$c"
    descendants_of "$c"
  done
}

# Stops process PID and every descendant of it: freezes the tree top-down (SIGSTOP, again
# until no new descendant shows up, so nothing forks away unseen), sends TERM to all, lets
# them run on (CONT), and KILLs what is left after WAIT seconds (default 2).
stop_tree() {
  local pid=$1 wait=${2:-2} frozen=() new p deadline
  kill -STOP "$pid" 2>/dev/null || return 0
  frozen=("$pid")
  while :; do
    new=()
    for p in $(descendants_of "$pid"); do
      [[ " ${frozen[*]} " == *" $p "* ]] || new+=("$p")
    done
    ((${#new[@]})) || break
    kill -STOP "${new[@]}" 2>/dev/null || true
    frozen+=("${new[@]}")
  done
  kill -TERM "${frozen[@]}" 2>/dev/null || true
  kill -CONT "${frozen[@]}" 2>/dev/null || true
  deadline=$((SECONDS + wait))
  for p in "${frozen[@]}"; do
    while alive "$p"; do
      if ((SECONDS >= deadline)); then
        kill -KILL "$p" 2>/dev/null || true
        break
      fi
      sleep 0.02
    done
  done
}

# The state letter of process PID (R, S, T, Z...), from after the ")" that ends its name.
proc_state() {
  local stat
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 0
  stat=${stat##*) }
  echo "${stat%% *}"
}

# Whether process PID exists and has not exited (a zombie has).
alive() { [[ -d /proc/$1 && $(proc_state "$1") != Z ]]; }

# Waits (up to SECS, default 5) until nothing listens on PORT.
wait_port_free() {
  local port=$1 deadline=$((SECONDS + ${2:-5}))
  while port_in_use "$port"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.02
  done
}

# Prints the listening addresses of PORT; fails unless it is exactly 127.0.0.1:PORT.
loopback_only() {
  local port=$1 listen
  command -v ss >/dev/null 2>&1 || return 0
  listen=$(ss -Htln "sport = :$port" | awk '{print $4}' | sort -u | tr '\n' ' ')
  [[ $listen == "127.0.0.1:$port " ]] || {
    echo "$listen"
    return 1
  }
}

# The port a running emulator was started on (recorded beside its pid file).
emu_running_port() {
  local f="$STATE/$1.port"
  [[ -f $f ]] && cat "$f"
}

http_ok() {
  local url=$1
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --noproxy '*' -o /dev/null --max-time 2 "$url" 2>/dev/null
  else
    "$VENV/bin/python" - "$url" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
EOF
  fi
}

# Whether anything listens on TCP PORT (any address).
port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Htln "sport = :$port" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# Who listens on PORT, for error messages.
port_owner() {
  command -v ss >/dev/null 2>&1 && ss -Htlnp "sport = :$1" 2>/dev/null | sed 's/^/    /' >&2
}
