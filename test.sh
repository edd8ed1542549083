#!/usr/bin/env bash
# Runs Herald's whole test suite and ends with one line: tests: N passed, M failed[, K skipped].
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
results="$root/TestResults"
rm -rf "$results"
mkdir -p "$results"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# A throwaway PostgreSQL cluster, removed on exit whatever happens; tests find it in
# HERALD_TEST_POSTGRES and fail (never skip) without it.
. "$root/scripts/postgres.sh"
trap stop_postgres EXIT
start_postgres || true

# The portal tests drive the machine's own headless Chromium, and the sample receivers run on
# Python and Node.js; install what is missing.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium chromium-driver"
command -v python3 >/dev/null || missing="$missing python3"
command -v node >/dev/null || missing="$missing nodejs"
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # sudo drops the environment, so the frontend is set on each command.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
    || echo "could not install$missing: the tests that need them will fail"
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
