"""Writes of the agency directory (province admin, ``agency.manage``): agencies and their
services, every change audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from khm.accounts.models import Organisation, OrganisationKind
from khm.accounts.scoping import can
from khm.areas.models import Area
from khm.audit.services import audit_record, diff
from khm.referrals.models import Agency, Service
from khm.referrals.services import Problem, ReferralInvalid

AGENCY_FIELDS = ("name_th", "name_en", "type", "areas", "email", "line_to", "escalation_email", "active")
SERVICE_FIELDS = ("name_th", "name_en", "needs", "due_days", "active")


def _snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _home_area(codes: list[str]) -> Area | None:
    """The smallest area holding every covered area (the organisation's area: it gives its
    agency workers a scope)."""
    if not codes:
        return None
    prefix = codes[0]
    for c in codes[1:]:
        while not c.startswith(prefix):
            prefix = prefix[:-2]
    while prefix:
        found = Area.objects.filter(code=prefix).first()
        if found is not None:
            return found
        prefix = prefix[:-2]
    return None


def agency_problems(data: dict[str, Any], *, types: Iterable[str], new: bool) -> list[Problem]:
    problems = []
    if data.get("type") not in set(types):
        problems.append(Problem("type", "ไม่รู้จักประเภทหน่วยงานนี้", "unknown agency type"))
    areas = list(data.get("areas") or [])
    known = set(Area.objects.filter(code__in=areas).values_list("code", flat=True))
    missing = [c for c in areas if c not in known]
    if not areas:
        problems.append(Problem("areas", "ต้องระบุพื้นที่ที่รับผิดชอบ", "give the areas covered"))
    elif missing:
        problems.append(Problem("areas", f"ไม่พบพื้นที่: {', '.join(missing)}", f"no such area: {', '.join(missing)}"))
    if new:
        code = str(data.get("code") or "")
        if not code:
            problems.append(Problem("code", "ต้องระบุรหัส", "a code is required"))
        elif Agency.objects.filter(code=code).exists():
            problems.append(Problem("code", "รหัสนี้มีหน่วยงานใช้แล้ว", "another agency has this code"))
        org = data.get("organisation")
        if org is None and code and Organisation.objects.filter(code=code).exists():
            problems.append(
                Problem(
                    "organisation",
                    "มีองค์กรรหัสนี้แล้ว โปรดเลือกองค์กรนั้น",
                    "an organisation has this code: choose it",
                )
            )
        if org is not None and Agency.objects.filter(organisation=org).exists():
            problems.append(Problem("organisation", "องค์กรนี้มีหน่วยงานแล้ว", "this organisation already has an agency"))
    return problems


def agency_save(*, actor: Any, agency: Agency | None, data: dict[str, Any], types: Iterable[str]) -> Agency:
    """Create (``agency`` None) or change an agency. ``data`` holds the AGENCY_FIELDS and, for
    a new agency, ``code`` and ``organisation`` (an Organisation, or None to create one of
    kind "agency")."""
    if not can(actor, "agency.manage"):
        raise PermissionDenied
    problems = agency_problems(data, types=types, new=agency is None)
    if problems:
        raise ReferralInvalid(problems)
    values = {f: data[f] for f in AGENCY_FIELDS if f in data}
    values["name_th"] = str(values.get("name_th", "")).strip()
    values["name_en"] = str(values.get("name_en", "")).strip()
    with transaction.atomic():
        if agency is None:
            org = data.get("organisation")
            if org is None:
                org = Organisation.objects.create(
                    code=data["code"],
                    kind=OrganisationKind.AGENCY,
                    name_th=values["name_th"],
                    name_en=values["name_en"],
                    area=_home_area(values["areas"]),
                )
                audit_record(
                    actor=actor, action="organisation.create", object_type="organisation", object_ref=org.code,
                    changes={"kind": org.kind, "name_th": org.name_th, "area": org.area.code if org.area else ""},
                )  # fmt: skip
            agency = Agency.objects.create(code=data["code"], organisation=org, **values)
            audit_record(
                actor=actor, action="agency.create", object_type="agency", object_ref=agency.code,
                changes={**_snapshot(agency, AGENCY_FIELDS), "organisation": org.code},
            )  # fmt: skip
            return agency
        locked = Agency.objects.select_for_update().get(pk=agency.pk)
        before = _snapshot(locked, AGENCY_FIELDS)
        for f, v in values.items():
            setattr(locked, f, v)
        locked.save()
        changes = diff(before, _snapshot(locked, AGENCY_FIELDS))
        if changes:
            audit_record(
                actor=actor, action="agency.update", object_type="agency", object_ref=locked.code, changes=changes
            )
        return locked


def _service_code(agency: Agency, name: str) -> str:
    base = (slugify(name) or "service")[:50]
    code, n = base, 1
    while Service.objects.filter(agency=agency, code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def service_save(
    *, actor: Any, agency: Agency, service: Service | None, data: dict[str, Any], needs: Iterable[str]
) -> Service:
    """Create (``service`` None) or change one service of an agency."""
    if not can(actor, "agency.manage"):
        raise PermissionDenied
    if service is not None and service.agency_id != agency.pk:
        raise PermissionDenied
    known = set(needs)
    chosen = list(dict.fromkeys(data.get("needs") or []))
    problems = []
    if not chosen:
        problems.append(Problem("needs", "ต้องเลือกความจำเป็นอย่างน้อยหนึ่งข้อ", "choose at least one need"))
    elif unknown := [c for c in chosen if c not in known]:
        problems.append(
            Problem("needs", f"ไม่รู้จักความจำเป็น: {', '.join(unknown)}", f"unknown needs: {', '.join(unknown)}")
        )
    days = data.get("due_days")
    if not isinstance(days, int) or not 1 <= days <= 365:
        problems.append(Problem("due_days", "จำนวนวันต้องอยู่ระหว่าง 1–365", "days to act must be 1 to 365"))
    if not str(data.get("name_th") or "").strip():
        problems.append(Problem("name_th", "ต้องระบุชื่อ", "a name is required"))
    if problems:
        raise ReferralInvalid(problems)
    name_en = str(data.get("name_en") or "").strip()
    values: dict[str, Any] = {
        "name_th": str(data["name_th"]).strip(),
        "name_en": name_en,
        "needs": chosen,
        "due_days": days,
        "active": bool(data.get("active", True)),
    }
    with transaction.atomic():
        if service is None:
            s = Service.objects.create(agency=agency, code=_service_code(agency, name_en or chosen[0]), **values)
            audit_record(
                actor=actor, action="service.create", object_type="service", object_ref=f"{agency.code}/{s.code}",
                changes=_snapshot(s, SERVICE_FIELDS),
            )  # fmt: skip
            return s
        locked = Service.objects.select_for_update().get(pk=service.pk)
        before = _snapshot(locked, SERVICE_FIELDS)
        for f, v in values.items():
            setattr(locked, f, v)
        locked.save()
        changes = diff(before, _snapshot(locked, SERVICE_FIELDS))
        if changes:
            audit_record(
                actor=actor, action="service.update", object_type="service",
                object_ref=f"{agency.code}/{locked.code}", changes=changes,
            )  # fmt: skip
        return locked
