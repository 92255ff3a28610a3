from __future__ import annotations

from django.urls import path

from khm.insights import views_maps

urlpatterns = [
    path("map/", views_maps.map_page, name="map"),
    path("map/areas.geojson", views_maps.map_areas, name="map_areas"),
    path("map/households.geojson", views_maps.map_households, name="map_households"),
]
