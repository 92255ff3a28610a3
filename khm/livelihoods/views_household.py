"""A household's livelihood: its links, its income by period (baseline and follow-up), the
enterprises near it that fit it; linking it to an enterprise, ending a link, recording
income (a form that works on a 390 px phone) and importing income from a spreadsheet.

Households come only from ``khm.registry.access.household_for`` (404 outside the user's
area), links and income only through ``khm.livelihoods.selectors``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khm.accounts.scoping import can
from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.livelihoods import imports, selectors, services
from khm.livelihoods.forms import EndLinkForm, ImportForm, IncomeForm, LinkForm
from khm.livelihoods.models import IncomeMethod, IncomeSource
from khm.livelihoods.views import words
from khm.referrals.selectors import referrals_visible
from khm.registry.access import household_for
from khm.registry.models import Household, PersonStatus
from khm.registry.selectors import household_members

SESSION_KEY = "khm_income_import"


@scoped("household.view")
@require_http_methods(["GET"])
def household_page(request: HttpRequest, code: str) -> HttpResponse:
    household: Household = household_for(request.user, code)
    cut = selectors.first_link_start(request.user, household)
    with transaction.atomic():
        audit_record(
            actor=request.user, action="household.view", object_type="household", object_ref=household.code,
            area_code=household.area_code, note="livelihoods",
        )  # fmt: skip
    may_link = can(request.user, "livelihood.link", household.area_code)
    suggestions = selectors.suggest_enterprises(request.user, household) if may_link else []
    return render(
        request,
        "livelihoods/household.html",
        {
            "household": household,
            "links": list(selectors.household_links(request.user, household)),
            "income": selectors.household_income(request.user, household, cut),
            "cut": cut,
            "sources": IncomeSource.choices,
            "suggestions": [
                (s.enterprise, s.need, s.suggestion, [words(r) for r in s.suggestion.reasons]) for s in suggestions
            ],
            "may_link": may_link,
            "may_income": can(request.user, "income.record", household.area_code),
        },
    )


@scoped("livelihood.link")
@require_http_methods(["GET", "POST"])
def link_new(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code, "livelihood.link")
    enterprises = list(selectors.enterprises_visible(request.user).filter(active=True))
    enterprises.sort(key=lambda e: (e.area_code[:4] != household.area_code[:4], e.name_th))
    people = [(p.ref, p.full_name) for p in household_members(household) if p.status == PersonStatus.MEMBER]
    referrals = list(referrals_visible(request.user).filter(household=household).select_related("agency"))
    form = LinkForm(
        request.POST or None,
        enterprises=[(e.code, f"{e.name_th} ({e.area_code})") for e in enterprises],
        people=people,
        referrals=[(r.ref, f"{r.ref} · {r.need_label} → {r.agency}") for r in referrals],
        initial={
            "started_on": timezone.localdate(),
            "enterprise": request.GET.get("enterprise", ""),
            "role": request.GET.get("role", "member"),
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        e = next(x for x in enterprises if x.code == d["enterprise"])
        person = next((p for p in household_members(household) if p.ref == d["person"]), None) if d["person"] else None
        referral = next((r for r in referrals if r.ref == d["referral"]), None) if d["referral"] else None
        try:
            link = services.link_create(
                actor=request.user, enterprise=e, household=household, person=person, role=d["role"],
                started_on=d["started_on"], referral=referral, programme=d["programme"],
            )  # fmt: skip
        except services.LivelihoodInvalid as exc:
            for p in exc.problems:
                form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
        except PermissionDenied:
            raise Http404 from None
        else:
            if link.assistance_id:
                messages.success(request, _("Linked; recorded as enterprise support in the household's help."))
            else:
                messages.warning(
                    request, _("Linked. No agency supports this enterprise yet, so no help record was made.")
                )
            return redirect("livelihoods:household", household.code)
    return render(request, "livelihoods/link_form.html", {"form": form, "household": household})


@scoped("livelihood.link")
@require_POST
def link_end(request: HttpRequest, ref: str) -> HttpResponse:
    link = selectors.link_for(request.user, ref, "livelihood.link")
    form = EndLinkForm(request.POST)
    if form.is_valid():
        try:
            services.link_end(
                actor=request.user,
                link=link,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["reason"],
            )
        except services.LivelihoodInvalid as exc:
            for p in exc.problems:
                messages.error(request, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Link ended."))
    else:
        for errs in form.errors.values():
            for err in errs:
                messages.error(request, str(err))
    return redirect("livelihoods:household", link.household.code)


@scoped("income.record")
@require_http_methods(["GET", "POST"])
def income_new(request: HttpRequest, code: str) -> HttpResponse:
    """Income of one period, an amount per source — the follow-up form for phones."""
    household = household_for(request.user, code, "income.record")
    form = IncomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        mobile = request.POST.get("via") == "phone"
        try:
            with transaction.atomic():
                for source, amount in d["amounts"].items():
                    services.income_record(
                        actor=request.user, household=household, source=source, period_start=d["period_start"],
                        period_end=d["period_end"], amount_baht=amount, note=d["note"],
                        method=IncomeMethod.MOBILE if mobile else IncomeMethod.WEB,
                    )  # fmt: skip
        except services.LivelihoodInvalid as exc:
            for p in exc.problems:
                target = {"period_start": "period_start", "period_end": "period_end"}.get(p.field)
                form.add_error(target, f"{p.th} / {p.en}")
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Income saved."))
            if can(request.user, "household.view", household.area_code):
                return redirect("livelihoods:household", household.code)
            return redirect("livelihoods:income_new", household.code)
    return render(request, "livelihoods/income_form.html", {"form": form, "household": household})


# --------------------------------------------------------------------------- import


@scoped("income.record")
@require_http_methods(["GET", "POST"])
def income_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (every row checked) → confirm; nothing is written unless every
    row is good."""
    actor = request.user
    stored: dict[str, Any] = request.session.get(SESSION_KEY) or {}
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step in ("commit", "cancel"):
        token = request.POST.get("batch", "")
        data = stored.pop(token, None)
        request.session[SESSION_KEY] = stored
        if data is None:
            messages.error(request, "ไฟล์นี้บันทึกไปแล้วหรือหมดอายุ / this preview was already recorded or has expired")
            return redirect("livelihoods:income_import")
        if step == "cancel":
            messages.info(request, _("Cancelled: nothing was recorded."))
            return redirect("livelihoods:income_import")
        preview = imports.Preview.from_dict(data)
        try:
            written = imports.commit(actor=actor, preview=preview)
        except imports.ImportInvalid as exc:
            fresh = imports.Preview(batch=preview.batch, actor_id=preview.actor_id, raw=preview.raw,
                                    problems=exc.problems)  # fmt: skip
            return render(request, "livelihoods/import_preview.html", {"preview": fresh, "changed": True})
        except PermissionDenied:
            raise Http404 from None
        messages.success(request, _("Recorded %(n)s income rows.") % {"n": len(written)})
        return redirect(reverse("livelihoods:income_import"))
    form = ImportForm(request.POST or None, request.FILES or None)
    if step == "preview" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = imports.parse_file(data=upload.read(), filename=upload.name or "")
            preview = imports.check_rows(actor=actor, rows=rows)
        except imports.ImportInvalid as exc:
            for p in exc.problems:
                form.add_error("file", f"{p.th} / {p.en}")
        except PermissionDenied:
            raise Http404 from None
        else:
            if preview.ok:
                stored[preview.batch] = preview.to_dict()
                request.session[SESSION_KEY] = stored
            return render(request, "livelihoods/import_preview.html", {"preview": preview, "changed": False})
    return render(request, "livelihoods/import.html", {"form": form, "sources": IncomeSource.choices})
