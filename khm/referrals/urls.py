from __future__ import annotations

from django.urls import include, path

app_name = "referrals"

# Referral pages (views.py), assistance and tracking (urls_assistance.py).
urlpatterns = [
    path("", include("khm.referrals.urls_referrals")),
    path("", include("khm.referrals.urls_assistance")),
]
