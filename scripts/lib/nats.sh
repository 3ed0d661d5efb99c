# Shared pieces of scripts/nats/{start,stop} (sourced, never executed).
# An instance lives in one temp dir: nats.conf, jetstream/ (the store), server.log, pid, port, version.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NATS_DIR_PREFIX=/tmp/psql-streamer-nats.

# Resolve the instance dir for stop (--dir, $PSQL_STREAMER_NATS_DIR, default).
nats_instance_dir() { resolve_instance_dir PSQL_STREAMER_NATS_DIR nats; }

# True when the server of instance $1 runs and accepts TCP connections.
nats_is_running() {
  local dir="$1"
  [ -f "$dir/pid" ] && [ -f "$dir/port" ] && process_alive "$(cat "$dir/pid")" && port_in_use "$(cat "$dir/port")"
}

nats_print_env() {
  local dir="$1"
  emit_export NATS_URL "nats://127.0.0.1:$(cat "$dir/port")"
  emit_export PSQL_STREAMER_NATS_DIR "$dir"
  emit_export PSQL_STREAMER_NATS_VERSION "$(cat "$dir/version")"
  emit_export PSQL_STREAMER_NATS_LOG "$dir/server.log"
}

# Stop the server of instance $1 (SIGTERM, then SIGKILL after 15 s); keeps the directory when $2 = keep.
nats_stop_dir() {
  local dir="$1" keep="${2:-}"
  [ -d "$dir" ] || return 0
  case "$dir" in "$NATS_DIR_PREFIX"*) ;; *) die "not a scripts/nats directory: $dir" ;; esac
  stop_pid_file "$dir" 15 nats-server
  rm -f "$dir/pid"
  [ "$keep" = keep ] || rm -rf "$dir"
}
