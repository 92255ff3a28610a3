from __future__ import annotations

from django.urls import path

from khm.forums import views_validation

app_name = "notice"

# The public page of a posted list: its address is the unguessable token printed on the notice.
urlpatterns = [
    path("<str:token>/", views_validation.notice_page, name="page"),
]
