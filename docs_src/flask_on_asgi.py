"""Our Flask app on an ASGI server: `uvicorn docs_src.flask_on_asgi:app`.

a2wsgi's WSGIMiddleware is an ASGI app that runs a WSGI app in a pool of threads: the event loop reads the
request and writes the response, a thread runs the Flask view from start to end, blocking calls and all. So the
pool's size is the number of requests in flight, exactly as with Gunicorn's gthread worker: the event loop in
front buys nothing for a blocking view. `uvicorn --interface wsgi` wraps the app in this same middleware when
a2wsgi is installed (with 10 threads); this module sets the pool to gthread's 32 threads, so that the two compare.
WebSockets do not cross: a2wsgi closes every WebSocket at once, since WSGI cannot express one.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware

from wsgi_app.main import app as flask_app

# --8<-- [start:adapter]
THREADS = 32  # the requests in flight: as many as gunicorn-gthread's --threads 32
app = WSGIMiddleware(flask_app, workers=THREADS)
# --8<-- [end:adapter]
