"""Every write to the registry. One transaction each, with its audit event.

Services take keyword-only arguments and an explicit ``actor``. They check the actor's
right to write in the target area themselves, so an API endpoint, a command or a page that
calls them cannot skip the check.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from khm.accounts.scoping import can
from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record, diff
from khm.core.changes import touch
from khm.core.crypto import encrypt, lookup_hash
from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.registry import errors
from khm.registry.models import (
    Household,
    Membership,
    MembershipEvent,
    Person,
    PersonStatus,
    Relation,
    new_code,
)

HOUSE_NO_RE = re.compile(r"^[0-9][0-9/\-]*$")
PERSON_FIELDS = (
    "title", "first_name", "last_name", "first_name_en", "last_name_en", "sex", "birth_date",
    "relation", "disability", "chronic_illness", "education", "occupation", "income_year",
)  # fmt: skip


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def validate_national_id(value: str) -> str:
    digits = normalise_digits(value)
    if len(digits) != 13 or not digits.isdigit():
        raise ValidationError({"national_id": errors.NID_FORMAT})
    if not is_valid_national_id(digits):
        raise ValidationError({"national_id": errors.NID_CHECKSUM})
    return digits


def _village(code: str) -> Area:
    try:
        return Area.objects.get(code=code, level=AreaLevel.VILLAGE)
    except Area.DoesNotExist:
        raise ValidationError({"village": errors.VILLAGE_UNKNOWN}) from None


def _check_house_no(house_no: str) -> str:
    value = house_no.strip().translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    if not HOUSE_NO_RE.match(value):
        raise ValidationError({"house_no": errors.HOUSE_NO_FORMAT})
    return value


def household_create(
    *,
    actor: Any,
    village_code: str,
    house_no: str,
    address_extra: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    code: str | None = None,
) -> Household:
    village = _village(village_code)
    if not can(actor, "household.create", village.code):
        raise PermissionDenied(errors.VILLAGE_OUTSIDE)
    house = _check_house_no(house_no)
    with transaction.atomic():
        hh = Household.objects.create(
            code=code or new_code("HH"),
            village=village,
            area_code=village.code,
            house_no=house,
            address_extra=address_extra,
            latitude=latitude,
            longitude=longitude,
        )
        audit_record(
            actor=actor,
            action="household.create",
            object_type="household",
            object_ref=hh.code,
            area_code=hh.area_code,
            changes={"house_no": [None, house], "village": [None, village.code]},
        )
    return hh


def household_update(*, actor: Any, household: Household, **fields: Any) -> Household:
    if not can(actor, "household.edit", household.area_code):
        raise PermissionDenied
    allowed = {"house_no", "address_extra", "latitude", "longitude", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)} here")
    if "house_no" in fields:
        fields["house_no"] = _check_house_no(fields["house_no"])
    with transaction.atomic():
        hh = Household.objects.select_for_update().get(pk=household.pk)
        old = _snapshot(hh, tuple(allowed))
        for k, v in fields.items():
            setattr(hh, k, v)
        hh.save()
        changes = diff(old, _snapshot(hh, tuple(allowed)))
        if changes:
            audit_record(
                actor=actor,
                action="household.update",
                object_type="household",
                object_ref=hh.code,
                area_code=hh.area_code,
                changes={
                    k: [str(a) if a is not None else None, str(b) if b is not None else None]
                    for k, (a, b) in changes.items()
                },
            )
    return hh


def household_transfer(*, actor: Any, household: Household, village_code: str, reason: str) -> Household:
    """Move a household to another village: a recorded act, not an edit."""
    target = _village(village_code)
    if target.code == household.area_code:
        raise ValidationError({"village": errors.TRANSFER_SAME})
    if not (can(actor, "household.transfer", household.area_code) and can(actor, "household.transfer", target.code)):
        raise PermissionDenied(errors.TRANSFER_DENIED)
    with transaction.atomic():
        hh = Household.objects.select_for_update().get(pk=household.pk)
        old = hh.area_code
        hh.village = target
        hh.area_code = target.code
        hh.save(update_fields=["village", "area_code", "updated_at"])
        touch([old])  # the village it left changes too (the audit event names the new one)
        audit_record(
            actor=actor,
            action="household.transfer",
            object_type="household",
            object_ref=hh.code,
            area_code=target.code,
            changes={"village": [old, target.code]},
            note=reason[:500],
        )
    return hh


def _clean_person(data: dict[str, Any]) -> dict[str, Any]:
    if not (data.get("first_name") or "").strip() or not (data.get("last_name") or "").strip():
        raise ValidationError({"first_name": errors.NAME_REQUIRED})
    data["first_name"] = data["first_name"].strip()
    data["last_name"] = data["last_name"].strip()
    bd = data.get("birth_date")
    if bd and bd > dt.date.today():
        raise ValidationError({"birth_date": errors.DATE_FUTURE})
    inc = data.get("income_year")
    if inc is not None and not 0 <= int(inc) <= 100_000_000:
        raise ValidationError({"income_year": errors.INCOME_RANGE})
    return data


def _nid_fields(national_id: str | None) -> dict[str, Any]:
    if not national_id:
        return {"national_id_enc": "", "national_id_hash": None}
    digits = validate_national_id(national_id)
    return {"national_id_enc": encrypt(digits), "national_id_hash": lookup_hash(digits)}


def person_create(
    *,
    actor: Any,
    household: Household,
    national_id: str | None,
    started_on: dt.date | None = None,
    start_event: str = MembershipEvent.REGISTERED,
    **data: Any,
) -> Person:
    if not can(actor, "household.edit", household.area_code):
        raise PermissionDenied
    data = _clean_person({k: data.get(k) for k in PERSON_FIELDS if k in data})
    for k in ("title", "first_name_en", "last_name_en", "disability", "chronic_illness", "education", "occupation"):
        data[k] = data.get(k) or ""
    nid = _nid_fields(national_id)
    with transaction.atomic():
        if (
            data.get("relation") == Relation.HEAD
            and household.people.filter(relation=Relation.HEAD, status=PersonStatus.MEMBER).exists()
        ):
            raise ValidationError({"relation": errors.HEAD_EXISTS})
        try:
            with transaction.atomic():
                person = Person.objects.create(ref=new_code("P", 10), household=household, **nid, **data)
        except IntegrityError:
            raise ValidationError({"national_id": errors.NID_DUPLICATE}) from None
        Membership.objects.create(
            person=person,
            household=household,
            relation=person.relation,
            started_on=started_on,
            start_event=start_event,
        )
        audit_record(
            actor=actor,
            action="person.create",
            object_type="person",
            object_ref=person.ref,
            area_code=household.area_code,
            changes={k: [None, _jsonable(v)] for k, v in data.items() if v not in (None, "")}
            | ({"national_id": [None, "(set)"]} if nid["national_id_hash"] else {}),
        )
    return person


def person_update(*, actor: Any, person: Person, national_id: str | None = None, **data: Any) -> Person:
    if not can(actor, "household.edit", person.household.area_code):
        raise PermissionDenied
    with transaction.atomic():
        p = Person.objects.select_for_update().select_related("household").get(pk=person.pk)
        old = _snapshot(p, PERSON_FIELDS)
        merged = old | {k: v for k, v in data.items() if k in PERSON_FIELDS}
        merged["birth_date"] = data.get("birth_date", p.birth_date)
        cleaned = _clean_person(merged)
        if (
            cleaned.get("relation") == Relation.HEAD
            and p.relation != Relation.HEAD
            and p.household.people.filter(relation=Relation.HEAD, status=PersonStatus.MEMBER).exclude(pk=p.pk).exists()
        ):
            raise ValidationError({"relation": errors.HEAD_EXISTS})
        for k in PERSON_FIELDS:
            if k in data:
                setattr(
                    p,
                    k,
                    cleaned[k] if cleaned[k] is not None else ("" if k not in ("birth_date", "income_year") else None),
                )
        changes = diff(old, _snapshot(p, PERSON_FIELDS))
        if national_id is not None:
            nid = _nid_fields(national_id)
            if nid["national_id_hash"] != p.national_id_hash:
                p.national_id_enc, p.national_id_hash = nid["national_id_enc"], nid["national_id_hash"]
                changes["national_id"] = ["(set)" if old else None, "(changed)"]
        try:
            with transaction.atomic():
                p.save()
        except IntegrityError:
            raise ValidationError({"national_id": errors.NID_DUPLICATE}) from None
        if changes:
            audit_record(
                actor=actor,
                action="person.update",
                object_type="person",
                object_ref=p.ref,
                area_code=p.household.area_code,
                changes=changes,
            )
    return p


def person_leave(*, actor: Any, person: Person, event: str, on: dt.date | None, note: str = "") -> Person:
    """A member moves out or dies: close the membership, keep the person and history."""
    if event not in (MembershipEvent.MOVED_OUT, MembershipEvent.DIED):
        raise ValueError("event must be moved_out or died")
    if not can(actor, "household.edit", person.household.area_code):
        raise PermissionDenied
    with transaction.atomic():
        p = Person.objects.select_for_update().select_related("household").get(pk=person.pk)
        p.status = PersonStatus.DECEASED if event == MembershipEvent.DIED else PersonStatus.MOVED_OUT
        p.save(update_fields=["status", "updated_at"])
        Membership.objects.filter(person=p, household=p.household, ended_on__isnull=True, end_event="").update(
            ended_on=on or dt.date.today(), end_event=event, note=note[:200]
        )
        audit_record(
            actor=actor,
            action="person.update",
            object_type="person",
            object_ref=p.ref,
            area_code=p.household.area_code,
            changes={"status": [PersonStatus.MEMBER, p.status]},
            note=note[:500],
        )
    return p


def person_reveal_national_id(*, actor: Any, person: Person) -> str:
    """The clear ID for a role that needs it; the read itself is audited."""
    if not can(actor, "person.view_full_id", person.household.area_code):
        raise PermissionDenied
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="person.reveal_id",
            object_type="person",
            object_ref=person.ref,
            area_code=person.household.area_code,
        )
    return person.national_id()
