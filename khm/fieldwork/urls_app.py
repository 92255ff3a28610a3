from __future__ import annotations

from django.urls import path

from khm.fieldwork import views_app

urlpatterns = [
    path("", views_app.shell, name="fieldwork_app"),
    path("sw.js", views_app.service_worker, name="fieldwork_app_sw"),
    path("manifest.webmanifest", views_app.manifest, name="fieldwork_app_manifest"),
]
