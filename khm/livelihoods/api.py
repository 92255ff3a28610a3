"""Livelihood endpoints of the REST API (v1): the enterprise directory, households suggested
for an enterprise's need, a household's links and income, linking, recording income (the
phone's follow-up) and the impact figures.

Households come only through ``khm.registry.access.household_for``; links, income and
suggestions only through ``khm.livelihoods.selectors`` (the caller's area).

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status

from khm.api.access import api_scoped
from khm.api.errors import not_found_payload as _not_found
from khm.api.errors import problems_payload as _errors
from khm.engines.matching import Figures, Reason
from khm.livelihoods import selectors, services
from khm.livelihoods.models import IncomeMethod
from khm.referrals.selectors import referrals_visible
from khm.registry.access import household_for, person_for

router = Router(tags=["livelihoods"])


class ErrorOut(Schema):
    errors: list[dict[str, str]]


class NeedOut(Schema):
    id: int
    kind: str
    stage: str
    quantity: int
    description: str
    active: bool


class SupportOut(Schema):
    kind: str
    agency: str
    provider: str
    programme: str
    started_on: dt.date
    ended_on: dt.date | None
    value_baht: Decimal


class EnterpriseOut(Schema):
    code: str
    registration_no: str
    name_th: str
    name_en: str
    kind: str
    area_code: str
    products: str
    stages: list[str]
    lead_agency: str
    active: bool
    linked_households: int
    needs: list[NeedOut]
    support: list[SupportOut]


class ReasonOut(Schema):
    code: str
    th: str
    en: str


class MatchOut(Schema):
    household: str
    area_code: str
    score: float
    people: int
    reasons: list[ReasonOut]


class LinkOut(Schema):
    ref: str
    enterprise: str
    household: str
    person: str
    role: str
    started_on: dt.date
    ended_on: dt.date | None
    programme: str
    source: str
    counted_as_help: bool


class LinkIn(Schema):
    enterprise: str
    role: str
    started_on: dt.date
    person: str = ""
    referral: str = ""
    programme: str = ""


class IncomePeriodOut(Schema):
    start: dt.date
    end: dt.date
    months: int
    total: float
    monthly: float
    by_source: dict[str, float]
    phase: str


class LivelihoodOut(Schema):
    household: str
    links: list[LinkOut]
    income: list[IncomePeriodOut]


class IncomeIn(Schema):
    period_start: dt.date
    period_end: dt.date
    amounts: dict[str, Decimal]
    note: str = ""


class FiguresOut(Schema):
    n: int
    n_pct: int
    before_median: float | None
    after_median: float | None
    change_median: float | None
    pct_median: float | None
    gained: int
    over_threshold: int
    share_over_threshold: float | None


class ImpactOut(Schema):
    linked_households: int
    suppressed: bool
    linked: FiguresOut | None
    comparison: FiguresOut | None
    matched: int
    pct_difference: float | None


class ImpactFilter(Schema):
    area: str = ""
    enterprise: str = ""
    programme: str = ""


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _enterprise(e: Any, linked: int) -> dict[str, Any]:
    return {
        "code": e.code, "registration_no": e.registration_no, "name_th": e.name_th, "name_en": e.name_en,
        "kind": e.kind, "area_code": e.area_code, "products": e.products, "stages": list(e.stages),
        "lead_agency": e.lead_agency.code if e.lead_agency else "", "active": e.active, "linked_households": linked,
        "needs": [
            {"id": n.pk, "kind": n.kind, "stage": n.stage, "quantity": n.quantity, "description": n.description,
             "active": n.active}
            for n in e.needs.all()
        ],
        "support": [
            {"kind": s.kind, "agency": s.agency.code if s.agency else "", "provider": s.provider,
             "programme": s.programme, "started_on": s.started_on, "ended_on": s.ended_on, "value_baht": s.value_baht}
            for s in e.support.all()
        ],
    }  # fmt: skip


def _link(link: Any) -> dict[str, Any]:
    return {
        "ref": link.ref, "enterprise": link.enterprise.code, "household": link.household.code,
        "person": link.person.ref if link.person else "", "role": link.role, "started_on": link.started_on,
        "ended_on": link.ended_on, "programme": link.programme, "source": link.source,
        "counted_as_help": link.assistance_id is not None,
    }  # fmt: skip


def _reason(r: Reason) -> dict[str, str]:
    return {"code": r.code, "th": r.th, "en": r.en}


def _figures(f: Figures) -> dict[str, Any]:
    return {k: getattr(f, k) for k in FiguresOut.model_fields}


@router.get("/enterprises", response=list[EnterpriseOut])
@api_scoped("enterprise.view")
def list_enterprises(request: HttpRequest) -> list[dict[str, Any]]:
    """The community enterprise directory (organisations: the whole installation), with the
    number of households linked now, their needs and the support they receive."""
    rows = list(selectors.enterprises_visible(_actor(request)).prefetch_related("needs", "support__agency")[:1000])
    counts = selectors.link_counts([e.pk for e in rows])
    return [_enterprise(e, sum(counts.get(e.pk, {}).values())) for e in rows]


@router.get("/enterprises/{code}/needs/{need_id}/matches", response={200: list[MatchOut], 404: ErrorOut})
@api_scoped("livelihood.link")
def need_matches(request: HttpRequest, code: str, need_id: int) -> Status[Any]:
    """Households of the caller's area (in the enterprise's district) that fit one need, best
    first, each with its reasons in Thai and English."""
    actor = _actor(request)
    try:
        e = selectors.enterprise_for(actor, code)
    except Http404:
        return Status(404, _not_found("code"))
    need = e.needs.filter(pk=need_id).select_related("enterprise").first()
    if need is None:
        return Status(404, _not_found("need_id"))
    return Status(
        200,
        [
            {"household": s.household.code, "area_code": s.household.area_code, "score": s.suggestion.score,
             "people": s.suggestion.people, "reasons": [_reason(r) for r in s.suggestion.reasons]}
            for s in selectors.suggest_households(actor, need)
        ],
    )  # fmt: skip


@router.get("/households/{code}/livelihood", response={200: LivelihoodOut, 404: ErrorOut})
@api_scoped("household.view")
def household_livelihood(request: HttpRequest, code: str) -> Status[Any]:
    """A household's enterprise links and its income by period (baseline / follow-up marked)."""
    actor = _actor(request)
    try:
        household = household_for(actor, code)
    except Http404:
        return Status(404, _not_found("code"))
    links = list(selectors.household_links(actor, household))
    cut = min((link.started_on for link in links), default=None)
    income = selectors.household_income(actor, household, cut)
    return Status(
        200,
        {
            "household": household.code,
            "links": [_link(link) for link in links],
            "income": [
                {"start": r.start, "end": r.end, "months": r.months, "total": r.total, "monthly": r.monthly,
                 "by_source": r.by_source, "phase": r.phase}
                for r in income
            ],
        },
    )  # fmt: skip


