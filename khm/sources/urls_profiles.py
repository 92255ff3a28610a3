"""URLs of the source-list and mapping-profile pages (khm/sources/profile_views.py).

Included under /imports/ before ``<code>/``: every path starts with the word "profiles"
or "sources-admin", so it can never be taken for a batch code.
"""

from __future__ import annotations

from django.urls import path

from khm.sources import profile_views as views

urlpatterns = [
    path("profiles/", views.profile_index, name="profile_index"),
    path("profiles/new/", views.profile_create, name="profile_create"),
    path("profiles/<int:pk>/", views.profile_edit, name="profile_edit"),
    path("profiles/<int:pk>/fields.json", views.profile_fields_json, name="profile_fields_json"),
    path("sources-admin/new/", views.source_create, name="source_create"),
    path("sources-admin/<int:pk>/", views.source_edit, name="source_edit"),
    path("sources-admin/<int:pk>/next-round/", views.source_copy_next_round, name="source_copy_next_round"),
]
