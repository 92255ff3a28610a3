"""Forum endpoints of the REST API (v1): the forums the caller may see, a forum's agenda (the
items of the caller's area), recording a resolution, and a household's standing on the list.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from khm.api.access import api_scoped
from khm.api.errors import not_found_payload as _not_found
from khm.api.errors import problems_payload as _errors
from khm.forums import selectors, services
from khm.forums.models import AgendaItem, Forum
from khm.forums.standing import status_of
from khm.livelihoods.models import Enterprise
from khm.referrals.selectors import agencies
from khm.registry.access import household_for

router = Router(tags=["forums"])


class ErrorOut(Schema):
    errors: list[dict[str, str]]


class ForumOut(Schema):
    ref: str
    area_code: str
    level: int
    round: str
    number: int
    year_be: int
    title: str
    held_on: dt.date
    place: str
    status: str


class ResolutionOut(Schema):
    kind: str
    text: str
    decided_on: dt.date
    effects: list[str]
    signatures: list[dict[str, str]]


class ItemOut(Schema):
    number: int
    kind: str
    title: str
    detail: str
    area_code: str
    household: str
    referral: str
    status: str
    data: dict[str, Any]
    resolution: ResolutionOut | None


class TaskIn(Schema):
    task: str
    due_on: dt.date
    agency: str = ""
    responsible: str = ""
    need: str = ""


class ResolutionIn(Schema):
    kind: str
    text: str
    decided_on: dt.date
    signatures: list[dict[str, str]] = []
    agencies: list[str] = []
    need: str = ""
    tasks: list[TaskIn] = []
    household: str = ""
    corrections: dict[str, str] = {}
    enterprise: str = ""
    link_role: str = "member"


class StandingOut(Schema):
    household: str
    status: str | None
    since: dt.date | None
    follow_until: dt.date | None


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _forum(f: Forum) -> dict[str, Any]:
    return {
        "ref": f.ref, "area_code": f.area_code, "level": f.level, "round": f.round, "number": f.number,
        "year_be": f.year_be, "title": f.title, "held_on": f.held_on, "place": f.place, "status": f.status,
    }  # fmt: skip


def _item(i: AgendaItem) -> dict[str, Any]:
    res = getattr(i, "resolution", None)
    return {
        "number": i.number, "kind": i.kind, "title": i.title, "detail": i.detail, "area_code": i.area_code,
        "household": i.household.code if i.household else "", "referral": i.referral.ref if i.referral else "",
        "status": i.status, "data": i.data,
        "resolution": None if res is None else {
            "kind": res.kind, "text": res.text, "decided_on": res.decided_on, "effects": res.effects,
            "signatures": res.signatures,
        },
    }  # fmt: skip


@router.get("/forums", response=list[ForumOut])
@api_scoped("forum.view")
def list_forums(request: HttpRequest) -> list[dict[str, Any]]:
    """Forums in or above the caller's area, newest first."""
    return [_forum(f) for f in selectors.forums_visible(_actor(request))[:500]]


@router.get("/forums/{ref}/agenda", response={200: list[ItemOut], 404: ErrorOut})
@api_scoped("forum.view")
def agenda(request: HttpRequest, ref: str) -> Status[Any]:
    """The forum's agenda items in the caller's area (others are left out)."""
    actor = _actor(request)
    try:
        forum = selectors.forum_for(actor, ref)
    except Http404:
        return Status(404, _not_found("ref"))
    return Status(200, [_item(i) for i in selectors.items_visible(actor, forum).order_by("number")])


@router.post(
    "/forums/{ref}/agenda/{number}/resolution", response={201: ItemOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
@api_scoped("forum.manage")
def resolve(request: HttpRequest, ref: str, number: int, body: ResolutionIn) -> Status[Any]:
    """Record the forum's resolution on an item; it takes effect at once (standing, referrals,
    appeal decision). Errors name their field in Thai and English."""
    actor = _actor(request)
    try:
        forum = selectors.forum_for(actor, ref)
        item = selectors.item_for(actor, forum, number)
    except Http404:
        return Status(404, _not_found("ref"))
    found = {a.code: a for a in agencies().filter(code__in=body.agencies + [t.agency for t in body.tasks])}
    missing = [c for c in body.agencies + [t.agency for t in body.tasks if t.agency] if c not in found]
    if missing:
        return Status(404, _not_found(f"agencies: {', '.join(missing)}"))
    enterprise = None
    if body.enterprise:
        enterprise = Enterprise.objects.filter(code=body.enterprise, active=True).first()
        if enterprise is None:
            return Status(404, _not_found("enterprise"))
    household = None
    if body.household:
        try:
            household = household_for(actor, body.household)
        except Http404:
            return Status(404, _not_found("household"))
    data = services.ResolutionInput(
        kind=body.kind, text=body.text, decided_on=body.decided_on, signatures=body.signatures,
        agencies=[found[c] for c in body.agencies], need=body.need,
        tasks=[services.TaskInput(task=t.task, due_on=t.due_on, agency=found.get(t.agency),
                                  responsible=t.responsible, need=t.need) for t in body.tasks],
        household=household, corrections=body.corrections or None, enterprise=enterprise,
        link_role=body.link_role,
    )  # fmt: skip
    try:
        services.resolve(actor=actor, item=item, data=data)
    except services.ForumInvalid as exc:
        return Status(422, _errors(exc.problems))
    except PermissionDenied:
        problem = services.Problem("ref", "ท่านไม่มีสิทธิ์บันทึกมติของเวทีนี้", "you may not record this forum's resolutions")
        return Status(403, _errors([problem]))
    return Status(201, _item(selectors.item_for(actor, forum, number)))


@router.get("/households/{code}/standing", response={200: StandingOut, 404: ErrorOut})
@api_scoped("forum.view")
def standing(request: HttpRequest, code: str) -> Status[Any]:
    """Where the household stands on the poor list (null: not on it)."""
    actor = _actor(request)
    try:
        household = household_for(actor, code, "forum.view")
    except Http404:
        return Status(404, _not_found("code"))
    row, _events = selectors.standing_of(actor, household)
    return Status(
        200,
        {
            "household": household.code,
            "status": row.status if row else status_of(household),
            "since": row.since if row else None,
            "follow_until": row.follow_until if row else None,
        },
    )
