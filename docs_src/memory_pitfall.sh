#!/usr/bin/env bash
# The memory:// pitfall: two Gunicorn workers, 20 concurrent POST /merge, and how many were accepted.
# With memory:// each worker process has its own lock, so each can accept a merge; with a SQLite file
# both workers share one lock and exactly one merge is accepted. Run from anywhere:
#   bash docs_src/memory_pitfall.sh          (PITFALL_BIND=127.0.0.1:9011 to use another port)
set -euo pipefail
cd "$(dirname "$0")/.."

ADDRESS=${PITFALL_BIND:-127.0.0.1:8011}
REQUESTS=20
WORKERS=2
# a token for this run alone: POST /merge needs one (MERGE_TOKENS)
TOKEN=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
# the repository's virtualenv, or the gunicorn on PATH (conda env)
GUNICORN=.venv/bin/gunicorn
[[ -x $GUNICORN ]] || GUNICORN=$(command -v gunicorn) || { echo "gunicorn not found: run make install first"; exit 1; }

scratch=$(mktemp -d)
server_pid=""

stop_server() {
  if [[ -n $server_pid ]]; then
    # the master stops its workers on SIGTERM; wait so the port is free for the next run
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$scratch"' EXIT

start_server() {  # $1: LOCK_URL
  if (exec 3<>"/dev/tcp/${ADDRESS%:*}/${ADDRESS#*:}") 2>/dev/null; then
    echo "port ${ADDRESS#*:} is already in use; stop what listens there, or set PITFALL_BIND=127.0.0.1:<port>"
    exit 1
  fi
  : >"$scratch/access.log"
  # the access log records only the pid of the worker that served each request (%(p)s)
  LOCK_URL=$1 MERGE_SECONDS=5 MERGE_TOKENS=$TOKEN "$GUNICORN" -c wsgi_app/gunicorn.conf.py -w "$WORKERS" -b "$ADDRESS" \
    --access-logfile "$scratch/access.log" --access-logformat '%(p)s' wsgi_app.main:app >"$scratch/server.log" 2>&1 &
  server_pid=$!
  # ready means every worker has served a request: a worker logs "Booting worker" before it has
  # imported the app, and a burst that arrives while one worker is still importing finds only one
  for _ in $(seq 600); do
    curl -s -o /dev/null "http://$ADDRESS/public/test" || true
    if (($(sort -u "$scratch/access.log" | wc -l) >= WORKERS)); then
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.log"; exit 1; }
    sleep 0.05
  done
  echo "gunicorn's $WORKERS workers did not all answer on $ADDRESS within 30 s"; cat "$scratch/server.log"; exit 1
}

fire() {  # $1: label; 20 POST /merge at once, then the count of each status
  local codes accepted
  codes=$(seq "$REQUESTS" | xargs -P "$REQUESTS" -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"branch_name": "feature/race-{}"}' \
    "http://$ADDRESS/merge")
  sort <<<"$codes" | uniq -c | while read -r count code; do printf '  %2d x %s\n' "$count" "$code"; done
  accepted=$(grep -c '^202$' <<<"$codes" || true)
  echo "$1 accepted $accepted of $REQUESTS"
}

echo "gunicorn, $WORKERS sync workers, LOCK_URL=memory://, $REQUESTS concurrent POST /merge:"
start_server "memory://"
fire "memory://"
stop_server

echo "gunicorn, $WORKERS sync workers, LOCK_URL=sqlite:///<temp dir>/lock.sqlite3, $REQUESTS concurrent POST /merge:"
start_server "sqlite:///$scratch/lock.sqlite3"
fire "sqlite"
stop_server
