"""The policy report: a page to choose the area and round with a preview, and the PDF."""

from __future__ import annotations

from django.urls import path

from khm.insights import views_report

urlpatterns = [
    path("report/", views_report.report_page, name="report"),
    path("report.pdf", views_report.report_download, name="report_pdf"),
]
