from __future__ import annotations

from django.urls import include, path

from khm.fieldwork import views

app_name = "fieldwork"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_new, name="campaign_new"),
    path("c/<str:code>/", views.campaign_detail, name="campaign"),
    path("c/<str:code>/assign/", views.campaign_assign, name="campaign_assign"),
    path("c/<str:code>/close/", views.campaign_close, name="campaign_close"),
    path("households/<str:code>/verify/", views.desk_verify, name="desk_verify"),
    path("verifications/<str:ref>/", views.verification_detail, name="verification"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("conflicts/", views.conflict_queue, name="conflicts"),
    path("conflicts/<int:pk>/", views.conflict_decide, name="conflict_decide"),
    path("survey-tools/", include("khm.fieldwork.urls_kobo")),
]
