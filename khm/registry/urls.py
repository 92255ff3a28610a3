from __future__ import annotations

from django.urls import path

from khm.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.household_list, name="household_list"),
    path("new/", views.household_create, name="household_create"),
    path("export.csv", views.household_export, name="household_export"),
    path("<str:code>/", views.household_detail, name="household_detail"),
    path("<str:code>/edit/", views.household_edit, name="household_edit"),
    path("<str:code>/transfer/", views.household_transfer, name="household_transfer"),
    path("<str:code>/people/new/", views.person_create, name="person_create"),
    path("<str:code>/people/<str:ref>/edit/", views.person_edit, name="person_edit"),
    path("<str:code>/people/<str:ref>/leave/", views.person_leave, name="person_leave"),
    path("<str:code>/people/<str:ref>/national-id/", views.person_reveal_id, name="person_reveal_id"),
]
