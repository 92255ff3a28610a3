"""Assessment pages: the area page (aggregates only), the desk assessment form, instrument
versions and their editor, scoring runs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from khm.accounts.scoping import can, scope_for
from khm.areas.models import Area
from khm.assessment import instruments as inst
from khm.assessment import selectors, services
from khm.assessment.forms import AssessmentForm, InstrumentForm, current_be_year
from khm.assessment.models import Instrument, InstrumentKind
from khm.core.access import authenticated, scoped
from khm.core.exports import tables_response
from khm.core.templatetags.khm_charts import LEVEL_COLORS
from khm.engines.scoring import CAPITALS
from khm.registry.access import household_for


def _lang() -> str:
    return get_language() or "th"


# --------------------------------------------------------------------------- area page


@scoped("assessment.aggregate")
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, selectors.AGGREGATE)
    codes = sorted(scope.prefixes) or sorted({v[:6] for v in scope.villages})
    code = codes[0] if codes else ""
    if code == "":
        area = Area.objects.filter(level=1).order_by("code").first()
        if area is None:
            raise Http404
        code = area.code
    return redirect("assessment:area", code=code)


def _area(actor: Any, code: str) -> Area:
    area = Area.objects.filter(code=code).select_related("parent", "parent__parent", "parent__parent__parent").first()
    if area is None or selectors.area_scope(actor, code).empty:
        raise Http404
    return area


def _round(request: HttpRequest, rounds: list[str], key: str, default: str) -> str:
    value = request.GET.get(key, default)
    return value if value in rounds else default


def _labels(lang: str) -> dict[str, Any]:
    cap = inst.definition(inst.current_of_kind(InstrumentKind.CAPITALS)) or {}
    bmn = inst.definition(inst.current_of_kind(InstrumentKind.BMN)) or {}
    return {
        "levels": {lv["level"]: inst.label(lv["label"], lang) for lv in cap.get("levels", [])},
        "capitals": {c["code"]: inst.label(c["label"], lang) for c in cap.get("capitals", [])},
        "dimensions": {d["code"]: inst.label(d["label"], lang) for d in bmn.get("dimensions", [])},
        "indicators": {i["code"]: i for i in bmn.get("indicators", [])},
    }


def _area_context(request: HttpRequest, area: Area) -> dict[str, Any]:
    lang = _lang()
    rounds = selectors.rounds()
    rnd = _round(request, rounds, "round", rounds[0] if rounds else "")
    older = [r for r in rounds if r < rnd]
    cmp_round = _round(request, rounds, "compare", older[0] if older else "")
    if cmp_round == rnd:
        cmp_round = ""
    labels = _labels(lang)
    summary = selectors.area_summary(request.user, area.code, rnd) if rnd else None
    before = selectors.area_summary(request.user, area.code, cmp_round) if cmp_round else None
    transitions = selectors.level_transitions(request.user, area.code, cmp_round, rnd) if cmp_round and rnd else None
    children = {a.code: a for a in Area.objects.filter(parent=area)}
    ctx: dict[str, Any] = {
        "area": area,
        "parents": _parents(area),
        "rounds": rounds,
        "round": rnd,
        "compare": cmp_round,
        "summary": summary,
        "before": before,
        "transitions": transitions,
        "labels": labels,
        "children": children,
        "may_score": can(request.user, "assessment.score", area.code),
    }
    if summary is None or not summary.n:
        return ctx
    ctx["level_parts"] = [
        {"label": labels["levels"].get(lv, str(lv)), "value": summary.levels[lv], "color": LEVEL_COLORS[lv]}
        for lv in selectors.LEVELS
    ]
    if before is not None and before.n:
        ctx["level_parts_before"] = [
            {"label": labels["levels"].get(lv, str(lv)), "value": before.levels[lv], "color": LEVEL_COLORS[lv]}
            for lv in selectors.LEVELS
        ]
    axes = [(c, labels["capitals"].get(c, c)) for c in CAPITALS]
    series = [{"label": f"{_('Round')} {rnd}", "values": summary.capitals, "style": "primary"}]
    if before is not None and before.n:
        series.append({"label": f"{_('Round')} {cmp_round}", "values": before.capitals, "style": "secondary"})
    ctx["axes"], ctx["series"] = axes, series
    ctx["top_deprivations"] = [
        {
            "label": f"{d['indicator']['number']}. {inst.label(d['indicator']['label'], lang)}"
            if d["indicator"]
            else d["code"],
            "value": round(100 * (d["share"] or 0), 1),
            "note": labels["dimensions"].get((d["indicator"] or {}).get("dimension") or "", ""),
        }
        for d in summary.deprivations[:10]
        if d["count"]
    ]
    if summary.mpi is not None:
        overall = summary.mpi["overall"]
        ctx["mpi"] = overall
        ctx["dimension_contrib"] = [
            {"label": labels["dimensions"].get(dim, dim), "value": round(100 * (share or 0), 1)}
            for dim, share in overall["contribution"]["dimension"].items()
        ]
        ctx["indicator_rows"] = [
            {
                "code": code,
                "indicator": labels["indicators"].get(code),
                "uncensored": overall["uncensored_headcount"][code],
                "censored": overall["censored_headcount"][code],
                "contribution": overall["contribution"]["indicator"][code],
            }
            for code in overall["contribution"]["indicator"]
        ]
        if before is not None and before.mpi is not None:
            ctx["mpi_before"] = before.mpi["overall"]
    return ctx


def _parents(area: Area) -> list[Area]:
    out = []
    p = area.parent
    while p is not None:
        out.append(p)
        p = p.parent
    return list(reversed(out))


@scoped("assessment.aggregate")
def area_page(request: HttpRequest, code: str) -> HttpResponse:
    area = _area(request.user, code)
    return render(request, "assessment/area.html", _area_context(request, area))


@scoped("assessment.aggregate")
def area_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """The area page's tables as CSV or XLSX (aggregates only, no personal data)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    area = _area(request.user, code)
    ctx = _area_context(request, area)
    summary = ctx["summary"]
    if summary is None:
        raise Http404
    lang = _lang()
    levels = ctx["labels"]["levels"]
    tables: list[tuple[str, list[str], list[list[Any]]]] = []
    head = [_("Area code"), _("Area"), _("Households assessed")] + [levels.get(lv, str(lv)) for lv in selectors.LEVELS]
    head += [_("Mean score"), "H", "A", "M0", _("Target poor (TPMAP rule)")]
    rows = []
    for ch in summary.children:
        a = ctx["children"].get(ch["child"])
        name = (a.name_th if lang == "th" or not a.name_en else a.name_en) if a else ""
        rows.append(
            [
                ch["child"],
                name,
                ch["n"],
                *[ch[f"L{lv}"] for lv in selectors.LEVELS],
                ch["overall"],
                ch["H"],
                ch["A"],
                ch["M0"],
                ch["target_poor"],
            ]
        )
    total = [area.code, area.name_th if lang == "th" else (area.name_en or area.name_th), summary.n]
    total += [summary.levels[lv] for lv in selectors.LEVELS]
    mpi_o = summary.mpi["overall"] if summary.mpi else {}
    total += [summary.overall, mpi_o.get("H"), mpi_o.get("A"), mpi_o.get("M0"), summary.target_poor]
    tables.append((_("Areas"), head, [total, *rows]))
    dep_head = [
        _("Indicator"),
        _("Number"),
        _("Label"),
        _("Households deprived"),
        _("Households with an answer"),
        _("Share"),
    ]
    dep_rows = [
        [
            d["code"],
            (d["indicator"] or {}).get("number"),
            inst.label((d["indicator"] or {}).get("label"), lang),
            d["count"],
            d["known"],
            d["share"],
        ]
        for d in summary.deprivations
    ]
    tables.append((_("Deprivations"), dep_head, dep_rows))
    if summary.mpi:
        o = summary.mpi["overall"]
        ind_head = [_("Indicator"), _("Uncensored headcount ratio"), _("Censored headcount ratio"), _("Contribution")]
        tables.append(
            (
                "MPI",
                ind_head,
                [
                    [c, o["uncensored_headcount"][c], o["censored_headcount"][c], o["contribution"]["indicator"][c]]
                    for c in o["contribution"]["indicator"]
                ],
            )
        )
    name = f"khm-assessment-{area.code}-{summary.round}"
    return tables_response(tables, name, fmt)


