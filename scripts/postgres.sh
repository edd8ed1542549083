# Sourced by test.sh and the bench: a throwaway PostgreSQL cluster from the machine's own binaries,
# on a free loopback port, removed by stop_postgres (callers trap it on EXIT).
# Sets HERALD_TEST_POSTGRES to an admin connection string.
pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}
pgdir=""

as_pg() {
  # initdb refuses to run as root; run the cluster as the postgres user then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_postgres() {
  if [ -n "$pgdir" ] && [ -d "$pgdir" ]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
  fi
}

start_postgres() {
  if [ ! -x "$pgbin/initdb" ]; then
    echo "PostgreSQL binaries not found in $pgbin (set PG_BIN)"
    return 1
  fi
  pgdir=$(mktemp -d /tmp/herald-pg.XXXXXX)
  chmod 755 "$pgdir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if as_pg "$pgbin/initdb" -D "$pgdir/data" -U herald --auth=trust -E UTF8 >"$pgdir/initdb.log" 2>&1 \
     && as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off -c max_connections=300" start >/dev/null; then
    export HERALD_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=herald;Database=postgres"
    echo "PostgreSQL on 127.0.0.1:$port"
  else
    echo "could not start PostgreSQL:"
    cat "$pgdir"/*.log
    return 1
  fi
}
