"""URLs of the merge and split pages (khm/sources/merge_views.py), under /imports/."""

from __future__ import annotations

from django.urls import URLPattern, path

from khm.sources import merge_views

urlpatterns: list[URLPattern] = [
    path("merges/", merge_views.merge_list, name="merge_list"),
    path("merges/new/", merge_views.merge_start, name="merge_start"),
    path("merges/compare/", merge_views.merge_compare, name="merge_compare"),
    path("merges/<int:pk>/split/", merge_views.merge_split, name="merge_split"),
    path("merges/review/<int:pk>/split/", merge_views.merge_review_split, name="merge_review_split"),
]