# --------------------------------------------------------------------------- desk assessment


@scoped("assessment.create")
def assess(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code, "assessment.create")
    capitals = inst.current_of_kind(InstrumentKind.CAPITALS)
    bmn = inst.current_of_kind(InstrumentKind.BMN)
    if capitals is None:
        raise Http404
    members = services.roster(household, dt.date.today())
    kwargs = {"capitals": inst.definition(capitals), "bmn": inst.definition(bmn), "members": members, "lang": _lang()}
    if request.method == "POST":
        form = AssessmentForm(request.POST, **kwargs)  # type: ignore[arg-type]
        if form.is_valid():
            data = form.to_data()
            # The roster's ages are taken on the assessment date, not today.
            on = form.cleaned_data["assessed_on"]
            ages = {m["key"]: m["age"] for m in services.roster(household, on)}
            for m in data["members"]:
                m["age"] = ages.get(m["key"], m["age"])
            try:
                services.assessment_record(
                    actor=request.user,
                    household=household,
                    round=form.cleaned_data["round"],
                    assessed_on=on,
                    data=data,
                )
            except services.AssessmentInvalid as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(request, _("Assessment saved and scored."))
                return redirect(reverse("registry:household_detail", args=[household.code]) + "#assessment")
    else:
        form = AssessmentForm(initial={"round": current_be_year(), "assessed_on": dt.date.today()}, **kwargs)  # type: ignore[arg-type]
    return render(
        request,
        "assessment/assess.html",
        {"household": household, "form": form, "capitals": capitals, "bmn": bmn, "members": members},
    )


