"""Import pages: upload, preview with per-row errors, error spreadsheet, commit."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khm.core import jobs, progress
from khm.core.access import scoped
from khm.core.forms import apply_service_errors
from khm.sources import selectors, services
from khm.sources.forms import UploadForm
from khm.sources.models import BatchStatus, ImportBatch, RowOutcome


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
                _stage(request, batch, size=batch_size_bytes(batch))
                return redirect("sources:batch_detail", code=batch.code)
    return render(
        request, "sources/batch_list.html", {"batches": selectors.batches_visible(request.user)[:100], "form": form}
    )


def batch_size_bytes(batch: ImportBatch) -> int:
    try:
        return Path(batch.file_path).stat().st_size
    except OSError:
        return 0


def _background(size: int) -> bool:
    return bool(settings.KHM_BACKGROUND_JOBS) and size >= settings.KHM_BACKGROUND_MIN_BYTES


def _running(code: str) -> dict[str, Any] | None:
    """The job's progress while it runs (a job silent for 15 minutes is taken as dead)."""
    state = progress.read(code)
    if state is None or state.get("step") == "failed" or time.time() - float(state.get("at") or 0) > 15 * 60:
        return None
    return state


def _stage(request: HttpRequest, batch: ImportBatch, *, size: int) -> None:
    if _background(size):
        progress.report(batch.code, "queued")
        jobs.run_in_background(batch.code, services.batch_stage, actor=request.user, batch=batch)
    else:
        services.batch_stage(actor=request.user, batch=batch)


@scoped("source.view")
def batch_detail(request: HttpRequest, code: str) -> HttpResponse:
    batch = selectors.batch_for(request.user, code)
    running = _running(batch.code)
    rejected = selectors.batch_rows(batch, outcome=RowOutcome.REJECTED, limit=200)
    uncertain = selectors.batch_rows(batch, outcome=RowOutcome.UNCERTAIN, limit=50)
    state = progress.read(batch.code)
    return render(
        request,
        "sources/batch_detail.html",
        {
            "batch": batch,
            "rejected": rejected,
            "uncertain": uncertain,
            "running": running,
            "stopped": state is not None and running is None,
            "can_commit": batch.status == BatchStatus.PREVIEW and running is None,
            "can_restage": batch.status == BatchStatus.UPLOADED and running is None,
        },
    )


@scoped("source.view")
def batch_progress(request: HttpRequest, code: str) -> HttpResponse:
    """The progress bar, polled by the batch page; when the job ends the page reloads."""
    batch = selectors.batch_for(request.user, code)
    running = _running(batch.code)
    if running is None:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "sources/_progress.html", {"batch": batch, "running": running})


@scoped("source.import")
@require_POST
def batch_restage(request: HttpRequest, code: str) -> HttpResponse:
    """Stage a batch again whose staging stopped (the server restarted while it ran)."""
    batch = selectors.batch_for(request.user, code)
    if batch.status == BatchStatus.UPLOADED and _running(batch.code) is None:
        progress.clear(batch.code)
        _stage(request, batch, size=batch_size_bytes(batch))
    return redirect("sources:batch_detail", code=batch.code)


@scoped("source.import")
@require_POST
def batch_commit(request: HttpRequest, code: str) -> HttpResponse:
    batch = selectors.batch_for(request.user, code)
    if _running(batch.code) is not None:
        return redirect("sources:batch_detail", code=batch.code)
    if _background(batch_size_bytes(batch)) and batch.status == BatchStatus.PREVIEW:
        progress.report(batch.code, "commit")
        jobs.run_in_background(batch.code, services.batch_commit, actor=request.user, batch=batch)
        return redirect("sources:batch_detail", code=batch.code)
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


def _why(row: Any) -> list[tuple[str, float]]:
    """The match weight of each comparison, in words: positive for, negative against."""
    labels = {
        "name": _("Name"),
        "birth_date": _("Birth date"),
        "sex": _("Sex"),
        "address": _("Address"),
        "national_id": _("National ID"),
    }
    explain = row.explain or {}
    return [(labels[k], float(explain[k])) for k in labels if k in explain and explain[k] != 0]


@scoped("source.import")
def review_list(request: HttpRequest) -> HttpResponse:
    from khm.sources.checks_selectors import pending_counts

    rows = [(r, _side_by_side(r), _why(r)) for r in selectors.review_queue(request.user)]
    flags = sum(pending_counts(request.user).values())
    return render(request, "sources/review.html", {"rows": rows, "flags": flags})


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
    from khm.sources.checks_selectors import pending_counts

    data = selectors.coverage(request.user, area_code=area or None)
    data["pending_flags"] = sum(pending_counts(request.user).values())
    return render(request, "sources/coverage.html", {"data": data, "area": area})
