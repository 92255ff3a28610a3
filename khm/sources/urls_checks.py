"""URLs of the household composition checks (khm/sources/checks.py), under /imports/."""

from __future__ import annotations

from django.urls import URLPattern, path

from khm.sources import checks_views

urlpatterns: list[URLPattern] = [
    path("checks/", checks_views.checks_queue, name="checks"),
    path("checks/<int:pk>/decide/", checks_views.checks_decide, name="checks_decide"),
]
