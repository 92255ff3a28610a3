"""Reads of livelihoods that depend on who asks.

* Enterprises, their needs and support are organisations: everyone with ``enterprise.view``
  reads the whole directory.
* Links and income records are personal data: read through the scoping primitive with the
  action ``household.view`` (whoever may see the household may see its links and income).
* Match suggestions name households: only households in the actor's ``livelihood.link`` scope.
* Impact figures are aggregates over the actor's ``impact.view`` scope; the per-household
  rows only for households in their ``household.view`` scope, and a group smaller than
  :data:`MIN_CELL` is not shown to someone who may not see its households.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.http import Http404

from khm.accounts.scoping import Scope, can, scope_for
from khm.areas.models import code_range
from khm.assessment.models import AssessmentResult
from khm.engines import matching
from khm.engines.scoring import CAPITALS
from khm.livelihoods.models import Enterprise, EnterpriseNeed, IncomeRecord, Link
from khm.registry.models import Household, Person, PersonStatus

VIEW = "household.view"
MIN_CELL = 5  # smallest group whose figures are shown to someone who cannot see its households


# --------------------------------------------------------------------------- enterprises


def enterprises_visible(actor: Any) -> QuerySet[Enterprise]:
    if not can(actor, "enterprise.view"):
        return Enterprise.objects.none()
    return Enterprise.objects.all().select_related("village", "village__parent", "lead_agency")


def enterprise_for(actor: Any, code: str) -> Enterprise:
    found = enterprises_visible(actor).filter(code=code).first()
    if found is None:
        raise Http404
    return found


def may_manage(actor: Any, enterprise: Enterprise) -> bool:
    return can(actor, "enterprise.manage", enterprise.area_code)


# --------------------------------------------------------------------------- personal data


def links_visible(actor: Any, action: str = VIEW) -> QuerySet[Link]:
    return Link.objects.filter(scope_for(actor, action).q("area_code"))


def link_for(actor: Any, ref: str, action: str = VIEW) -> Link:
    found = links_visible(actor, action).select_related("enterprise", "household", "person").filter(ref=ref).first()
    if found is None:
        raise Http404
    return found


def incomes_visible(actor: Any, action: str = VIEW) -> QuerySet[IncomeRecord]:
    return IncomeRecord.objects.filter(scope_for(actor, action).q("area_code"))


@dataclass
class IncomeRow:
    start: dt.date
    end: dt.date
    months: int
    total: float
    monthly: float
    by_source: dict[str, float]
    phase: str  # "baseline", "follow-up" or ""


def household_income(actor: Any, household: Household, cut: dt.date | None) -> list[IncomeRow]:
    """The household's income by period (newest first), each period's sources and whether
    it is the baseline or the follow-up against the first link's start ``cut``."""
    by_period: dict[tuple[dt.date, dt.date], dict[str, float]] = defaultdict(dict)
    for start, end, source, amount in (
        incomes_visible(actor)
        .filter(household=household)
        .values_list("period_start", "period_end", "source", "amount_baht")
    ):
        by_period[(start, end)][source] = float(amount)
    periods = [matching.Period(s, e, sum(v.values())) for (s, e), v in by_period.items()]
    change = matching.change_at(household.code, periods, cut) if cut else None
    rows = []
    for p in sorted(periods, key=lambda p: (p.end, p.start), reverse=True):
        phase = ""
        if change is not None and p == change.baseline:
            phase = "baseline"
        elif change is not None and p == change.followup:
            phase = "follow-up"
        rows.append(IncomeRow(p.start, p.end, p.months, p.amount, p.monthly, by_period[(p.start, p.end)], phase))
    return rows


# --------------------------------------------------------------------------- matching


def _current_results(household_ids: list[int]) -> dict[int, AssessmentResult]:
    """The current result of each household's latest assessed round (callers pass ids they
    already read through a scope)."""
    out: dict[int, AssessmentResult] = {}
    for r in (
        AssessmentResult.objects.filter(household_id__in=household_ids, current=True)
        .only("household_id", "level", "round", "assessment_id", *CAPITALS)
        .order_by("household_id", "round", "id")
    ):
        out[r.household_id] = r  # the latest round wins
    return out


def _members(household_ids: list[int], on: dt.date) -> dict[int, list[matching.Member]]:
    out: dict[int, list[matching.Member]] = defaultdict(list)
    for hh, birth, occ, edu in Person.objects.filter(
        household_id__in=household_ids, status=PersonStatus.MEMBER
    ).values_list("household_id", "birth_date", "occupation", "education"):
        age = None
        if birth is not None:
            age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        out[hh].append(matching.Member(age=age, occupation=occ or "", education=edu or ""))
    return out


