from __future__ import annotations

from django.urls import path

from khm.insights import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.<str:fmt>", views.dashboard_export, name="dashboard_export"),
]
