from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from khm.sources.models import MappingProfile, Source

MAX_UPLOAD = 200 * 1024 * 1024


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Source list"), queryset=Source.objects.all())
    profile = forms.ModelChoiceField(label=_("Column mapping"), queryset=MappingProfile.objects.all())
    file = forms.FileField(label=_("File (CSV, XLSX)"), help_text=_("CSV in UTF-8 or TIS-620, or Excel .xlsx / .xls"))

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")):
            raise forms.ValidationError(_("Only CSV and Excel (.xlsx, .xls) or .ods files can be imported."))
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 200 MB: split it by district."))
        return f
