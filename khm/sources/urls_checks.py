"""URLs of khm/sources/checks (filled by that feature)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
