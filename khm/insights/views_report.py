"""The policy report (เอกสารสรุปเชิงนโยบาย): ``/insights/report/?area=&round=`` shows the form and
a preview of the sections; ``/insights/report.pdf?area=&round=`` downloads the PDF (audited as
``insights.export``). The area goes through ``selectors.view_for`` (404 outside the scope);
everything shown is an aggregate."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from khm.accounts.scoping import scope_for
from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.insights import selectors
from khm.insights.report import Report, build_report, report_pdf
from khm.referrals.tracking import agency_restriction


@dataclass(frozen=True)
class _Choice:
    view: selectors.View
    round: str
    previous_round: str | None
    rounds: list[str]


def _choice(request: HttpRequest) -> _Choice:
    actor = request.user
    code = (request.GET.get("area") or "").strip() or selectors.home_area(actor)
    view = selectors.view_for(actor, code)
    rounds = selectors.rounds(view)
    rnd = (request.GET.get("round") or "").strip()
    if rnd and (len(rnd) != 4 or not rnd.isdigit()):
        raise Http404
    if rnd not in rounds:
        rnd = rounds[-1] if rounds else rnd
    before = [r for r in rounds if r < rnd]
    return _Choice(view, rnd, before[-1] if before else None, rounds)


def _report(request: HttpRequest, choice: _Choice) -> Report:
    actor = request.user
    return build_report(
        choice.view,
        choice.round,
        choice.previous_round,
        agencies=agency_restriction(actor),
        household_scope=scope_for(actor, "household.view"),
    )


def _areas(request: HttpRequest, choice: _Choice) -> list[tuple[str, str]]:
    """Areas to choose from: the ones above that the actor may see, this one, the ones below."""
    code = choice.view.area_code
    above = []
    for n in (2, 4, 6):
        if n < len(code):
            try:
                selectors.view_for(request.user, code[:n])
            except Http404:
                continue
            above.append(code[:n])
    below = sorted(selectors.children(choice.view, choice.round))
    names = selectors.area_names([*above, code, *below])
    return [(c, f"{names[c].name_th if c in names else c} ({c})") for c in [*above, code, *below]]


@scoped(selectors.ACTION)
@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    choice = _choice(request)
    report = _report(request, choice)
    context = {
        "r": report,
        "choice": choice,
        "areas": _areas(request, choice),
        "query": f"area={choice.view.area_code}&round={choice.round}",
    }
    return render(request, "insights/report.html", context)


@scoped(selectors.ACTION)
@require_GET
def report_download(request: HttpRequest) -> HttpResponse:
    choice = _choice(request)
    data = report_pdf(_report(request, choice))
    area = choice.view.area_code
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="insights.export",
            object_type="report",
            object_ref=area,
            area_code=area,
            note=choice.round,
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="khm-report-{area}-{choice.round or "none"}.pdf"'
    return response
