# Shared by scripts/soak-crash and scripts/soak-snapshot: `run_soak DRIVER.ts ARGS...` runs the
# TypeScript driver against a throwaway PostgreSQL of its own (or the one named by
# PSQL_STREAMER_PG_URL and friends), stops it at the end (also on Ctrl-C), and exits with the
# driver's code. Source it after lib/common.sh.

run_soak() {
  local driver="$1"
  shift
  export PATH="$REPO_ROOT/node_modules/.bin:$PATH"
  case " $* " in *" --help "*|*" -h "*) exec bun "$driver" --help ;; esac

  soak_pg_dir=""
  trap '[ -z "$soak_pg_dir" ] || "$REPO_ROOT/scripts/pg" stop --dir "$soak_pg_dir" || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -z "${PSQL_STREAMER_PG_URL:-}" ]; then
    local env_file
    env_file=$(mktemp)
    "$REPO_ROOT/scripts/pg" start --private >"$env_file"
    set -a; source "$env_file"; set +a
    rm -f "$env_file"
    soak_pg_dir="$PSQL_STREAMER_PG_DIR"
  fi
  # In the foreground would delay the traps until it ends; wait on it instead.
  (trap - INT QUIT; exec bun "$driver" "$@") &
  local soak_pid=$!
  trap 'kill -TERM "'"$soak_pid"'" 2>/dev/null || true; exit 130' INT
  trap 'kill -TERM "'"$soak_pid"'" 2>/dev/null || true; exit 143' TERM
  local rc=0
  wait "$soak_pid" || rc=$?
  exit "$rc"
}
