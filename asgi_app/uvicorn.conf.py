"""Uvicorn's settings for the FastAPI app: the counterpart of wsgi_app/gunicorn.conf.py.

Uvicorn reads no settings file, so the launcher reads this one and turns each name into Uvicorn's option of
the same name (`timeout_keep_alive = 5` is `--timeout-keep-alive 5`). `python -m launcher command asgi` prints
the whole command line; the Procfile holds it for `make serve`. The host and port here are `make serve`'s;
tests and benchmarks put a free loopback port in their place. An option given after these overrides them.
"""

host = "127.0.0.1"
port = 8000

# uvloop, a drop-in event loop on libuv, and httptools, the HTTP parser of Node.js: what `uvicorn[standard]`
# installs and what Uvicorn picks on its own when they are there, written out so that no run depends on luck
loop = "uvloop"
http = "httptools"

# an idle keep-alive connection is closed after this (Uvicorn's default, stated); deploy/nginx.conf keeps
# its connections to the app 4 s, less than this, so that it never reuses one the app is closing
timeout_keep_alive = 5
# after SIGTERM, requests in flight and background merges get this long to finish: the time Gunicorn's
# graceful_timeout gives its workers, so both apps stop the same way
timeout_graceful_shutdown = 30
# past this many open connections (slow clients and idle keep-alives count), answer 503 at once instead of
# running out of file descriptors: below the usual limit of 1024 open files per process
limit_concurrency = 1000
