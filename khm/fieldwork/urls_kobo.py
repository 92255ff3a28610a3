from __future__ import annotations

from django.urls import URLPattern, path

from khm.fieldwork import views_kobo

urlpatterns: list[URLPattern] = [
    path("", views_kobo.survey_tools, name="survey_tools"),
    path("xlsform.xlsx", views_kobo.xlsform_download, name="xlsform"),
    path("upload/", views_kobo.export_upload, name="kobo_upload"),
    path("import/", views_kobo.export_import, name="kobo_import"),
]