def facts(households: list[Household], on: dt.date | None = None) -> list[matching.Household]:
    """The matching engine's view of households (capitals and level of the latest current
    assessment result, members' age/occupation/education); unassessed ones get no capitals."""
    on = on or dt.date.today()
    ids = [h.pk for h in households]
    results = _current_results(ids)
    members = _members(ids, on)
    out = []
    for h in households:
        r = results.get(h.pk)
        caps = {c: getattr(r, c) for c in CAPITALS} if r else {}
        out.append(
            matching.Household(
                key=h.code, area_code=h.area_code, capitals=caps, level=r.level if r else None, members=members[h.pk]
            )
        )
    return out


def _district_households(scope: Scope, area_code: str) -> QuerySet[Household]:
    low, high = code_range(area_code[:4])
    return Household.objects.filter(scope.q("area_code"), area_code__gte=low, area_code__lte=high, status="active")


def need_engine(need: EnterpriseNeed) -> matching.Need:
    e = need.enterprise
    return matching.Need(
        key=str(need.pk), kind=need.kind, stage=need.stage, area_code=e.area_code, quantity=need.quantity,
        label=e.name_th,
    )  # fmt: skip


@dataclass
class HouseholdSuggestion:
    household: Household
    suggestion: matching.Suggestion


def suggest_households(actor: Any, need: EnterpriseNeed, limit: int = 50) -> list[HouseholdSuggestion]:
    """Households of the enterprise's district, inside the actor's linking scope, not yet
    linked to this enterprise, that fit the need — best first, each with its reasons."""
    scope = scope_for(actor, "livelihood.link")
    if scope.empty:
        return []
    linked = Link.objects.filter(enterprise_id=need.enterprise_id, ended_on__isnull=True).values("household_id")
    households = list(
        _district_households(scope, need.enterprise.area_code).exclude(pk__in=linked).select_related("village")
    )
    by_code = {h.code: h for h in households}
    found = matching.suggest_households(need_engine(need), facts(households), limit=limit)
    return [HouseholdSuggestion(by_code[s.household], s) for s in found]


@dataclass
class EnterpriseSuggestion:
    enterprise: Enterprise
    need: EnterpriseNeed
    suggestion: matching.Suggestion


def suggest_enterprises(actor: Any, household: Household, limit: int = 20) -> list[EnterpriseSuggestion]:
    """Open needs of active enterprises in the household's district that it fits (the
    caller fetched ``household`` through the actor's scope)."""
    low, high = code_range(household.area_code[:4])
    already = set(
        Link.objects.filter(household=household, ended_on__isnull=True).values_list("enterprise_id", flat=True)
    )
    needs = [
        n
        for n in EnterpriseNeed.objects.filter(
            active=True, enterprise__active=True, enterprise__area_code__gte=low, enterprise__area_code__lte=high
        ).select_related("enterprise")
        if n.enterprise_id not in already and can(actor, "enterprise.view")
    ]
    by_key = {str(n.pk): n for n in needs}
    hh = facts([household])[0]
    found = matching.suggest_enterprises(hh, [need_engine(n) for n in needs], limit=limit)
    return [EnterpriseSuggestion(by_key[s.need].enterprise, by_key[s.need], s) for s in found]


# --------------------------------------------------------------------------- impact


@dataclass
class Impact:
    comparison: matching.Comparison
    linked_households: int  # with a link in the selection (with or without income)
    suppressed: bool  # figures hidden: a small group the actor cannot see
    rows: list[tuple[Household, matching.Change]] = field(default_factory=list)  # visible to the actor
    by_enterprise: list[tuple[Enterprise, matching.Figures]] = field(default_factory=list)


def _periods(scope_q: Q, household_ids: list[int] | None = None) -> dict[int, list[matching.Period]]:
    qs = IncomeRecord.objects.filter(scope_q)
    if household_ids is not None:
        qs = qs.filter(household_id__in=household_ids)
    out: dict[int, list[matching.Period]] = defaultdict(list)
    for hh, start, end, total in (
        qs.values("household_id", "period_start", "period_end")
        .annotate(total=Sum("amount_baht"))
        .values_list("household_id", "period_start", "period_end", "total")
        .order_by()
    ):
        out[hh].append(matching.Period(start, end, float(total)))
    return out


def _levels(household_ids: list[int]) -> dict[int, list[tuple[dt.date, int]]]:
    out: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for hh, on, level in (
        AssessmentResult.objects.filter(household_id__in=household_ids, current=True, level__isnull=False)
        .values_list("household_id", "assessment__assessed_on", "level")
        .order_by()
    ):
        if level is not None:
            out[hh].append((on, level))
    return out


