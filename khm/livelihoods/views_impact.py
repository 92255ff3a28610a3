"""Impact of the links on household income: for an enterprise, a programme or an area, the
linked households against a comparison group of similar households not linked — figures,
charts, definitions, caveats, and the download. Aggregates only (the per-household rows
only for households the user may see)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from khm.accounts.scoping import scope_for
from khm.areas.models import Area
from khm.core.access import scoped
from khm.core.exports import tables_response
from khm.engines.matching import GAIN_THRESHOLD_PCT, Figures
from khm.livelihoods import selectors
from khm.livelihoods.models import Enterprise

LINKED = "#0b5d3b"
COMPARISON = "#5e3c99"


def _selection(request: HttpRequest) -> dict[str, Any]:
    actor = request.user
    area: Area | None = None
    code = (request.GET.get("area") or "").strip()
    if code:
        found = Area.objects.filter(code=code).first()
        if found is not None and not selectors.impact_scope(actor, found.code).empty:
            area = found
    enterprise: Enterprise | None = None
    ecode = (request.GET.get("enterprise") or "").strip()
    if ecode:
        enterprise = selectors.enterprises_visible(actor).filter(code=ecode).first()
    programme = (request.GET.get("programme") or "").strip()
    result = selectors.impact(actor, area_code=area.code if area else None, enterprise=enterprise, programme=programme)
    query = "&".join(
        f"{k}={v}"
        for k, v in (("area", area.code if area else ""), ("enterprise", ecode), ("programme", programme))
        if v
    )
    return {"area": area, "enterprise": enterprise, "programme": programme, "impact": result, "query": query}


def _r(x: float | None, digits: int = 0) -> float | None:
    return None if x is None else round(x, digits)


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


@scoped("impact.view")
@require_GET
def impact_page(request: HttpRequest) -> HttpResponse:
    ctx = _selection(request)
    imp = ctx["impact"]
    comp = imp.comparison
    lk, cg = comp.linked, comp.comparison
    chart = [
        {"label": _("Linked households: before"), "value": lk.before_median, "color": "#7fbf9f"},
        {"label": _("Linked households: after"), "value": lk.after_median, "color": LINKED},
        {"label": _("Comparison group: before"), "value": cg.before_median, "color": "#b8a6d9"},
        {"label": _("Comparison group: after"), "value": cg.after_median, "color": COMPARISON},
    ]
    pcts = [c.pct for c in comp.linked_changes if c.pct is not None]
    over = sum(1 for p in pcts if p > GAIN_THRESHOLD_PCT)
    gained_small = sum(1 for p in pcts if 0 < p <= GAIN_THRESHOLD_PCT)
    parts = [
        # xgettext:no-python-format
        {"label": _("More than 20 % gain"), "value": over, "color": LINKED},
        # xgettext:no-python-format
        {"label": _("Gain of 20 % or less"), "value": gained_small, "color": "#92c5de"},
        {"label": _("No gain or a loss"), "value": len(pcts) - over - gained_small, "color": "#f4a582"},
    ]
    ctx.update(
        {
            "lk": lk,
            "cg": cg,
            "share_lk": _pct(lk.share_over_threshold),
            "share_cg": _pct(cg.share_over_threshold),
            "difference": _r(comp.pct_difference, 1),
            "chart": [c for c in chart if c["value"] is not None],
            "parts": parts,
            "threshold": int(GAIN_THRESHOLD_PCT),
            "enterprises": list(selectors.enterprises_visible(request.user).order_by("name_th")),
            "programmes": selectors.programmes(request.user),
            "by_enterprise": [(e, f, _pct(f.share_over_threshold)) for e, f in imp.by_enterprise],
        }
    )
    return render(request, "livelihoods/impact.html", ctx)


def _figure_rows(f: Figures) -> list[Any]:
    return [
        f.n, f.n_pct, _r(f.before_median, 2), _r(f.after_median, 2), _r(f.change_median, 2), _r(f.pct_median, 1),
        f.over_threshold, _pct(f.share_over_threshold),
    ]  # fmt: skip


@scoped("impact.view")
@require_GET
def impact_export(request: HttpRequest, fmt: str) -> HttpResponse:
    ctx = _selection(request)
    imp = ctx["impact"]
    head = [
        _("Group"), _("Households with baseline and follow-up"), _("Of them with a baseline above 0"),
        _("Median income before (baht/month)"), _("Median income after (baht/month)"),
        _("Median change (baht/month)"), _("Median change (%)"),
        # xgettext:no-python-format
        _("Households with more than 20 % gain"),
        _("Share with more than 20 % gain (%)"),
    ]  # fmt: skip
    summary: list[list[Any]] = []
    if not imp.suppressed:
        summary = [
            [_("Linked households"), *_figure_rows(imp.comparison.linked)],
            [_("Comparison group"), *_figure_rows(imp.comparison.comparison)],
        ]
    by_ent = [[e.code, e.name_th, *_figure_rows(f)] for e, f in imp.by_enterprise]
    export_scope = scope_for(request.user, "export.personal")
    households = [
        [h.code, h.area_code, c.baseline.start.isoformat(), c.baseline.end.isoformat(), round(c.before, 2),
         c.followup.start.isoformat(), c.followup.end.isoformat(), round(c.after, 2), round(c.change, 2),
         None if c.pct is None else round(c.pct, 1)]
        for h, c in imp.rows
        if export_scope.contains(h.area_code)
    ]  # fmt: skip
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        (_("Summary"), head, summary),
        (_("By enterprise"), [_("Code"), _("Enterprise"), *head[1:]], by_ent),
    ]
    if households:
        tables.append(
            (
                _("Households"),
                [
                    _("Household"),
                    _("Village code"),
                    _("Baseline from"),
                    _("Baseline until"),
                    _("Before (baht/month)"),
                    _("Follow-up from"),
                    _("Follow-up until"),
                    _("After (baht/month)"),
                    _("Change (baht/month)"),
                    _("Change (%)"),
                ],
                households,
            )
        )
    name = (
        "khm-impact-"
        + (ctx["area"].code if ctx["area"] else "all")
        + (f"-{ctx['enterprise'].code}" if ctx["enterprise"] else "")
    )
    return tables_response(tables, name, fmt)
