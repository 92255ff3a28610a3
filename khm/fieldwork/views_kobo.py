"""Other survey tools: download the questionnaire as an XLSForm for KoboToolbox / ODK, and
import their exports (preview with every row checked, then import the valid rows).

The uploaded file is kept under ``KHM_IMPORT_DIR/kobo/`` named by its SHA-256 until it is
imported; the page carries only that hash (in a POST field, never in the URL), and only the
user who uploaded it in this session may import it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from khm.accounts.scoping import can
from khm.assessment import instruments as inst
from khm.core.access import scoped
from khm.fieldwork import kobo, xlsform
from khm.fieldwork.models import Campaign

ACTION = "verification.submit"
SESSION_KEY = "kobo_uploads"
KEEP_SECONDS = 2 * 24 * 3600  # uploads never imported are removed after two days
TOKEN = re.compile(r"[0-9a-f]{64}")


class ExportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Export of the submissions (CSV or XLSX)"),
        help_text=gettext_lazy(
            "From KoboToolbox: Downloads → XLS or CSV, with “XML values and headers”. "
            "From ODK Central: Download all submissions (CSV, inside the .zip)."
        ),
    )
    campaign = forms.ChoiceField(label=gettext_lazy("Campaign"), required=False)

    def __init__(self, *args: Any, campaigns: list[Campaign], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not campaigns:
            del self.fields["campaign"]
            return
        self.fields["campaign"].choices = [  # type: ignore[attr-defined]
            ("", _("Automatic: the open campaign the household is in, if any")),
            *((c.code, f"{c.name} ({c.code}, {c.round})") for c in campaigns),
        ]

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(kobo.EXTENSIONS):
            raise forms.ValidationError(_("Upload the CSV or Excel (.xlsx) export of the submissions."))
        if f.size > kobo.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 25 MB: export the submissions in parts."))
        return f


def _folder() -> Path:
    folder = Path(settings.KHM_IMPORT_DIR) / "kobo"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prune(folder: Path) -> None:
    limit = time.time() - KEEP_SECONDS
    for p in folder.iterdir():
        try:
            if p.is_file() and p.stat().st_mtime < limit:
                p.unlink()
        except OSError:
            continue


def _campaign(campaigns: list[Campaign], code: str) -> Campaign | None:
    return next((c for c in campaigns if c.code == code), None) if code else None


def _page(request: HttpRequest, **context: Any) -> HttpResponse:
    capitals = inst.current_of_kind("capitals")
    campaigns = context.pop("campaigns", None) or kobo.campaigns_open_for(request.user)
    context.setdefault("form", ExportUploadForm(campaigns=campaigns))
    return render(
        request,
        "fieldwork/survey_tools.html",
        {
            "capitals": capitals,
            "form_id": xlsform.form_id(capitals) if capitals else "",
            "may_manage": can(request.user, "campaign.manage"),
            **context,
        },
    )


@scoped(ACTION)
def survey_tools(request: HttpRequest) -> HttpResponse:
    return _page(request)


@scoped(ACTION)
def xlsform_download(request: HttpRequest) -> HttpResponse:
    """The current questionnaire as an XLSForm (no personal data)."""
    capitals = inst.current_of_kind("capitals")
    if capitals is None:
        raise Http404
    resp = HttpResponse(
        xlsform.xlsform_bytes(capitals),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    resp["Content-Disposition"] = f'attachment; filename="{xlsform.form_id(capitals)}.xlsx"'
    return resp


@scoped(ACTION)
@require_POST
def export_upload(request: HttpRequest) -> HttpResponse:
    """Keep the export by its hash and show what importing it would do (nothing is written)."""
    campaigns = kobo.campaigns_open_for(request.user)
    form = ExportUploadForm(request.POST, request.FILES, campaigns=campaigns)
    if not form.is_valid():
        return _page(request, form=form, campaigns=campaigns)
    upload = form.cleaned_data["file"]
    content = upload.read()
    name = Path(upload.name).name[:200]
    campaign = _campaign(campaigns, form.cleaned_data.get("campaign", ""))
    report = kobo.import_submissions(actor=request.user, file_name=name, content=content, campaign=campaign)
    if report.valid:
        folder = _folder()
        _prune(folder)
        (folder / report.sha256).write_bytes(content)
        uploads = dict(request.session.get(SESSION_KEY) or {})
        uploads[report.sha256] = name
        request.session[SESSION_KEY] = dict(list(uploads.items())[-10:])
    return _page(
        request,
        form=ExportUploadForm(campaigns=campaigns, initial={"campaign": form.cleaned_data.get("campaign", "")}),
        campaigns=campaigns,
        report=report,
        token=report.sha256 if report.valid else "",
        campaign=campaign,
    )


@scoped(ACTION)
@require_POST
def export_import(request: HttpRequest) -> HttpResponse:
    """Import the valid rows of the export previewed in this session."""
    token = request.POST.get("token", "")
    uploads = dict(request.session.get(SESSION_KEY) or {})
    path = _folder() / token
    if not TOKEN.fullmatch(token) or token not in uploads or not path.is_file():
        messages.error(request, _("That upload is no longer here: upload the export again."))
        return redirect("fieldwork:survey_tools")
    campaigns = kobo.campaigns_open_for(request.user)
    campaign = _campaign(campaigns, request.POST.get("campaign", ""))
    report = kobo.import_submissions(
        actor=request.user, file_name=uploads[token], content=path.read_bytes(), campaign=campaign, commit=True
    )
    path.unlink(missing_ok=True)
    uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads
    return _page(request, campaigns=campaigns, report=report, campaign=campaign)
