"""The routes of the Django project: the same paths as our two apps, for the ones it has."""

from __future__ import annotations

from django.urls import path

from docs_src.django_project import views

urlpatterns = [
    path("public/test", views.hello),
    path("lab/io", views.sync_io),
    path("lab/async-io", views.async_io),
    path("lab/blocking", views.blocking),
]