@router.post("/households/{code}/links", response={201: LinkOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("livelihood.link")
def create_link(request: HttpRequest, code: str, body: LinkIn) -> Status[Any]:
    """Link a household (or a member) to an enterprise; errors name their field in Thai and English."""
    actor = _actor(request)
    try:
        household = household_for(actor, code, "livelihood.link")
        person = person_for(actor, household, body.person, "livelihood.link") if body.person else None
    except Http404:
        return Status(404, _not_found("code" if not body.person else "person"))
    try:
        e = selectors.enterprise_for(actor, body.enterprise)
    except Http404:
        return Status(404, _not_found("enterprise"))
    referral = None
    if body.referral:
        referral = referrals_visible(actor).filter(ref=body.referral, household=household).first()
        if referral is None:
            return Status(404, _not_found("referral"))
    try:
        link = services.link_create(
            actor=actor, enterprise=e, household=household, person=person, role=body.role,
            started_on=body.started_on, referral=referral, programme=body.programme,
        )  # fmt: skip
    except services.LivelihoodInvalid as exc:
        return Status(422, _errors(exc.problems))
    except PermissionDenied:
        return Status(404, _not_found("code"))
    return Status(201, _link(link))


@router.post("/households/{code}/income", response={201: LivelihoodOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("income.record")
def record_income(request: HttpRequest, code: str, body: IncomeIn) -> Status[Any]:
    """Income of one period of whole months, an amount in baht per source (``amounts``:
    source code → baht) — the phone's follow-up. All sources are written, or none."""
    actor = _actor(request)
    try:
        household = household_for(actor, code, "income.record")
    except Http404:
        return Status(404, _not_found("code"))
    if not body.amounts:
        problem = services.Problem("amounts", "ต้องมีรายได้อย่างน้อยหนึ่งแหล่ง", "give at least one source")
        return Status(422, _errors([problem]))
    problems = []
    for source, amount in body.amounts.items():
        problems += services.income_problems(
            source=source, period_start=body.period_start, period_end=body.period_end, amount_baht=amount
        )
    if problems:
        unique = {(p.field, p.en): p for p in problems}
        return Status(422, _errors(list(unique.values())))
    try:
        with transaction.atomic():
            for source, amount in body.amounts.items():
                services.income_record(
                    actor=actor, household=household, source=source, period_start=body.period_start,
                    period_end=body.period_end, amount_baht=amount, note=body.note, method=IncomeMethod.API,
                )  # fmt: skip
    except PermissionDenied:
        return Status(404, _not_found("code"))
    links = list(selectors.household_links(actor, household))
    cut = min((link.started_on for link in links), default=None)
    return Status(
        201,
        {
            "household": household.code,
            "links": [_link(link) for link in links],
            "income": [
                {"start": r.start, "end": r.end, "months": r.months, "total": r.total, "monthly": r.monthly,
                 "by_source": r.by_source, "phase": r.phase}
                for r in selectors.household_income(actor, household, cut)
            ],
        },
    )  # fmt: skip


@router.get("/livelihoods/impact", response=ImpactOut)
@api_scoped("impact.view")
def impact(request: HttpRequest, filters: Query[ImpactFilter]) -> dict[str, Any]:
    """Income change of linked households and of their comparison group (aggregates only;
    a group of fewer than 5 is withheld from callers who cannot see its households)."""
    actor = _actor(request)
    e = selectors.enterprises_visible(actor).filter(code=filters.enterprise).first() if filters.enterprise else None
    imp = selectors.impact(actor, area_code=filters.area or None, enterprise=e, programme=filters.programme)
    hidden = imp.suppressed
    return {
        "linked_households": imp.linked_households,
        "suppressed": hidden,
        "linked": None if hidden else _figures(imp.comparison.linked),
        "comparison": None if hidden else _figures(imp.comparison.comparison),
        "matched": imp.comparison.matched,
        "pct_difference": None if hidden else imp.comparison.pct_difference,
    }
