"""The one settings module of a minimal Django project: no database, no sessions, no templates, four views.

Django is the framework that runs on both interfaces from one project: `wsgi.py` for Gunicorn, `asgi.py` for
Uvicorn or Daphne, as `django-admin startproject` writes them. See the Mix and match chapter.
"""

from __future__ import annotations

# not a secret: this project signs nothing (no sessions, no CSRF forms); Django only refuses to start without one
SECRET_KEY = "django-insecure-wsgi-vs-asgi-demo"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "docs_src.django_project.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
# Django sets the process's TZ to this (America/Chicago unless told), which would shift every log line's clock
TIME_ZONE = "UTC"

WSGI_APPLICATION = "docs_src.django_project.wsgi.application"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # Django's own warnings (a 4xx, a slow sync view under ASGI) go to the server's log
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
