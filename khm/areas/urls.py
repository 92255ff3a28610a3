from __future__ import annotations

from django.urls import path

from khm.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.area_search, name="search"),
    path("<str:code>/boundaries/<int:level>.geojson", views.boundaries, name="boundaries"),
]
