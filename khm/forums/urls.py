from __future__ import annotations

from django.urls import path

from khm.forums import views, views_agreements, views_validation

app_name = "forums"

urlpatterns = [
    path("", views.forum_list, name="list"),
    path("new/", views.forum_new, name="new"),
    path("graduation/", views_agreements.graduation_page, name="graduation"),
    path("graduation/criteria/", views_agreements.criteria_page, name="criteria"),
    path("postings/", views_validation.posting_list, name="postings"),
    path("postings/<str:ref>/", views_validation.posting_detail, name="posting"),
    path("postings/<str:ref>/notice.pdf", views_validation.posting_notice, name="posting_notice"),
    path("postings/<str:ref>/final/", views_validation.posting_finalise, name="posting_finalise"),
    path("postings/<str:ref>/appeals/", views_validation.appeal_paper, name="appeal_paper"),
    path("appeals/", views_validation.appeal_list, name="appeals"),
    path("agreements/", views_agreements.agreement_list, name="agreements"),
    path("agreements/new/", views_agreements.agreement_new, name="agreement_new"),
    path("<str:ref>/", views.forum_detail, name="detail"),
    path("<str:ref>/edit/", views.forum_edit, name="edit"),
    path("<str:ref>/build/", views.forum_build, name="build"),
    path("<str:ref>/close/", views.forum_close, name="close"),
    path("<str:ref>/items/new/", views.item_new, name="item_new"),
    path("<str:ref>/items/<int:number>/", views.item_detail, name="item"),
    path("<str:ref>/items/<int:number>/drop/", views.item_drop, name="item_drop"),
    path("<str:ref>/minutes.<str:fmt>", views.minutes, name="minutes"),
]
