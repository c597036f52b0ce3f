"""The ASGI entry point, `application`, as `django-admin startproject` writes it, with the settings module at its
place in this repository: https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "docs_src.django_project.settings")

application = get_asgi_application()
