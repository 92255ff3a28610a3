"""Read the pre-aggregated figures for who asks: never the registry.

An *area* the actor may see is one their ``insights.view`` scope covers (a granted prefix:
province, district, subdistrict, village): its own rows are read. A local government's scope
is a set of villages: for an area that holds some of them, the rows of those villages are
summed (a few dozen rows). Either way every figure is a sum of ``Fact`` rows.

``figures`` gives the raw sums; ``derive`` adds the ratios (H, A, M0, shares, means).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Sum
from django.http import Http404

from khm.accounts.scoping import Scope, scope_for
from khm.areas.models import Area, code_range
from khm.insights.models import Fact, RefreshRun

ACTION = "insights.view"
CAPITALS = ("human", "physical", "financial", "natural", "social")
LEVEL_OF_LENGTH = {2: 1, 4: 2, 6: 3, 8: 4}
TARGET_SHARE = 0.10


@dataclass(frozen=True)
class View:
    """What the actor reads for one area: the area itself (``whole``) or only these villages."""

    area_code: str
    whole: bool
    villages: frozenset[str] = field(default_factory=frozenset)  # a local government's villages
    parts: frozenset[str] = field(default_factory=frozenset)  # whole areas granted below this one

    def q(self) -> Q:
        if self.whole:
            return Q(area_code=self.area_code)
        # Each granted part is read as its own rows (one per metric), not as its villages.
        return Q(level=4, area_code__in=sorted(self.villages)) | Q(area_code__in=sorted(self.parts))

    @property
    def codes(self) -> frozenset[str]:
        """The areas read for a partial view: villages and whole parts."""
        return self.villages | self.parts


def scope(actor: Any, action: str = ACTION) -> Scope:
    return scope_for(actor, action)


def home_area(actor: Any, action: str = ACTION) -> str:
    """Where the dashboard opens: the widest granted area, or the subdistrict of the first
    village of a local government."""
    s = scope(actor, action)
    if s.prefixes:
        best = min(s.prefixes, key=len)
        return best or "46"
    if s.villages:
        return min(s.villages)[:6]
    raise Http404


def view_for(actor: Any, area_code: str, action: str = ACTION) -> View:
    """The actor's view of ``area_code`` — 404 when none of it is theirs."""
    if len(area_code) not in LEVEL_OF_LENGTH or not area_code.isdigit():
        raise Http404
    s = scope(actor, action)
    if s.covers_area(area_code) or s.contains(area_code):
        return View(area_code, True)
    mine = frozenset(v for v in s.villages if v.startswith(area_code))
    if not mine and not any(p.startswith(area_code) for p in s.prefixes):
        raise Http404
    # A granted prefix below the area (a district officer looking at the province): only the
    # granted parts are counted, each from its own pre-summed rows.
    parts = frozenset(p for p in s.prefixes if p.startswith(area_code))
    return View(area_code, False, mine, parts)


def figures(view: View, round: str, dim: str = "") -> dict[str, float]:
    """Sums of every metric for the view: round-less metrics (registry, help totals, forums,
    livelihoods) are always included; ``round`` selects the round's metrics."""
    rows = (
        Fact.objects.filter(view.q(), dim=dim, round__in=["", round])
        .values_list("metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {m: float(v or 0) for m, v in rows}


def children(view: View, round: str, dim: str = "") -> dict[str, dict[str, float]]:
    """Figures of each child area of the view's area (villages of a subdistrict …), only the
    parts the actor may see."""
    n = len(view.area_code)
    if n == 8:
        return {}
    child_len = n + 2
    out: dict[str, dict[str, float]] = defaultdict(dict)
    if view.whole:
        low, high = code_range(view.area_code)
        rows = Fact.objects.filter(
            level=LEVEL_OF_LENGTH[child_len], area_code__gte=low, area_code__lte=high, dim=dim, round__in=["", round]
        ).values_list("area_code", "metric", "value")
        for code, metric, value in rows:
            out[code][metric] = out[code].get(metric, 0.0) + float(value)
        return dict(out)
    rows = Fact.objects.filter(view.q(), dim=dim, round__in=["", round]).values_list("area_code", "metric", "value")
    for code, metric, value in rows:
        key = code[:child_len]
        out[key][metric] = out[key].get(metric, 0.0) + float(value)
    return dict(out)


def trend(view: View, dim: str = "") -> dict[str, dict[str, float]]:
    """Per round: the round's metrics (assessment, lists, verification, help to the target)."""
    rows = (
        Fact.objects.filter(view.q(), dim=dim)
        .exclude(round="")
        .values_list("round", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for rnd, metric, total in rows:
        out[rnd][metric] = float(total or 0)
    return dict(sorted(out.items()))


def rounds(view: View) -> list[str]:
    return sorted(set(Fact.objects.filter(view.q()).exclude(round="").values_list("round", flat=True).distinct()))


def dims(view: View, round: str) -> list[str]:
    """The subsets with figures for this view and round (for the filter menus)."""
    return sorted(set(Fact.objects.filter(view.q(), round=round).exclude(dim="").values_list("dim", flat=True)))


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def derive(f: dict[str, float]) -> dict[str, Any]:
    """The figures the pages show, from the sums (None when a base is 0)."""
    g = lambda k: f.get(k, 0.0)  # noqa: E731
    out: dict[str, Any] = dict(f)
    out["mpi_H"] = _ratio(g("mpi_q"), g("mpi_n"))
    out["mpi_A"] = _ratio(g("mpi_sum"), g("mpi_q"))
    out["mpi_M0"] = _ratio(g("mpi_sum"), g("mpi_n"))
    out["share_helped"] = _ratio(g("target_helped"), g("target_poor"))
    out["share_referred"] = _ratio(g("target_referred"), g("target_poor"))
    out["target_met"] = out["share_helped"] is not None and out["share_helped"] >= TARGET_SHARE
    out["share_poor_levels"] = _ratio(g("level1") + g("level2"), g("assessed"))
    out["capitals"] = {c: _ratio(g(f"cap_{c}"), g("cap_n")) for c in CAPITALS}
    out["income_share_gain20"] = _ratio(g("income_gain20"), g("income_pct_n"))
    out["income_mean_change"] = _ratio(g("income_change_sum"), g("income_n"))
    out["verified_share"] = _ratio(g("verified"), g("listed_households"))
    return out


def freshness() -> dict[str, Any]:
    from khm.insights.refresh import pending

    last = RefreshRun.objects.first()
    return {"last": last, "pending": pending()}


def area_names(codes: list[str]) -> dict[str, Area]:
    return {a.code: a for a in Area.objects.filter(code__in=codes)}
