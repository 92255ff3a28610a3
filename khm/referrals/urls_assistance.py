"""Assistance, bulk entry, tracking and the household timeline (mounted at /referrals/)."""

from __future__ import annotations

from django.urls import path

from khm.referrals import views_assistance as views

urlpatterns = [
    path("assistance/", views.assistance_list, name="assistance_list"),
    path("assistance/new/", views.assistance_new, name="assistance_new"),
    path("assistance/bulk/", views.assistance_bulk, name="assistance_bulk"),
    path("tracking/", views.tracking_page, name="tracking"),
    path("tracking/export.<str:fmt>", views.tracking_export, name="tracking_export"),
    path("timeline/<str:code>/", views.timeline_page, name="timeline"),
]
