"""The drill-down dashboard (issue 9): province › district › subdistrict › village.

Every number on the page and in its exports is a sum of pre-aggregated ``Fact`` rows read
through ``khm.insights.selectors`` (plus ratios computed from those sums by ``derive``): a
request never reads the registry, so the page costs the same few queries for a village of
ten households and a province of a million people.

What the actor sees is ``selectors.view_for``: a granted area whole, or only their villages
inside it (a local government); an area with none of theirs is a 404. Figures are
aggregates only (no household, no person), so ``insights.view`` is enough to export them;
each export is an audit event.

One filter at a time (``dim``): a subset of the assessed households (level, deprivation,
group of the head or household) narrows the assessment and MPI figures; a list source
narrows the list figures. The other figures have no rows for a subset and show "—".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from khm.accounts.scoping import Scope
from khm.areas.models import Area
from khm.assessment import instruments as inst
from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.core.exports import tables_response
from khm.core.templatetags.khm_charts import LEVEL_COLORS
from khm.fieldwork.models import Outcome
from khm.insights import selectors
from khm.insights.models import Fact
from khm.sources.models import SourceKind

ACTION = selectors.ACTION
LEVELS = (1, 2, 3, 4)
N_ = gettext_lazy

# Which figures a filter narrows: facts.py computes subsets only for these groups.
ASSESSMENT, LISTS = "assessment", "lists"
FILTER_GROUP = {"level": ASSESSMENT, "dep": ASSESSMENT, "sex": ASSESSMENT, "age": ASSESSMENT, "size": ASSESSMENT,
                "source": LISTS}  # fmt: skip
FILTER_KINDS = tuple(FILTER_GROUP)


@dataclass(frozen=True)
class Spec:
    """One figure: a metric of facts.py or a ratio of selectors.derive, and how it is shown."""

    key: str
    label: Promise
    group: str  # registry, lists, verification, assessment, help, forums, livelihoods
    fmt: str = "count"  # count, pct (a share shown as %), ratio (3 decimals), baht


def _level_specs(names: Mapping[int, str]) -> list[Spec]:
    return [Spec(f"level{lv}", names.get(lv, str(lv)), ASSESSMENT) for lv in LEVELS]  # type: ignore[arg-type]


# The headline sections, in page order.
SECTIONS: list[tuple[str, Promise, list[Spec]]] = [
    ("registry", N_("Registry"), [
        Spec("households", N_("Households in the registry"), "registry"),
        Spec("people", N_("People in the registry"), "registry"),
    ]),
    ("lists", N_("On the poor lists"), [
        Spec("listed_people", N_("People on the lists"), LISTS),
        Spec("listed_households", N_("Households on the lists"), LISTS),
    ]),
    ("verification", N_("Verification"), [
        Spec("verified", N_("Households verified"), "verification"),
        Spec("verified_share", N_("Verified, of the households on the lists"), "verification", "pct"),
    ]),
    ("assessment", N_("Assessment and MPI"), [
        Spec("assessed", N_("Households assessed"), ASSESSMENT),
        Spec("tpmap_poor", N_("TPMAP poor households"), ASSESSMENT),
        Spec("target_poor", N_("Target poor households"), ASSESSMENT),
        Spec("mpi_H", N_("MPI: headcount H"), ASSESSMENT, "pct"),
        Spec("mpi_A", N_("MPI: intensity A"), ASSESSMENT, "ratio"),
        Spec("mpi_M0", N_("MPI: adjusted headcount M0 = H × A"), ASSESSMENT, "ratio"),
    ]),
    ("help", N_("Referral and help"), [
        Spec("target_referred", N_("Target poor households referred"), "help"),
        Spec("target_helped", N_("Target poor households helped"), "help"),
        Spec("share_helped", N_("Share of the target poor helped"), "help", "pct"),
        Spec("help_value", N_("Value of help (baht)"), "help", "baht"),
        Spec("help_value_target", N_("Value of help to target poor households (baht)"), "help", "baht"),
        Spec("referrals_sent", N_("Referrals sent"), "help"),
        Spec("referrals_open", N_("Referrals open"), "help"),
        Spec("referrals_overdue", N_("Referrals overdue"), "help"),
    ]),
    ("forums", N_("Forums and graduation"), [
        Spec("confirmed", N_("Confirmed poor by a forum"), "forums"),
        Spec("not_poor", N_("Found not poor by a forum"), "forums"),
        Spec("graduated", N_("Graduated"), "forums"),
        Spec("followed", N_("Graduated and still followed"), "forums"),
    ]),
    ("livelihoods", N_("Enterprise links"), [
        Spec("linked", N_("Households linked to an enterprise"), "livelihoods"),
        Spec("income_n", N_("Linked households with an income follow-up"), "livelihoods"),
        Spec("income_share_gain20", N_("Share with more than 20 % income gain"), "livelihoods", "pct"),
        Spec("income_mean_change", N_("Mean change of income (baht/month)"), "livelihoods", "baht"),
    ]),
]  # fmt: skip

# "How these figures are counted" (after the docstring of khm/insights/facts.py).
DEFINITIONS: list[tuple[Promise, Promise]] = [
    (N_("Households and people in the registry"),
     N_("Active households and their current members, whatever list they are on.")),
    (N_("On the lists"),
     N_("Current members (and their households) on any list of the round (the list's year), or on lists of one "
        "source when filtered by source. A person on two lists counts once.")),
    (N_("Households verified"),
     N_("Households verified in the round (the campaign's round, else the Buddhist-Era year of the visit); the "
        "outcome is that of their latest verification.")),
    (N_("Households assessed"),
     N_("Households with a current assessment result of the round, by poverty level of the five capitals.")),
    (N_("Target poor households"),
     N_("Assessed households that the TPMAP rule marks as target poor (with a welfare card).")),
    (N_("MPI (Alkire–Foster)"),
     N_("Of the households with an MPI score: H is the share that is MPI poor, A the mean score of the MPI poor, "
        "M0 = H × A (the sum of the scores of the MPI poor divided by all households with a score).")),
    (N_("Mean capital pentagon"),
     N_("Mean score of each of the five capitals over the assessed households (all households only).")),
    (N_("Referred and helped"),
     N_("Of the target poor of the round: households with a referral that was sent, and households with any "
        "recorded help. The goal is at least 10 % of the target poor helped.")),
    (N_("Value of help"),
     N_("Sum of every help recorded in the area (baht), and of the help to the target poor of the round.")),
    (N_("Confirmed, not poor, graduated"),
     N_("Households by their standing decided by a poverty forum; still followed: graduated and followed on the "
        "day of the refresh.")),
    (N_("Enterprise links"),
     N_("Households linked to a community enterprise; of them, those with a baseline and a follow-up income; the "
        "share whose income rose by more than 20 % (of those with a baseline above 0) and the mean change in baht "
        "a month.")),
    (N_("Filters"),
     N_("One filter at a time. Level, deprivation and group (sex and age of the head, household size) narrow the "
        "assessment and MPI figures; a list source narrows the list figures; the other figures show —.")),
]  # fmt: skip

# Main figures of the child-area table and of the trend table.
CHILD_KEYS = ("households", "listed_households", "verified", "assessed", "level1", "level2", "level3", "level4",
              "mpi_H", "mpi_M0", "target_poor", "target_helped", "share_helped", "help_value", "graduated")  # fmt: skip
TREND_KEYS = ("listed_households", "verified", "assessed", "level1", "level2", "level3", "level4", "mpi_H", "mpi_A",
              "mpi_M0", "target_poor", "target_helped", "share_helped", "help_value_target")  # fmt: skip


# --------------------------------------------------------------------------- small pure helpers


def parse_dim(raw: str) -> str:
    """A filter the page knows (``kind:value``), else "" (all)."""
    kind, sep, value = raw.partition(":")
    return raw if sep and kind in FILTER_KINDS and value and len(raw) <= 40 else ""


def dim_group(dim: str) -> str:
    return FILTER_GROUP.get(dim.partition(":")[0], "") if dim else ""


def applies(spec: Spec, dim: str) -> bool:
    """Does the figure have rows for this filter (always, without one)?"""
    return not dim or spec.group == dim_group(dim)


def fmt_value(value: float | None, fmt: str) -> str:
    if value is None:
        return "—"
    if fmt == "pct":
        return f"{100 * value:.1f} %"
    if fmt == "ratio":
        return f"{value:.3f}"
    if fmt == "baht":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def export_value(value: float | None, fmt: str) -> float | int | None:
    if value is None:
        return None
    if fmt == "count":
        return round(value)
    return round(value, 6 if fmt in ("pct", "ratio") else 2)


def may_open(scope: Scope, code: str) -> bool:
    """Would ``selectors.view_for`` give this area to the scope (no query)?"""
    return (
        scope.covers_area(code)
        or scope.contains(code)
        or any(v.startswith(code) for v in scope.villages)
        or any(p.startswith(code) for p in scope.prefixes)
    )


def query(area: str, rnd: str, dim: str) -> str:
    return urlencode([(k, v) for k, v in (("area", area), ("round", rnd), ("dim", dim)) if v])


def _sum(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for r in rows:
        for k, v in r.items():
            out[k] += v
    return dict(out)


@dataclass(frozen=True)
class Cell:
    key: str
    label: str
    text: str
    value: float | int | None  # for exports
    applies: bool


def cell(spec: Spec, derived: Mapping[str, Any], dim: str) -> Cell:
    ok = applies(spec, dim)
    # derive() always holds its ratios (None when the base is 0); a metric without rows is 0.
    raw = derived.get(spec.key, 0.0)
    value = raw if ok else None
    return Cell(spec.key, str(spec.label), fmt_value(value, spec.fmt), export_value(value, spec.fmt), ok)


# --------------------------------------------------------------------------- reads


def outcomes(view: selectors.View, rnd: str) -> dict[str, float]:
    """Households verified in the round by outcome (one query over the ``outcome:`` rows).

    Belongs in selectors (``figures`` reads one subset at a time)."""
    rows = (
        Fact.objects.filter(view.q(), round=rnd, dim__startswith="outcome:", metric="verified")
        .values_list("dim")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {d.partition(":")[2]: float(v or 0) for d, v in rows}


def _labels() -> dict[str, Any]:
    lang = get_language() or "th"
    cap = inst.definition(inst.current_of_kind("capitals")) or {}
    bmn = inst.definition(inst.current_of_kind("bmn")) or {}
    return {
        "levels": {lv["level"]: inst.label(lv["label"], lang) for lv in cap.get("levels", [])},
        "capitals": {c["code"]: inst.label(c["label"], lang) for c in cap.get("capitals", [])},
        "indicators": {
            i["code"]: f"{i.get('number', '')}. {inst.label(i['label'], lang)}" for i in bmn.get("indicators", [])
        },
    }


AGE_LABELS = {"<35": N_("Head aged under 35"), "35-59": N_("Head aged 35–59"), "60+": N_("Head aged 60 or more"),
              "?": N_("Age of head unknown")}  # fmt: skip
SIZE_LABELS = {"1": N_("1 person"), "2-3": N_("2–3 people"), "4-5": N_("4–5 people"), "6+": N_("6 or more people")}
KIND_LABELS = {"level": N_("Poverty level"), "dep": N_("Deprived in"), "sex": N_("Sex of head"),
               "age": N_("Age of head"), "size": N_("Household size"), "source": N_("List source")}  # fmt: skip


def dim_label(dim: str, labels: Mapping[str, Any]) -> str:
    kind, _sep, value = dim.partition(":")
    if kind == "level":
        return str(labels["levels"].get(int(value), value) if value.isdigit() else value)
    if kind == "dep":
        return str(labels["indicators"].get(value, value))
    if kind == "sex":
        return str(N_("Female head") if value == "F" else N_("Male head"))
    if kind == "age":
        return str(AGE_LABELS.get(value, value))
    if kind == "size":
        return str(SIZE_LABELS.get(value, value))
    if kind == "source":
        try:
            return str(SourceKind(value).label)
        except ValueError:
            return value
    return dim


def _filter_menu(dims: list[str], current: str, labels: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for d in {*dims, *([current] if current else [])}:
        kind = d.partition(":")[0]
        if kind in FILTER_GROUP:
            by_kind[kind].append(d)

    def order(d: str) -> tuple[int, str]:
        value = d.partition(":")[2]
        if d.startswith("dep:"):
            digits = "".join(ch for ch in value if ch.isdigit())
            return (int(digits) if digits else 0, value)
        return (0, value)

    return [
        (str(KIND_LABELS[k]), [(d, dim_label(d, labels)) for d in sorted(by_kind[k], key=order)])
        for k in FILTER_KINDS
        if by_kind.get(k)
    ]


def _all_specs(labels: Mapping[str, Any]) -> dict[str, Spec]:
    out = {s.key: s for _k, _t, specs in SECTIONS for s in specs}
    out.update({s.key: s for s in _level_specs(labels["levels"])})
    return out


def _context(request: HttpRequest) -> dict[str, Any]:
    actor = request.user
    code = (request.GET.get("area") or "").strip() or selectors.home_area(actor)
    view = selectors.view_for(actor, code)  # 404 when none of it is the actor's
    area = Area.objects.select_related("parent__parent__parent").filter(code=code).first()
    if area is None:
        raise Http404
    scope = selectors.scope(actor)
    rounds = selectors.rounds(view)
    rnd = request.GET.get("round") or ""
    rnd = rnd if rnd in rounds else (rounds[-1] if rounds else "")
    dim = parse_dim((request.GET.get("dim") or "").strip())
    labels = _labels()
    specs = _all_specs(labels)

    base = selectors.derive(selectors.figures(view, rnd, ""))
    sub = selectors.derive(selectors.figures(view, rnd, dim)) if dim else base

    def pick(spec: Spec) -> Cell:
        return cell(spec, sub if dim else base, dim)

    sections: list[dict[str, Any]] = []
    for key, title, section_specs in SECTIONS:
        cells = [pick(s) for s in section_specs]
        if key == "assessment":  # the four levels after "assessed"
            cells[1:1] = [pick(s) for s in _level_specs(labels["levels"])]
        sections.append({"key": key, "title": str(title), "cells": cells})
    assessment_on = not dim or dim_group(dim) == ASSESSMENT
    lv_source = sub if dim else base
    level_parts = (
        [
            {
                "label": labels["levels"].get(lv, str(lv)),
                "value": lv_source.get(f"level{lv}", 0),
                "color": LEVEL_COLORS[lv],
            }
            for lv in LEVELS
        ]
        if assessment_on
        else []
    )
    caps = base["capitals"]
    axes = [(c, labels["capitals"].get(c, c)) for c in selectors.CAPITALS]
    series = [{"label": f"{_('Round')} {rnd}", "values": caps, "style": "primary"}]
    verified_by = outcomes(view, rnd) if not dim else {}
    outcome_rows = [(value, str(label), verified_by.get(value, 0.0)) for value, label in Outcome.choices]

    share = base["share_helped"]
    share_pct = round(100 * share, 1) if share is not None and not dim else None
    target_pct = int(selectors.TARGET_SHARE * 100)

    # Child areas: the parts the actor may open, with their figures (one query).
    kids = selectors.children(view, rnd, dim)
    child_areas = [a for a in Area.objects.filter(parent=area).order_by("code") if may_open(scope, a.code)]
    child_specs = [specs[k] for k in CHILD_KEYS]
    child_rows: list[dict[str, Any]] = []
    for a in child_areas:
        d = selectors.derive(kids.get(a.code, {}))
        child_rows.append(
            {"area": a, "query": query(a.code, rnd, dim), "cells": [cell(s, d, dim) for s in child_specs]}
        )
    totals = selectors.derive(_sum([kids.get(a.code, {}) for a in child_areas]))
    total_cells = [cell(s, totals, dim) for s in child_specs]

    # Trend by round.
    trend_all = selectors.trend(view, "")
    trend_dim = selectors.trend(view, dim) if dim else trend_all
    trend_specs = [specs[k] for k in TREND_KEYS]
    trend_rows: list[dict[str, Any]] = []
    for r in sorted(set(trend_all) | set(trend_dim)):
        d = selectors.derive(trend_dim.get(r, {}) if dim else trend_all.get(r, {}))
        trend_rows.append({"round": r, "derived": d, "cells": [cell(s, d, dim) for s in trend_specs]})
    trend_levels = (
        [
            (
                r["round"],
                [
                    {"label": labels["levels"].get(lv, str(lv)), "value": r["derived"].get(f"level{lv}", 0),
                     "color": LEVEL_COLORS[lv]}
                    for lv in LEVELS
                ],
            )
            for r in trend_rows
            if r["derived"].get("assessed")
        ]
        if assessment_on
        else []
    )  # fmt: skip
    trend_h = [
        {"label": r["round"], "value": round(100 * r["derived"]["mpi_H"], 1)}
        for r in trend_rows
        if assessment_on and r["derived"]["mpi_H"] is not None
    ]
    trend_m0 = [
        {"label": r["round"], "value": r["derived"]["mpi_M0"]}
        for r in trend_rows
        if assessment_on and r["derived"]["mpi_M0"] is not None
    ]
    trend_helped = [
        {"label": r["round"], "value": round(100 * r["derived"]["share_helped"], 1)}
        for r in trend_rows
        if not dim and r["derived"]["share_helped"] is not None
    ]

    parents = []
    p = area.parent
    while p is not None:
        parents.append({"area": p, "open": may_open(scope, p.code), "query": query(p.code, rnd, dim)})
        p = p.parent
    return {
        "area": area,
        "view": view,
        "parents": list(reversed(parents)),
        "rounds": list(reversed(rounds)),
        "round": rnd,
        "dim": dim,
        "dim_label": dim_label(dim, labels) if dim else "",
        "dim_group": dim_group(dim),
        "filters": _filter_menu(selectors.dims(view, rnd) if rnd else [], dim, labels),
        "sections": sections,
        "level_parts": level_parts,
        "pentagon": bool(not dim and base.get("cap_n")),
        "axes": axes,
        "series": series,
        "outcomes": outcome_rows,
        "fig": base,
        "share_pct": share_pct,
        "target_pct": target_pct,
        "bar": {"fill": 3 * min(share_pct or 0, 100), "target": 3 * target_pct},
        "child_heads": [str(s.label) for s in child_specs],
        "child_rows": child_rows,
        "total_cells": total_cells,
        "trend_heads": [str(s.label) for s in trend_specs],
        "trend_rows": trend_rows,
        "trend_levels": trend_levels,
        "trend_h": trend_h,
        "trend_m0": trend_m0,
        "trend_helped": trend_helped,
        "freshness": selectors.freshness(),
        "definitions": [(str(t), str(d)) for t, d in DEFINITIONS],
        "query": query(area.code, rnd, dim),
        "query_all": query(area.code, rnd, ""),
        "level_names": labels["levels"],
    }


# --------------------------------------------------------------------------- pages


@scoped(ACTION)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/dashboard.html", _context(request))


@scoped(ACTION)
@require_GET
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The dashboard's three tables as XLSX or CSV (aggregates only: no personal data)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    ctx = _context(request)
    area: Area = ctx["area"]
    dim = ctx["dim"]
    headline: list[list[Any]] = [
        [_("Area"), f"{area.name_th} ({area.code})"],
        [_("Survey round"), ctx["round"]],
        [_("Filter"), ctx["dim_label"] if dim else _("All")],
    ]
    for s in ctx["sections"]:
        headline += [[c.label, c.value, c.key] for c in s["cells"]]
    if not dim:
        headline += [
            [f"{_('Households verified')}: {label}", round(n), f"verified/{value}"]
            for value, label, n in ctx["outcomes"]
        ]
    by_area = [[r["area"].code, r["area"].name_th, *[c.value for c in r["cells"]]] for r in ctx["child_rows"]]
    if by_area:
        by_area.append(["", _("Total"), *[c.value for c in ctx["total_cells"]]])
    trend = [[r["round"], *[c.value for c in r["cells"]]] for r in ctx["trend_rows"]]
    tables = [
        (_("Headline figures"), [_("Figure"), _("Value"), _("Code")], headline),
        (_("By area"), [_("Area code"), _("Area"), *ctx["child_heads"]], by_area),
        (_("Trend by round"), [_("Survey round"), *ctx["trend_heads"]], trend),
    ]
    with transaction.atomic():
        audit_record(
            actor=request.user, action="insights.export", object_type="area", object_ref=area.code,
            area_code=area.code, note=fmt,
        )  # fmt: skip
    name = f"khm-dashboard-{area.code}-{ctx['round'] or 'all'}"
    return tables_response(tables, name, fmt)
