# Shared helpers for the bash scripts under scripts/ (sourced, never executed).
# Progress goes to stderr so that scripts can print `export K='V'` lines on stdout for `eval`.

# Repository root (scripts/lib/.. /..), whatever the caller's working directory.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

# Where `scripts/pg start` / `scripts/kafka/start` remember the default (shared) instance.
RUN_POINTER_DIR="$REPO_ROOT/.run"

log() { printf '%s\n' "[${0##*scripts/}] $*" >&2; }
die() { printf '%s\n' "[${0##*scripts/}] error: $*" >&2; exit 1; }

# Milliseconds since the epoch (no bc on a bare machine).
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Print a TCP port on 127.0.0.1 that nothing listens on. Picked below the kernel's ephemeral
# range so outgoing connections never hold it; the caller retries if it loses a race.
free_port() {
  local low=20000 high=32000 port attempt
  for attempt in $(seq 1 200); do
    port=$(( low + RANDOM % (high - low) ))
    if ! port_in_use "$port" && ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  die "no free TCP port found on 127.0.0.1"
}

# Print `export KEY='value'` (values are paths, ports and fixed names: never a single quote).
emit_export() {
  case "$2" in *"'"*) die "refusing to export a value with a quote: $1" ;; esac
  printf "export %s='%s'\n" "$1" "$2"
}

# Parse the common instance arguments of start/stop/env/status subcommands:
#   --private   start an instance without recording it as the default one
#   --dir DIR   act on the instance in DIR instead of the env variable or the default
# Sets OPT_PRIVATE (0/1) and OPT_DIR.
parse_instance_args() {
  OPT_PRIVATE=0
  OPT_DIR=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --private) OPT_PRIVATE=1 ;;
      --dir) [ $# -ge 2 ] || die "--dir needs a directory"; OPT_DIR="$2"; shift ;;
      --dir=*) OPT_DIR="${1#--dir=}" ;;
      *) die "unknown argument: $1" ;;
    esac
    shift
  done
}

# Resolve which instance directory a stop/env/status acts on: --dir, else the env variable
# named $1, else the default pointer file $RUN_POINTER_DIR/$2. Prints nothing if none.
resolve_instance_dir() {
  local env_name="$1" pointer="$RUN_POINTER_DIR/$2"
  if [ -n "$OPT_DIR" ]; then
    echo "$OPT_DIR"
  elif [ -n "${!env_name:-}" ]; then
    echo "${!env_name}"
  elif [ -f "$pointer" ]; then
    cat "$pointer"
  fi
}

# Record $2 as the default instance of kind $1 (pg or kafka).
set_default_instance() {
  mkdir -p "$RUN_POINTER_DIR"
  printf '%s\n' "$2" >"$RUN_POINTER_DIR/$1"
}

# Forget the default instance of kind $1 if it is $2.
clear_default_instance() {
  local pointer="$RUN_POINTER_DIR/$1"
  if [ -f "$pointer" ] && [ "$(cat "$pointer")" = "$2" ]; then
    rm -f "$pointer"
  fi
  rmdir "$RUN_POINTER_DIR" 2>/dev/null || true
}

# True while process $1 runs. An exited child of ours whose new parent (PID 1) has not reaped
# it yet is a zombie that `kill -0` still reports, so the state in /proc decides.
process_alive() {
  local state
  # /proc/PID/stat is "PID (COMM) STATE ...", and COMM may contain spaces.
  state=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Wait up to $2 seconds for process $1 to exit; true if it did.
wait_for_exit() {
  local pid="$1" deadline=$(( $(now_ms) + $2 * 1000 ))
  while process_alive "$pid"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# Stop the process whose pid is in $1/pid: SIGTERM, then SIGKILL after $2 seconds; $3 names it in
# the message. Nothing when there is no pid file or the process is gone.
stop_pid_file() {
  local dir="$1" grace="$2" what="$3" pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  process_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for_exit "$pid" "$grace"; then
    log "$what $pid ignored SIGTERM for $grace s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 10 || true
  fi
}
