"""Enterprise pages: the directory, one enterprise (its needs, support and linked
households), create/edit, needs and support, and the households suggested for a need.

Enterprises are organisations (every ``enterprise.view`` holder reads them); the linked
households shown on an enterprise page and the suggestions come only through
``khm.livelihoods.selectors`` (the area scope of the user)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from khm.accounts.scoping import can
from khm.areas.models import Area, AreaLevel
from khm.core.access import scoped
from khm.engines.matching import Reason
from khm.livelihoods import selectors, services
from khm.livelihoods.forms import EnterpriseForm, NeedForm, SupportForm
from khm.livelihoods.models import Enterprise, Stage
from khm.referrals.selectors import agencies

PAGE_SIZE = 100


def words(reason: Reason) -> str:
    """A reason in the page's language."""
    return reason.en if (get_language() or "th").startswith("en") else reason.th


def _problems_to_form(form: Any, problems: list[Any]) -> None:
    for p in problems:
        form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")


def _agency_choices() -> list[tuple[str, str]]:
    return [(a.code, str(a)) for a in agencies().filter(active=True)]


def _agency(code: str) -> Any:
    return agencies().filter(code=code).first() if code else None


# --------------------------------------------------------------------------- directory


@scoped("enterprise.view")
@require_GET
def enterprise_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.enterprises_visible(request.user)
    district = (request.GET.get("district") or "").strip()
    stage = request.GET.get("stage") or ""
    q = (request.GET.get("q") or "").strip()
    if district.isdigit() and len(district) == 4:
        qs = qs.filter(area_code__startswith=district)
    if stage in Stage.values:
        qs = qs.filter(stages__icontains=stage)
    if q:
        qs = qs.filter(name_th__icontains=q) | qs.filter(products__icontains=q) | qs.filter(registration_no=q)
    rows = list(qs[:PAGE_SIZE])
    counts = selectors.link_counts([e.pk for e in rows])
    codes = sorted({c[:4] for c in selectors.enterprises_visible(request.user).values_list("area_code", flat=True)})
    return render(
        request,
        "livelihoods/enterprise_list.html",
        {
            "rows": [(e, sum(counts.get(e.pk, {}).values())) for e in rows],
            "districts": Area.objects.filter(code__in=codes, level=AreaLevel.DISTRICT).order_by("code"),
            "district": district,
            "stage": stage,
            "stages": Stage.choices,
            "q": q,
            "may_manage": can(request.user, "enterprise.manage"),
            "may_impact": can(request.user, "impact.view"),
        },
    )


@scoped("enterprise.view")
@require_GET
def enterprise_detail(request: HttpRequest, code: str) -> HttpResponse:
    e = selectors.enterprise_for(request.user, code)
    counts = selectors.link_counts([e.pk]).get(e.pk, {})
    links = list(selectors.enterprise_links(request.user, e)[:300])
    may_manage = selectors.may_manage(request.user, e)
    return render(
        request,
        "livelihoods/enterprise_detail.html",
        {
            "e": e,
            "stage_labels": [Stage(s).label for s in e.stages if s in Stage.values],
            "needs": list(e.needs.all()),
            "support": list(e.support.select_related("agency")),
            "counts": counts,
            "total": sum(counts.values()),
            "links": links,
            "may_manage": may_manage,
            "may_link": can(request.user, "livelihood.link"),
            "may_impact": can(request.user, "impact.view"),
            "need_form": NeedForm() if may_manage else None,
        },
    )


def _village(code: str) -> Area | None:
    return Area.objects.filter(code=code.strip(), level=AreaLevel.VILLAGE).first()


@scoped("enterprise.manage")
@require_http_methods(["GET", "POST"])
def enterprise_new(request: HttpRequest) -> HttpResponse:
    form = EnterpriseForm(request.POST or None, agencies=_agency_choices(), initial={"active": True})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            e = services.enterprise_create(
                actor=request.user, name_th=d["name_th"], name_en=d["name_en"], registration_no=d["registration_no"],
                kind=d["kind"], village=_village(d["village"]), products=d["products"], stages=d["stages"],
                lead_agency=_agency(d["lead_agency"]),
            )  # fmt: skip
        except services.LivelihoodInvalid as exc:
            _problems_to_form(form, exc.problems)
        except PermissionDenied:
            form.add_error("village", "หมู่บ้านนี้อยู่นอกพื้นที่ของท่าน / this village is outside your area")
        else:
            messages.success(request, _("Enterprise saved."))
            return redirect("livelihoods:enterprise", e.code)
    return render(request, "livelihoods/enterprise_form.html", {"form": form, "e": None})


