from __future__ import annotations

from django.urls import include, path

from khm.api.urls import api

urlpatterns = [
    path("", include("khm.accounts.urls_root")),
    path("accounts/", include("khm.accounts.urls")),
    path("areas/", include("khm.areas.urls")),
    path("households/", include("khm.registry.urls")),
    path("audit/", include("khm.audit.urls")),
    path("imports/", include("khm.sources.urls")),
    path("assessment/", include("khm.assessment.urls")),
    path("fieldwork/", include("khm.fieldwork.urls")),
    path("m/", include("khm.fieldwork.urls_app")),
    path("referrals/", include("khm.referrals.urls")),
    path("forums/", include("khm.forums.urls")),
    path("notice/", include("khm.forums.urls_public")),
    path("livelihoods/", include("khm.livelihoods.urls")),
    path("insights/", include("khm.insights.urls")),
    path("open/", include("khm.insights.urls_open")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