# --------------------------------------------------------------------------- instruments


@authenticated
def instrument_list(request: HttpRequest) -> HttpResponse:
    versions = Instrument.objects.select_related("created_by").order_by("kind", "code", "-version")
    return render(
        request,
        "assessment/instruments.html",
        {"versions": versions, "may_edit": can(request.user, "instrument.edit")},
    )


@authenticated
def instrument_detail(request: HttpRequest, code: str, version: int) -> HttpResponse:
    obj = get_object_or_404(Instrument, code=code, version=version)
    if request.GET.get("format") == "json":
        resp = HttpResponse(
            json.dumps(obj.definition, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
        )
        resp["Content-Disposition"] = f'attachment; filename="{obj.code}.v{obj.version}.json"'
        return resp
    lang = _lang()
    d = obj.definition
    latest = inst.current(code)
    return render(
        request,
        "assessment/instrument_detail.html",
        {
            "obj": obj,
            "d": d,
            "lang": lang,
            "is_latest": latest is not None and latest.pk == obj.pk,
            "may_edit": can(request.user, "instrument.edit"),
        },
    )


@scoped("instrument.edit")
def instrument_edit(request: HttpRequest, code: str) -> HttpResponse:
    latest = inst.current(code)
    if latest is None:
        raise Http404
    problems: list[Any] = []
    if request.method == "POST":
        form = InstrumentForm(request.POST)
        if form.is_valid():
            try:
                created = services.instrument_save_version(
                    actor=request.user,
                    code=code,
                    definition=form.cleaned_data["definition"],
                    note=form.cleaned_data["note"],
                )
            except services.AssessmentInvalid as exc:
                problems = exc.problems
            else:
                messages.success(
                    request,
                    _("Saved as version %(v)s. Earlier versions and their scores stay as they were.")
                    % {"v": created.version},
                )
                return redirect("assessment:instrument_detail", code=code, version=created.version)
    else:
        form = InstrumentForm(initial={"definition": json.dumps(latest.definition, ensure_ascii=False, indent=1)})
    return render(request, "assessment/instrument_edit.html", {"latest": latest, "form": form, "problems": problems})


# --------------------------------------------------------------------------- scoring runs


@scoped("assessment.score")
def run_list(request: HttpRequest) -> HttpResponse:
    runs = selectors.runs_visible(request.user).select_related(
        "capitals_instrument", "bmn_instrument", "needs_instrument", "created_by", "rerun_of"
    )[:200]
    scope = scope_for(request.user, "assessment.score")
    areas = Area.objects.filter(level__lte=3, code__in=_scope_areas(scope)).order_by("code")[:400]
    return render(request, "assessment/runs.html", {"runs": runs, "rounds": selectors.rounds(), "areas": areas})


def _scope_areas(scope: Any) -> list[str]:
    if "" in scope.prefixes:
        return list(Area.objects.filter(level__lte=2).values_list("code", flat=True))
    out = set(scope.prefixes)
    for p in scope.prefixes:
        out |= set(Area.objects.filter(code__startswith=p, level__lte=3).values_list("code", flat=True))
    return sorted(out)


@scoped("assessment.score")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_visible(request.user).select_related("rerun_of", "created_by"), pk=pk)
    return render(request, "assessment/run_detail.html", {"run": run, "reruns": run.reruns.order_by("-id")})


@scoped("assessment.score")
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    area_code = request.POST.get("area", "")
    rnd = request.POST.get("round", "")
    try:
        run = services.scoring_run_start(actor=request.user, area_code=area_code, round=rnd)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Scored %(n)s assessments in %(s)s s.") % {"n": run.n_assessments, "s": run.seconds})
    return redirect("assessment:run_detail", pk=run.pk)


@scoped("assessment.score")
@require_POST
def run_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.runs_visible(request.user), pk=pk)
    try:
        again = services.scoring_run_rerun(actor=request.user, run=run)
    except PermissionDenied:
        raise Http404 from None
    if again.reproduced:
        messages.success(request, _("Re-run reproduced the original results exactly."))
    else:
        messages.error(request, _("Re-run did NOT reproduce the original results."))
    return redirect("assessment:run_detail", pk=again.pk)
