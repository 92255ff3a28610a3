"""Livelihood pages, mounted at /livelihoods/ (namespace "livelihoods")."""

from __future__ import annotations

from django.urls import path

from khm.livelihoods import views, views_household, views_impact

app_name = "livelihoods"

urlpatterns = [
    path("", views.enterprise_list, name="enterprises"),
    path("new/", views.enterprise_new, name="enterprise_new"),
    path("impact/", views_impact.impact_page, name="impact"),
    path("impact/export.<str:fmt>", views_impact.impact_export, name="impact_export"),
    path("income/import/", views_household.income_import, name="income_import"),
    path("households/<str:code>/", views_household.household_page, name="household"),
    path("households/<str:code>/link/", views_household.link_new, name="link_new"),
    path("households/<str:code>/income/", views_household.income_new, name="income_new"),
    path("links/<str:ref>/end/", views_household.link_end, name="link_end"),
    path("e/<str:code>/", views.enterprise_detail, name="enterprise"),
    path("e/<str:code>/edit/", views.enterprise_edit, name="enterprise_edit"),
    path("e/<str:code>/needs/new/", views.need_new, name="need_new"),
    path("e/<str:code>/needs/<int:pk>/close/", views.need_close, name="need_close"),
    path("e/<str:code>/needs/<int:pk>/matches/", views.need_matches, name="need_matches"),
    path("e/<str:code>/support/new/", views.support_new, name="support_new"),
]