@scoped("enterprise.manage")
@require_http_methods(["GET", "POST"])
def enterprise_edit(request: HttpRequest, code: str) -> HttpResponse:
    e = selectors.enterprise_for(request.user, code)
    if not selectors.may_manage(request.user, e):
        raise Http404
    initial = {
        "name_th": e.name_th, "name_en": e.name_en, "registration_no": e.registration_no, "kind": e.kind,
        "village": e.area_code, "products": e.products, "stages": e.stages, "active": e.active,
        "lead_agency": e.lead_agency.code if e.lead_agency else "",
    }  # fmt: skip
    form = EnterpriseForm(request.POST or None, agencies=_agency_choices(), initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.enterprise_update(
                actor=request.user, enterprise=e, name_th=d["name_th"], name_en=d["name_en"],
                registration_no=d["registration_no"], kind=d["kind"], village=_village(d["village"]),
                products=d["products"], stages=d["stages"], lead_agency=_agency(d["lead_agency"]), active=d["active"],
            )  # fmt: skip
        except services.LivelihoodInvalid as exc:
            _problems_to_form(form, exc.problems)
        except PermissionDenied:
            form.add_error("village", "หมู่บ้านนี้อยู่นอกพื้นที่ของท่าน / this village is outside your area")
        else:
            messages.success(request, _("Enterprise saved."))
            return redirect("livelihoods:enterprise", e.code)
    return render(request, "livelihoods/enterprise_form.html", {"form": form, "e": e})


@scoped("enterprise.manage")
@require_POST
def need_new(request: HttpRequest, code: str) -> HttpResponse:
    e = selectors.enterprise_for(request.user, code)
    if not selectors.may_manage(request.user, e):
        raise Http404
    form = NeedForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.need_add(
                actor=request.user, enterprise=e, kind=d["kind"], stage=d["stage"], quantity=d["quantity"],
                description=d["description"],
            )  # fmt: skip
        except services.LivelihoodInvalid as exc:
            for p in exc.problems:
                messages.error(request, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Need added."))
    else:
        for errs in form.errors.values():
            for err in errs:
                messages.error(request, str(err))
    return redirect("livelihoods:enterprise", e.code)


@scoped("enterprise.manage")
@require_POST
def need_close(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    e = selectors.enterprise_for(request.user, code)
    need = e.needs.filter(pk=pk, active=True).first()
    if need is None or not selectors.may_manage(request.user, e):
        raise Http404
    services.need_close(actor=request.user, need=need)
    messages.success(request, _("Need closed."))
    return redirect("livelihoods:enterprise", e.code)


@scoped("enterprise.manage")
@require_http_methods(["GET", "POST"])
def support_new(request: HttpRequest, code: str) -> HttpResponse:
    e = selectors.enterprise_for(request.user, code)
    if not selectors.may_manage(request.user, e):
        raise Http404
    form = SupportForm(
        request.POST or None,
        agencies=_agency_choices(),
        initial={"started_on": timezone.localdate(), "value_baht": "0"},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.support_add(
                actor=request.user, enterprise=e, kind=d["kind"], agency=_agency(d["agency"]), provider=d["provider"],
                programme=d["programme"], started_on=d["started_on"], ended_on=d["ended_on"],
                value_baht=d["value_baht"] or "0",
            )  # fmt: skip
        except services.LivelihoodInvalid as exc:
            _problems_to_form(form, exc.problems)
        else:
            messages.success(request, _("Support recorded."))
            return redirect("livelihoods:enterprise", e.code)
    return render(request, "livelihoods/support_form.html", {"form": form, "e": e})


# --------------------------------------------------------------------------- matching


@scoped("livelihood.link")
@require_GET
def need_matches(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Households of the enterprise's district (inside the user's area) that fit the need."""
    e: Enterprise = selectors.enterprise_for(request.user, code)
    need = e.needs.filter(pk=pk).select_related("enterprise").first()
    if need is None:
        raise Http404
    found = selectors.suggest_households(request.user, need)
    return render(
        request,
        "livelihoods/matches.html",
        {
            "e": e,
            "need": need,
            "rows": [(s.household, s.suggestion, [words(r) for r in s.suggestion.reasons]) for s in found],
            "role": "supplier" if need.kind == "raw_material" else "worker",
        },
    )
