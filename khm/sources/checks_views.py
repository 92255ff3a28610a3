"""The composition-check queue: pending flags of the officer's area, confirm or dismiss."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from khm.core.access import scoped
from khm.sources import checks, checks_selectors
from khm.sources.models import FlagKind, FlagStatus


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    return kind if kind in FlagKind.values else ""


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@scoped("source.import")
def checks_queue(request: HttpRequest) -> HttpResponse:
    kind = _kind(request)
    groups = checks_selectors.flag_queue(request.user, kind=kind or None)
    return render(
        request,
        "sources/checks.html",
        {"groups": groups, "kind": kind, "total": sum(g.count for g in groups), "kinds": FlagKind.choices},
    )


@scoped("source.import")
@require_POST
def checks_decide(request: HttpRequest, pk: int) -> HttpResponse:
    flag = checks_selectors.flag_for(request.user, pk)
    status = request.POST.get("status", "")
    error = ""
    try:
        flag = checks.decide_flag(actor=request.user, flag=flag, status=status, note=request.POST.get("note", ""))
    except ValidationError as exc:
        error = " ".join(m for ms in exc.message_dict.values() for m in ms)
    if _is_htmx(request):
        return render(request, "sources/checks_decided.html", {"flag": flag, "error": error})
    if error:
        messages.error(request, error)
    elif flag.status == FlagStatus.CONFIRMED:
        messages.success(request, _("Confirmed: the household is to be corrected."))
    else:
        messages.success(request, _("Dismissed: nothing wrong."))
    url = reverse("sources:checks")
    kind = _kind(request)
    return redirect(f"{url}?kind={kind}" if kind else url)
