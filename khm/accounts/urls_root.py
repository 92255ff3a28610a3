from __future__ import annotations

from django.urls import path

from khm.accounts import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("health/", views.health, name="health"),
]
