from __future__ import annotations

from django.urls import path

from khm.assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.area_page, name="area"),
    path("areas/<str:code>/export.<str:fmt>", views.area_export, name="area_export"),
    path("households/<str:code>/new/", views.assess, name="assess"),
    path("instruments/", views.instrument_list, name="instruments"),
    path("instruments/<slug:code>/v<int:version>/", views.instrument_detail, name="instrument_detail"),
    path("instruments/<slug:code>/edit/", views.instrument_edit, name="instrument_edit"),
    path("runs/", views.run_list, name="runs"),
    path("runs/new/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/rerun/", views.run_rerun, name="run_rerun"),
]
