# Shared pieces of scripts/kafka/{start,stop,env,status} (sourced, never executed).
# An instance lives in one temp dir: server.properties, log4j2.properties, data/, logs/,
# broker.log (WARN and up, plus the start/stop lines), stdout.log, pid, port, version.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KAFKA_DIR_PREFIX=/tmp/psql-streamer-kafka.

# Resolve the instance dir for stop/env/status (--dir, $PSQL_STREAMER_KAFKA_DIR, default).
kafka_instance_dir() { resolve_instance_dir PSQL_STREAMER_KAFKA_DIR kafka; }

# True when the broker of instance $1 runs and accepts TCP connections.
kafka_is_running() {
  local dir="$1"
  [ -f "$dir/pid" ] && [ -f "$dir/port" ] && process_alive "$(cat "$dir/pid")" && port_in_use "$(cat "$dir/port")"
}

kafka_print_env() {
  local dir="$1"
  emit_export KAFKA_BROKERS "127.0.0.1:$(cat "$dir/port")"
  emit_export PSQL_STREAMER_KAFKA_DIR "$dir"
  emit_export PSQL_STREAMER_KAFKA_VERSION "$(cat "$dir/version")"
  emit_export PSQL_STREAMER_KAFKA_LOG "$dir/broker.log"
}

# Stop the broker of instance $1 (SIGTERM, then SIGKILL after 30 s) and delete the directory.
kafka_stop_dir() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  case "$dir" in "$KAFKA_DIR_PREFIX"*) ;; *) die "not a scripts/kafka directory: $dir" ;; esac
  stop_pid_file "$dir" 30 broker
  rm -rf "$dir"
}
