from __future__ import annotations

from django.urls import path

from khm.fieldwork import views_app

urlpatterns = [
    path("", views_app.shell, name="fieldwork_app"),
]
