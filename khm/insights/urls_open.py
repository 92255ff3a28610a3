from __future__ import annotations

from django.urls import path

from khm.insights import views_open

app_name = "open"

# Public open data (no login): aggregates of whole areas with small cells suppressed.
urlpatterns = [
    path("", views_open.open_page, name="page"),
    path("<str:code>.csv", views_open.open_csv, name="csv"),
]
