from __future__ import annotations

from django.urls import include, path

from khm.sources import views

app_name = "sources"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("review/", views.review_list, name="review"),
    path("coverage/", views.coverage, name="coverage"),
    path("review/<int:pk>/decide/", views.review_decide, name="review_decide"),
    # Feature modules; each owns its URL file. Before "<code>/": their first parts are words.
    path("", include("khm.sources.urls_merge")),
    path("", include("khm.sources.urls_checks")),
    path("", include("khm.sources.urls_profiles")),
    path("<str:code>/", views.batch_detail, name="batch_detail"),
    path("<str:code>/commit/", views.batch_commit, name="batch_commit"),
    path("<str:code>/stage/", views.batch_restage, name="batch_restage"),
    path("<str:code>/progress/", views.batch_progress, name="batch_progress"),
    path("<str:code>/errors.xlsx", views.batch_errors_xlsx, name="batch_errors"),
]
