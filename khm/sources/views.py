"""Import pages: upload, preview with per-row errors, error spreadsheet, commit."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khm.core.access import scoped
from khm.core.forms import apply_service_errors
from khm.sources import selectors, services
from khm.sources.forms import UploadForm
from khm.sources.models import BatchStatus, RowOutcome


@scoped("source.view")
@require_http_methods(["GET", "POST"])
def batch_list(request: HttpRequest) -> HttpResponse:
    from khm.accounts.scoping import can

    may_import = can(request.user, "source.import")
    form = UploadForm(request.POST or None, request.FILES or None) if may_import else None
    if request.method == "POST":
        if not may_import:
            return HttpResponse(status=403)
        assert form is not None
        if form.is_valid():
            d = form.cleaned_data
            try:
                batch = services.batch_upload(
                    actor=request.user,
                    source=d["source"],
                    profile=d["profile"],
                    file_name=d["file"].name,
                    content=d["file"].read(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                services.batch_stage(actor=request.user, batch=batch)
                return redirect("sources:batch_detail", code=batch.code)
    return render(
        request, "sources/batch_list.html", {"batches": selectors.batches_visible(request.user)[:100], "form": form}
    )


@scoped("source.view")
def batch_detail(request: HttpRequest, code: str) -> HttpResponse:
    batch = selectors.batch_for(request.user, code)
    rejected = selectors.batch_rows(batch, outcome=RowOutcome.REJECTED, limit=200)
    uncertain = selectors.batch_rows(batch, outcome=RowOutcome.UNCERTAIN, limit=50)
    return render(
        request,
        "sources/batch_detail.html",
        {
            "batch": batch,
            "rejected": rejected,
            "uncertain": uncertain,
            "can_commit": batch.status == BatchStatus.PREVIEW,
        },
    )


@scoped("source.import")
@require_POST
def batch_commit(request: HttpRequest, code: str) -> HttpResponse:
    batch = selectors.batch_for(request.user, code)
    try:
        services.batch_commit(actor=request.user, batch=batch)
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("Imported."))
    return redirect("sources:batch_detail", code=batch.code)


@scoped("source.view")
def batch_errors_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    """The rejected rows as they came, plus what is wrong, to fix and upload again."""
    from openpyxl import Workbook

    batch = selectors.batch_for(request.user, code)
    rows = list(selectors.batch_rows(batch, outcome=RowOutcome.REJECTED, limit=1_000_000))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("errors")
    columns = list(rows[0].raw) if rows else []
    ws.append(["row", "ข้อผิดพลาด", "error", *columns])
    for r in rows:
        ws.append(
            [r.row_no, "; ".join(f"{e['field']}: {e['message_th']}" for e in r.errors),
             "; ".join(f"{e['field']}: {e['message_en']}" for e in r.errors), *[r.raw.get(c) for c in columns]]
        )  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="errors-{batch.code}.xlsx"'
    return response
