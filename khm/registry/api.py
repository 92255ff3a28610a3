"""Registry endpoints of the REST API (v1). Every read goes through selectors/access.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from khm.accounts.scoping import can
from khm.api.access import api_authenticated, api_scoped
from khm.audit.services import audit_record
from khm.registry import selectors, services
from khm.registry.access import household_for
from khm.registry.models import Household, Person

router = Router(tags=["registry"])


def actor(request: HttpRequest) -> Any:
    """The user the API authenticated (session or bearer token)."""
    return getattr(request, "auth", None)


class PersonOut(Schema):
    ref: str
    national_id_masked: str
    title: str
    first_name: str
    last_name: str
    sex: str
    birth_date: dt.date | None
    relation: str
    status: str


class HouseholdOut(Schema):
    code: str
    village_code: str
    house_no: str
    status: str
    head_name: str | None = None


class HouseholdDetailOut(HouseholdOut):
    latitude: float | None
    longitude: float | None
    members: list[PersonOut]


class HouseholdPageOut(Schema):
    items: list[HouseholdOut]
    next_cursor: str | None


class SearchIn(Schema):
    q: str = ""
    area: str | None = None
    after: str | None = None
    limit: int = 50


class HouseholdIn(Schema):
    village_code: str
    house_no: str
    address_extra: str = ""
    latitude: float | None = None
    longitude: float | None = None


class PersonIn(Schema):
    national_id: str | None = None
    title: str = ""
    first_name: str
    last_name: str
    first_name_en: str = ""
    last_name_en: str = ""
    sex: str
    birth_date: dt.date | None = None
    relation: str
    disability: str = ""
    chronic_illness: str = ""
    education: str = ""
    occupation: str = ""
    income_year: int | None = None


class ErrorOut(Schema):
    errors: list[dict[str, str]]


def _hh_out(h: Household) -> dict[str, Any]:
    heads = getattr(h, "heads", None)
    head = heads[0] if heads else None
    return {
        "code": h.code,
        "village_code": h.area_code,
        "house_no": h.house_no,
        "status": h.status,
        "head_name": head.full_name if head else None,
    }


def _person_out(p: Person) -> dict[str, Any]:
    return {
        "ref": p.ref,
        "national_id_masked": p.national_id_masked,
        "title": p.title,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "sex": p.sex,
        "birth_date": p.birth_date,
        "relation": p.relation,
        "status": p.status,
    }


def _page(request: HttpRequest, body: SearchIn) -> dict[str, Any]:
    area = body.area if body.area and body.area.isdigit() and len(body.area) in (2, 4, 6, 8) else None
    page = selectors.household_list(
        actor(request), query=body.q, area_code=area, after=body.after, limit=max(1, min(body.limit, 200))
    )
    return {"items": [_hh_out(h) for h in page.rows], "next_cursor": page.next_cursor}


@router.get("/households", response=HouseholdPageOut)
@api_scoped("household.view")
def list_households(
    request: HttpRequest, area: str | None = None, after: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Households in your area, in pages (``next_cursor`` → ``after``)."""
    return _page(request, SearchIn(area=area, after=after, limit=limit))


@router.post("/households/search", response=HouseholdPageOut)
@api_scoped("household.view")
def search_households(request: HttpRequest, body: SearchIn) -> dict[str, Any]:
    """Search by name, national ID or house number. POST keeps personal data out of URLs."""
    return _page(request, body)


@router.get("/households/{code}", response=HouseholdDetailOut)
@api_scoped("household.view")
def get_household(request: HttpRequest, code: str) -> dict[str, Any]:
    try:
        h = household_for(actor(request), code)
    except Http404:
        raise HttpError(404, "not found") from None
    from django.db import transaction

    with transaction.atomic():
        audit_record(
            actor=actor(request),
            action="household.view",
            object_type="household",
            object_ref=h.code,
            area_code=h.area_code,
        )
    return {
        **_hh_out(h),
        "latitude": float(h.latitude) if h.latitude is not None else None,
        "longitude": float(h.longitude) if h.longitude is not None else None,
        "members": [_person_out(p) for p in selectors.household_members(h)],
    }


@router.post("/households", response={201: HouseholdOut, 422: ErrorOut, 403: ErrorOut})
@api_scoped("household.create")
def create_household(request: HttpRequest, body: HouseholdIn) -> Status[dict[str, Any]]:
    from khm.api.errors import bilingual, validation_payload
    from khm.registry import errors

    try:
        h = services.household_create(actor=actor(request), **body.dict())
    except ValidationError as exc:
        return Status(422, validation_payload(exc))
    except PermissionDenied:
        return Status(403, {"errors": [{"field": "village_code", **bilingual(errors.VILLAGE_OUTSIDE)}]})
    return Status(201, _hh_out(h))


@router.post("/households/{code}/people", response={201: PersonOut, 422: ErrorOut, 404: ErrorOut})
@api_scoped("household.edit")
def add_person(request: HttpRequest, code: str, body: PersonIn) -> Status[dict[str, Any]]:
    from khm.api.errors import bilingual, validation_payload
    from khm.registry import errors

    try:
        h = household_for(actor(request), code, "household.edit")
    except Http404:
        return Status(404, {"errors": [{"field": "code", **bilingual(errors.HOUSEHOLD_NOT_FOUND)}]})
    data = body.dict()
    nid = data.pop("national_id") or None
    if nid:
        try:
            nid = services.validate_national_id(nid)
        except ValidationError as exc:
            return Status(422, validation_payload(exc))
    try:
        p = services.person_create(actor=actor(request), household=h, national_id=nid, **data)
    except ValidationError as exc:
        return Status(422, validation_payload(exc))
    return Status(201, _person_out(p))


@router.get("/me")
@api_authenticated
def me(request: HttpRequest) -> dict[str, Any]:
    user = actor(request)
    return {
        "username": user.username,
        "can": {a: can(user, a) for a in ("household.view", "household.create", "household.edit", "export.personal")},
    }