def impact_scope(actor: Any, area_code: str | None) -> Scope:
    scope = scope_for(actor, "impact.view")
    return scope.restricted_to(area_code) if area_code else scope


def impact(
    actor: Any, *, area_code: str | None = None, enterprise: Enterprise | None = None, programme: str = ""
) -> Impact:
    """Income change of the linked households of the selection (an enterprise, a programme,
    an area — or all of the actor's scope) and of their comparison group."""
    scope = impact_scope(actor, area_code)
    q = scope.q("area_code")
    links = Link.objects.filter(q)
    if enterprise is not None:
        links = links.filter(enterprise=enterprise)
    if programme:
        links = links.filter(programme=programme)
    cuts = dict(links.values("household_id").annotate(cut=Min("started_on")).values_list("household_id", "cut"))
    ids = list(cuts)
    households = {h.pk: h for h in Household.objects.filter(pk__in=ids).select_related("village")}
    # The pool: never-linked households of the same districts, inside the same scope.
    districts = sorted({h.area_code[:4] for h in households.values()})
    district_q = Q(pk__in=[])
    for d in districts:
        low, high = code_range(d)
        district_q |= Q(area_code__gte=low, area_code__lte=high)
    ever_linked = Link.objects.values("household_id")
    pool_periods = _periods(q & district_q & ~Q(household_id__in=ever_linked)) if districts else {}
    pool_ids = list(pool_periods)
    pool_areas = dict(Household.objects.filter(pk__in=pool_ids).values_list("pk", "area_code"))
    periods = _periods(q, ids)
    levels = _levels(ids + pool_ids)
    linked_units = [
        matching.Unit(
            key=households[i].code,
            area_code=households[i].area_code,
            levels=levels.get(i, []),
            periods=periods.get(i, []),
            cut=cuts[i],
        )
        for i in ids
    ]
    pool_units = [
        matching.Unit(key=f"#{i}", area_code=pool_areas[i], levels=levels.get(i, []), periods=pool_periods[i])
        for i in pool_ids
        if i in pool_areas
    ]
    comp = matching.compare(linked_units, pool_units)
    view = scope_for(actor, VIEW)
    by_code = {h.code: h for h in households.values()}
    rows = [(by_code[c.key], c) for c in comp.linked_changes if view.contains(by_code[c.key].area_code)]
    sees_all = bool(households) and len(rows) == len(comp.linked_changes)
    suppressed = not sees_all and 0 < comp.linked.n < MIN_CELL
    by_enterprise: list[tuple[Enterprise, matching.Figures]] = []
    if enterprise is None:
        changes = {c.key: c for c in comp.linked_changes}
        groups: dict[int, list[matching.Change]] = defaultdict(list)
        for e_id, hh_id in links.values_list("enterprise_id", "household_id").distinct():
            code = households[hh_id].code
            if code in changes:
                groups[e_id].append(changes[code])
        names = {e.pk: e for e in Enterprise.objects.filter(pk__in=list(groups))}
        for e_id, cs in sorted(groups.items(), key=lambda kv: names[kv[0]].name_th):
            figures = matching.summarise(cs)
            if sees_all or figures.n >= MIN_CELL:
                by_enterprise.append((names[e_id], figures))
    return Impact(
        comparison=comp, linked_households=len(ids), suppressed=suppressed, rows=rows, by_enterprise=by_enterprise
    )


def programmes(actor: Any) -> list[str]:
    """Programme names of the links in the actor's impact scope (labels only)."""
    return sorted(
        set(
            Link.objects.filter(impact_scope(actor, None).q("area_code"))
            .exclude(programme="")
            .values_list("programme", flat=True)
        )
    )


def link_counts(enterprise_ids: list[int]) -> dict[int, dict[str, int]]:
    """Open links per enterprise and role (counts of households: organisation-level figures)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for e_id, role, n in (
        Link.objects.filter(enterprise_id__in=enterprise_ids, ended_on__isnull=True)
        .values("enterprise_id", "role")
        .annotate(n=Count("household_id", distinct=True))
        .values_list("enterprise_id", "role", "n")
        .order_by()
    ):
        out[e_id][role] = n
    return out


def enterprise_links(actor: Any, enterprise: Enterprise) -> QuerySet[Link]:
    """The enterprise's links the actor may see (households of their area only)."""
    return (
        links_visible(actor).filter(enterprise=enterprise).select_related("household", "household__village", "person")
    )


def household_links(actor: Any, household: Household) -> QuerySet[Link]:
    return links_visible(actor).filter(household=household).select_related("enterprise", "person", "referral")


def first_link_start(actor: Any, household: Household) -> dt.date | None:
    return links_visible(actor).filter(household=household).aggregate(first=Min("started_on"))["first"]
