#!/usr/bin/env bash
# Runs Herald's whole test suite and ends with one line: tests: N passed, M failed[, K skipped].
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
results="$root/TestResults"
rm -rf "$results"
mkdir -p "$results"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# A throwaway PostgreSQL cluster from the machine's own binaries, on a free loopback port,
# removed on exit whatever happens. Tests find it in HERALD_TEST_POSTGRES.
pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}
pgdir=""
stop_postgres() {
  if [ -n "$pgdir" ] && [ -d "$pgdir" ]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
  fi
}
as_pg() {
  # initdb refuses to run as root; run the cluster as the postgres user then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
trap stop_postgres EXIT
if [ -x "$pgbin/initdb" ]; then
  pgdir=$(mktemp -d /tmp/herald-pg.XXXXXX)
  chmod 755 "$pgdir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$pgdir"
  pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if as_pg "$pgbin/initdb" -D "$pgdir/data" -U herald --auth=trust -E UTF8 >"$pgdir/initdb.log" 2>&1 \
     && as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdir -c fsync=off -c max_connections=300" start >/dev/null; then
    export HERALD_TEST_POSTGRES="Host=127.0.0.1;Port=$pgport;Username=herald;Database=postgres"
    echo "PostgreSQL for the tests on 127.0.0.1:$pgport"
  else
    echo "could not start PostgreSQL:"; cat "$pgdir"/*.log
  fi
fi

status=0
if ! dotnet build Herald.slnx -nologo -v quiet -clp:NoSummary; then
  echo "build failed"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
# One project at a time, each with its own results file, so no two runs write the same name.
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" --no-build -nologo --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" "$@" || status=$?
done

passed=0; failed=0; skipped=0
shopt -s nullglob
trx=("$results"/*.trx)
for file in "${trx[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$file" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(get passed); f=$(get failed); t=$(get total); e=$(get executed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ ${#trx[@]} -eq 0 ] || { [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
  # The runner failed without reporting a failed test (a crash, a missing project): count it.
  failed=$((failed + 1))
fi
line="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
