"""Entry point: `gunicorn -c wsgi_app/gunicorn.conf.py wsgi_app.main:app`."""

from wsgi_app.app import create_app

app = create_app()
