"""The WSGI entry point, `application`, as `django-admin startproject` writes it, with the settings module at its
place in this repository: https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "docs_src.django_project.settings")

application = get_wsgi_application()
