"""Referral endpoints of the REST API (v1): the referrals the caller may see, referring a
household's need to an agency, moving a referral along the workflow, and the agencies.

An agency worker gets only their agency's referrals and, of the household, only the contact
data copied into the referral (``contact``): never the registry.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from khm.api.access import api_authenticated, api_scoped
from khm.api.errors import not_found_payload as _not_found
from khm.api.errors import problems_payload as _errors
from khm.referrals import selectors, services
from khm.referrals.models import OPEN_STATES, Agency, Referral, State
from khm.referrals.panels import catalogue, household_needs
from khm.registry.access import household_for, person_for

router = Router(tags=["referrals"])

MAX_LIMIT = 500


class ErrorOut(Schema):
    errors: list[dict[str, str]]


class ReferralOut(Schema):
    ref: str
    household: str
    area_code: str
    need: str
    need_label: str
    agency: str
    service: str
    state: str
    note: str
    due_on: dt.date | None
    overdue: bool
    created_at: dt.datetime
    sent_at: dt.datetime | None
    closed_at: dt.datetime | None
    contact: dict[str, Any]


class ReferralIn(Schema):
    need: str
    agency: str
    service: str = ""
    person: str = ""
    note: str = ""
    send: bool = True


class TransitionIn(Schema):
    to: str
    reason: str = ""
    agency: str = ""


class ListFilter(Schema):
    state: str = ""
    agency: str = ""
    limit: int = 100
    offset: int = 0


class ServiceOut(Schema):
    code: str
    name_th: str
    name_en: str
    needs: list[str]
    due_days: int


class AgencyOut(Schema):
    code: str
    name_th: str
    name_en: str
    type: str
    areas: list[str]
    email: str
    services: list[ServiceOut]


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _out(r: Referral) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "ref": r.ref,
        "household": r.household.code,
        "area_code": r.area_code,
        "need": r.need,
        "need_label": r.need_label,
        "agency": r.agency.code,
        "service": r.service.code if r.service else "",
        "state": r.state,
        "note": r.note,
        "due_on": r.due_on,
        "overdue": r.state in OPEN_STATES and r.due_on is not None and r.due_on < today,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "closed_at": r.closed_at,
        "contact": r.contact,
    }


@router.get("/referrals", response=list[ReferralOut])
@api_authenticated
def list_referrals(request: HttpRequest, filters: Query[ListFilter]) -> list[dict[str, Any]]:
    """Referrals the caller may see (officers: their area; agency workers: their agency's),
    newest first; ``state`` and ``agency`` (code) filter, ``limit`` up to 500."""
    qs = selectors.referrals_visible(_actor(request)).select_related("agency", "service", "household")
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.agency:
        qs = qs.filter(agency__code=filters.agency)
    limit = max(1, min(filters.limit, MAX_LIMIT))
    offset = max(0, filters.offset)
    return [_out(r) for r in qs.order_by("-created_at", "-id")[offset : offset + limit]]


@router.post("/households/{code}/referrals", response={201: ReferralOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("referral.create")
def create_referral(request: HttpRequest, code: str, body: ReferralIn) -> Status[Any]:
    """Refer one need of a household (a need code of the needs instrument) to an agency; sent
    at once unless ``send`` is false (a draft). Errors name their field in Thai and English."""
    actor = _actor(request)
    try:
        household = household_for(actor, code, "referral.create")
    except Http404:
        return Status(404, _not_found("code"))
    agency = selectors.agencies().filter(code=body.agency).first()
    if agency is None:
        return Status(404, _not_found("agency"))
    service = None
    if body.service:
        service = agency.services.filter(code=body.service).first()
        if service is None:
            return Status(404, _not_found("service"))
    person = None
    if body.person:
        try:
            person = person_for(actor, household, body.person, "referral.create")
        except Http404:
            return Status(404, _not_found("person"))
    found = {n.code: n for n in household_needs(actor, household)}
    need = found.get(body.need) or catalogue().needs.get(body.need)
    if need is None:
        problem = services.Problem("need", "ไม่รู้จักความจำเป็นนี้", "unknown need code")
        return Status(422, _errors([problem]))
    try:
        r = services.referral_create(
            actor=actor, household=household, need=need.code, need_label=need.label_th, agency=agency,
            service=service, person=person, note=body.note, send=body.send, source=need.source,
        )  # fmt: skip
    except services.ReferralInvalid as exc:
        return Status(422, _errors(exc.problems))
    except PermissionDenied:
        return Status(404, _not_found("code"))
    return Status(201, _out(r))


@router.post("/referrals/{ref}/transition", response={200: ReferralOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut})
@api_authenticated
def transition(request: HttpRequest, ref: str, body: TransitionIn) -> Status[Any]:
    """Move a referral along the workflow (``to``: a state). Agencies accept, return (with a
    reason), start, complete or find it not possible; officers send, cancel, or send a returned
    referral to another ``agency``. A move the workflow refuses is 409, with the reason in Thai
    and English; a move this caller may not make is 403."""
    actor = _actor(request)
    try:
        r = selectors.referral_for(actor, ref)
    except Http404:
        return Status(404, _not_found("ref"))
    agency: Agency | None = None
    if body.agency:
        agency = selectors.agencies().filter(code=body.agency, active=True).first()
        if agency is None:
            return Status(404, _not_found("agency"))
    if body.to not in State.values:
        problem = services.Problem("to", "ไม่รู้จักสถานะนี้", f"unknown state: use {', '.join(State.values)}")
        return Status(409, _errors([problem]))
    try:
        r = services.referral_transition(actor=actor, referral=r, to=body.to, reason=body.reason, agency=agency)
    except services.ReferralInvalid as exc:
        return Status(409, _errors(exc.problems))
    except PermissionDenied:
        problem = services.Problem("to", "ท่านไม่มีสิทธิ์ทำขั้นตอนนี้", "you may not make this move")
        return Status(403, _errors([problem]))
    return Status(200, _out(r))


@router.get("/agencies", response=list[AgencyOut])
@api_authenticated
def list_agencies(request: HttpRequest) -> list[dict[str, Any]]:
    """Active agencies, the areas they cover (code prefixes) and their active services."""
    return [
        {
            "code": a.code,
            "name_th": a.name_th,
            "name_en": a.name_en,
            "type": a.type,
            "areas": list(a.areas),
            "email": a.email,
            "services": [
                {
                    "code": s.code,
                    "name_th": s.name_th,
                    "name_en": s.name_en,
                    "needs": list(s.needs),
                    "due_days": s.due_days,
                }
                for s in a.services.all()
                if s.active
            ],
        }
        for a in selectors.agencies().filter(active=True)
    ]
