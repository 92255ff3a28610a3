from __future__ import annotations

from django.urls import include, path

app_name = "insights"

# The dashboard and its exports (urls_dashboard.py), maps and map layers (urls_maps.py) and
# the policy report (urls_report.py).
urlpatterns = [
    path("", include("khm.insights.urls_dashboard")),
    path("", include("khm.insights.urls_maps")),
    path("", include("khm.insights.urls_report")),
]
