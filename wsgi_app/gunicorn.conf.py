"""Gunicorn's settings for the Flask app: `gunicorn -c wsgi_app/gunicorn.conf.py wsgi_app.main:app`.

Every value can be overridden on the command line (`-w 4`, `-k gthread`, `-b 127.0.0.1:9000`) or in
GUNICORN_CMD_ARGS, as usual for Gunicorn.
"""

import multiprocessing
import os

from common.lock import open_merge_lock
from common.settings import load_settings

# fail in the master, in one line, before any worker boots: a worker that exits at boot is respawned
# by the master again and again, so a bad MERGE_SECONDS, LOCK_URL or LOCK_LEASE_SECONDS must stop things here
_settings = load_settings()
open_merge_lock(_settings.lock_url_for("wsgi"), _settings.lock_lease_seconds).close()

bind = os.environ.get("WSGI_BIND", "127.0.0.1:8001")

# a sync worker serves one request at a time, so the number of workers is the number of requests in
# flight; Gunicorn's guide suggests 2 x cores + 1 for a CPU-light app like this one
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"

# a sync worker stuck longer than this on one request is killed and replaced by the master; it is also
# the only bound on how long a sync worker waits for a slow client to finish sending (docs/reference/limits.md)
timeout = 30
# time a worker gets to finish in-flight requests after SIGTERM
graceful_timeout = 30
# how long an idle connection waits for its next request: every worker class but sync (gthread, gevent, asgi) keeps
# connections open between requests; a sync worker closes each one after its response and ignores this
keepalive = 5
# the largest request head a worker reads (gunicorn's defaults, written out): a longer request line is a
# 414, a longer header line or more header lines a 431; Uvicorn with httptools has no such limit
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# gunicorn's control socket has one default path per user, which every gunicorn on the machine would
# share; the tests and the benchmarks run several side by side, and nothing here uses the socket
control_socket_disable = True

loglevel = _settings.log_level
accesslog = "-"
errorlog = "-"


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Say when a worker has loaded the app: "Booting worker" comes before that, too early to send traffic."""
    worker.log.info("Worker ready to serve (pid: %s)", worker.pid)
