from __future__ import annotations

from django.urls import path, register_converter

from khm.referrals import views


class ReferralRef:
    """A referral code (R + upper-case letters and digits): it never swallows the lower-case
    pages that share /referrals/ (inbox/, agencies/, the assistance and tracking pages)."""

    regex = "[A-Z][0-9A-Z]{3,15}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferralRef, "referral_ref")

# Included by urls.py (namespace "referrals") at /referrals/.
urlpatterns = [
    path("", views.referral_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("households/<str:code>/new/", views.referral_new, name="new"),
    path("agencies/", views.agency_list, name="agencies"),
    path("agencies/new/", views.agency_new, name="agency_new"),
    path("agencies/<slug:code>/", views.agency_edit, name="agency"),
    path("agencies/<slug:code>/services/new/", views.service_new, name="service_new"),
    path("agencies/<slug:code>/services/<slug:service>/", views.service_edit, name="service"),
    path("<referral_ref:ref>/", views.referral_detail, name="detail"),
    path("<referral_ref:ref>/transition/", views.referral_transition, name="transition"),
    path("<referral_ref:ref>/comments/", views.referral_comment, name="comment"),
    path("<referral_ref:ref>/files/<int:pk>/", views.attachment, name="attachment"),
]
