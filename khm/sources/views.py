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


def _side_by_side(row: object) -> list[tuple[str, str, str, bool]]:
    """(label, from the list, in the registry, differs) for the review page."""
    from django.utils.translation import gettext as t

    from khm.core.dates import format_thai_date

    c = row.clean  # type: ignore[attr-defined]
    p = row.person  # type: ignore[attr-defined]
    bd = p.birth_date.isoformat() if p and p.birth_date else ""
    pairs = [
        (t("First name"), c.get("first_name", ""), p.first_name if p else ""),
        (t("Last name"), c.get("last_name", ""), p.last_name if p else ""),
        (t("Birth date"), c.get("birth_date") or "", bd),
        (t("Sex"), c.get("sex", ""), p.sex if p else ""),
        (t("House number"), c.get("house_no", ""), p.household.house_no if p else ""),
        (t("Village"), c.get("village", ""), p.household.area_code if p else ""),
    ]
    out = []
    for label, a, b in pairs:
        if label == t("Birth date"):
            import datetime as dt

            a_s = format_thai_date(dt.date.fromisoformat(a)) if a else "—"
            b_s = format_thai_date(dt.date.fromisoformat(b)) if b else "—"
            out.append((label, a_s, b_s, a != b))
        else:
            out.append((label, a or "—", b or "—", a != b))
    return out


@scoped("source.import")
def review_list(request: HttpRequest) -> HttpResponse:
    rows = [(r, _side_by_side(r)) for r in selectors.review_queue(request.user)]
    return render(request, "sources/review.html", {"rows": rows})


@scoped("source.import")
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.review_row(request.user, pk)
    try:
        services.review_decide(actor=request.user, row=row, same=request.POST.get("decision") == "same")
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("sources:review")


@scoped("source.view")
def coverage(request: HttpRequest) -> HttpResponse:
    area = (request.GET.get("area") or "").strip()
    area = area if area.isdigit() and len(area) in (2, 4, 6, 8) else ""
    data = selectors.coverage(request.user, area_code=area or None)
    return render(request, "sources/coverage.html", {"data": data, "area": area})
