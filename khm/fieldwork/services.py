"""Every write of fieldwork: campaigns and assignments, photos, verifications (one service
for the phone, the desk and imported surveys), and resolving sync conflicts.

``verification_submit`` is idempotent by the device's key and writes everything or nothing:
the verification, the household and member changes that do not conflict (through the
registry's own services, so they are audited there), one :class:`Conflict` per field the
server changed since the download, and the questionnaire as an assessment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from khm.accounts.scoping import can, scope_for
from khm.assessment import instruments as inst
from khm.assessment import services as assessment_services
from khm.audit.services import audit_record
from khm.core.dates import parse_thai_date
from khm.core.problems import Invalid, Problem
from khm.engines import scoring
from khm.fieldwork.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    Conflict,
    ConflictStatus,
    Method,
    Outcome,
    Photo,
    Selection,
    Verification,
)
from khm.registry import services as registry
from khm.registry.models import Household, HouseholdStatus, MembershipEvent, Person, PersonStatus, new_code
from khm.sources.models import PersonSource

HOUSEHOLD_FIELDS = ("house_no", "address_extra")
PERSON_FIELDS = ("first_name", "last_name", "relation")
PERSON_STATUS: dict[str, str] = {
    PersonStatus.MOVED_OUT: MembershipEvent.MOVED_OUT,
    PersonStatus.DECEASED: MembershipEvent.DIED,
}
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class SubmissionInvalid(Invalid):
    """What is wrong with a submission, each problem naming its field in Thai and English."""


def _p(field: str, th: str, en: str) -> Problem:
    return Problem(field, th, en)


# --------------------------------------------------------------------------- campaigns


def campaign_create(
    *, actor: Any, name: str, area_code: str, round: str, selection: str, due_on: dt.date | None = None
) -> Campaign:
    """A campaign over ``area_code`` (within the actor's scope): one assignment per selected
    household, nobody assigned yet."""
    if not can(actor, "campaign.manage", area_code):
        raise PermissionDenied
    problems = []
    if not name.strip():
        problems.append(_p("name", "ต้องมีชื่อรอบการตรวจสอบ", "a campaign needs a name"))
    if not (round.isdigit() and len(round) == 4):
        problems.append(_p("round", "ต้องเป็นปี พ.ศ. เช่น 2568", "must be a Buddhist-Era year such as 2568"))
    if selection not in Selection.values:
        problems.append(_p("selection", "ไม่รู้จักวิธีเลือกครัวเรือนนี้", "unknown selection"))
    if problems:
        raise SubmissionInvalid(problems)
    scope = scope_for(actor, "campaign.manage").restricted_to(area_code)
    households = Household.objects.filter(scope.q("area_code"), status=HouseholdStatus.ACTIVE)
    if selection == Selection.LISTED_UNVERIFIED:
        listed_ids = PersonSource.objects.values("person__household_id")
        verified = Verification.objects.filter(campaign__round=round).values("household_id")
        households = households.filter(pk__in=listed_ids).exclude(pk__in=verified)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            code=new_code("V"),
            name=name.strip(),
            area_code=area_code,
            round=round,
            selection=selection,
            due_on=due_on,
            created_by=actor,
        )
        rows = [
            Assignment(campaign=campaign, household_id=pk, area_code=area)
            for pk, area in households.values_list("pk", "area_code").iterator(chunk_size=5000)
        ]
        Assignment.objects.bulk_create(rows, batch_size=2000)
        audit_record(
            actor=actor,
            action="campaign.create",
            object_type="campaign",
            object_ref=campaign.code,
            area_code=area_code,
            changes={"households": len(rows), "round": round, "selection": selection},
        )
    return campaign


def campaign_assign(
    *, actor: Any, campaign: Campaign, assignee: Any, villages: Iterable[str] = (), households: Iterable[int] = ()
) -> int:
    """Give the campaign's households in ``villages`` (or the listed ``households``) to
    ``assignee``, who must be allowed to verify there. Returns how many were assigned.
    A household taken from someone else disappears from their phone at their next sync."""
    if campaign.status != CampaignStatus.OPEN:
        raise SubmissionInvalid([_p("campaign", "รอบการตรวจสอบนี้ปิดแล้ว", "this campaign is closed")])
    manage = scope_for(actor, "campaign.manage")
    qs = Assignment.objects.filter(manage.q("area_code"), campaign=campaign).exclude(status=AssignmentStatus.DONE)
    villages, households = list(villages), list(households)
    if villages:
        qs = qs.filter(area_code__in=villages)
    if households:
        qs = qs.filter(household_id__in=households)
    if not villages and not households:
        return 0
    target = scope_for(assignee, "verification.submit")
    areas = set(qs.values_list("area_code", flat=True).distinct())
    outside = sorted(a for a in areas if not target.contains(a))
    if outside:
        raise SubmissionInvalid(
            [
                _p(
                    "assignee",
                    f"ผู้นี้ไม่มีสิทธิ์ตรวจสอบในหมู่บ้าน {', '.join(outside)}",
                    f"this person may not verify in villages {', '.join(outside)}",
                )
            ]
        )
    with transaction.atomic():
        n = qs.update(
            assignee=assignee, status=AssignmentStatus.WAITING, assigned_at=timezone.now(), downloaded_at=None
        )
        audit_record(
            actor=actor,
            action="assignment.update",
            object_type="campaign",
            object_ref=campaign.code,
            area_code=campaign.area_code,
            changes={"assignee": assignee.username, "households": n, "villages": villages[:50]},
        )
    return n


def campaign_close(*, actor: Any, campaign: Campaign) -> Campaign:
    if not can(actor, "campaign.manage", campaign.area_code):
        raise PermissionDenied
    with transaction.atomic():
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = timezone.now()
        campaign.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor, action="campaign.update", object_type="campaign", object_ref=campaign.code,
            area_code=campaign.area_code, changes={"status": [CampaignStatus.OPEN, CampaignStatus.CLOSED]},
        )  # fmt: skip
    return campaign


def assignments_downloaded(*, actor: Any, ids: Sequence[int]) -> None:
    """The phone now holds these households: recorded and audited (a read of personal data)."""
    if not ids:
        return
    with transaction.atomic():
        Assignment.objects.filter(pk__in=ids, assignee=actor, status=AssignmentStatus.WAITING).update(
            status=AssignmentStatus.DOWNLOADED, downloaded_at=timezone.now()
        )
        audit_record(
            actor=actor, action="fieldwork.download", object_type="assignment",
            object_ref=f"{len(ids)} households", changes={"assignments": list(ids)[:200]},
        )  # fmt: skip


# --------------------------------------------------------------------------- photos


def photo_store(*, actor: Any, key: str, household: Household, content: bytes) -> tuple[Photo, bool]:
    """Store one photo once per key; (photo, created). Only real images, within the size limit."""
    from PIL import Image, UnidentifiedImageError

    if not can(actor, "verification.submit", household.area_code):
        raise PermissionDenied
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise SubmissionInvalid(
            [_p("key", "ต้องมีรหัสรูปภาพ (ไม่เกิน 80 ตัวอักษร)", "a photo needs a key of at most 80 characters")]
        )
    existing = Photo.objects.filter(key=key).first()
    if existing is not None:
        if existing.uploaded_by_id != actor.pk or existing.household_id != household.pk:
            raise SubmissionInvalid([_p("key", "รหัสรูปภาพนี้ถูกใช้แล้ว", "this photo key is already used")])
        return existing, False
    if len(content) > settings.KHM_PHOTO_MAX_BYTES:
        mb = settings.KHM_PHOTO_MAX_BYTES / 1024 / 1024
        raise SubmissionInvalid([_p("file", f"รูปใหญ่เกิน {mb:.0f} MB", f"the photo is larger than {mb:.0f} MB")])
    try:
        with Image.open(io.BytesIO(content)) as img:
            fmt, (width, height) = img.format, img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise SubmissionInvalid([_p("file", "ไฟล์นี้ไม่ใช่รูปภาพ", "the file is not an image")]) from None
    if fmt not in IMAGE_FORMATS:
        raise SubmissionInvalid([_p("file", "ใช้รูป JPEG, PNG หรือ WebP", "use a JPEG, PNG or WebP image")])
    digest = hashlib.sha256(content).hexdigest()
    name = f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.{IMAGE_FORMATS[fmt]}"  # no personal data in file names
    try:
        with transaction.atomic():
            photo = Photo(
                key=key, household=household, area_code=household.area_code, sha256=digest,
                bytes=len(content), width=width, height=height, uploaded_by=actor,
            )  # fmt: skip
            photo.image.save(name, ContentFile(content), save=False)
            photo.save()
    except IntegrityError:  # the same key arrived twice at once
        return Photo.objects.get(key=key), False
    return photo, True


# --------------------------------------------------------------------------- verification


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any, field: str, problems: list[Problem]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = _s(value)
    if not text:
        problems.append(_p(field, "ต้องระบุวันที่", "a date is needed"))
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parse_thai_date(text)
    except ValueError:
        problems.append(_p(field, "อ่านวันที่ไม่ได้ ใช้ วัน/เดือน/ปี พ.ศ.", "date not understood: use day/month/Buddhist year"))
        return None


def _gps(gps: Any, problems: list[Problem]) -> tuple[Decimal | None, Decimal | None, float | None]:
    if not gps:
        return None, None, None
    try:
        lat, lon = (
            Decimal(str(gps["lat"])).quantize(Decimal("0.000001")),
            Decimal(str(gps["lon"])).quantize(Decimal("0.000001")),
        )
        acc = float(gps["accuracy"]) if gps.get("accuracy") is not None else None
    except (KeyError, TypeError, ValueError, InvalidOperation):
        problems.append(_p("gps", "พิกัดไม่ถูกต้อง", "the GPS point is not valid"))
        return None, None, None
    # Thailand lies within 5–21° N, 97–106° E.
    if not (Decimal(5) <= lat <= Decimal(21) and Decimal(97) <= lon <= Decimal(106)):
        problems.append(_p("gps", "พิกัดอยู่นอกประเทศไทย", "the GPS point is outside Thailand"))
        return None, None, None
    return lat, lon, acc


def verification_check(
    actor: Any, household: Household, payload: dict[str, Any], method: str, campaign: Campaign | None
) -> tuple[list[Problem], dict[str, Any]]:
    """Every problem of a submission (nothing written) and its cleaned values; the imports
    check all rows with it before committing any."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    outcome = _s(payload.get("outcome"))
    if outcome not in Outcome.values:
        problems.append(_p("outcome", "ต้องเลือกผลการตรวจสอบ", f"choose an outcome: {', '.join(Outcome.values)}"))
    out["outcome"] = outcome
    out["verified_on"] = _date(payload.get("verified_on"), "verified_on", problems)
    if out["verified_on"] and out["verified_on"] > dt.date.today() + dt.timedelta(days=1):
        problems.append(_p("verified_on", "วันที่ตรวจสอบอยู่ในอนาคต", "the verification date is in the future"))
    out["lat"], out["lon"], out["acc"] = _gps(payload.get("gps"), problems)
    out["moved_to"] = _s(payload.get("moved_to"))[:200]
    if outcome == Outcome.MOVED and not out["moved_to"]:
        problems.append(_p("moved_to", "ย้ายไปที่ไหน", "where did the household move to?"))
    out["duplicate_of"] = None
    if outcome == Outcome.DUPLICATE:
        dup = Household.objects.filter(
            scope_for(actor, "verification.submit").q("area_code"), code=_s(payload.get("duplicate_of"))
        ).first()
        if dup is None or dup.pk == household.pk:
            problems.append(
                _p("duplicate_of", "ระบุรหัสครัวเรือนที่ซ้ำในพื้นที่ของท่าน", "give the code of the other household, in your area")
            )
        out["duplicate_of"] = dup
    if method == Method.FIELD and not payload.get("consent"):
        problems.append(
            _p(
                "consent",
                "ต้องแจ้งและได้รับความยินยอมก่อนบันทึก",
                "the household must be informed and consent before recording",
            )
        )
    photos = [str(k) for k in payload.get("photos") or []]
    found = {p.key: p for p in Photo.objects.filter(key__in=photos, household=household)}
    missing = [k for k in photos if k not in found]
    if missing:
        problems.append(
            _p(
                "photos",
                f"ยังไม่ได้รับรูป {len(missing)} รูป: ส่งรูปก่อน",
                f"{len(missing)} photo(s) not received yet: upload them first",
            )
        )
    out["photos"] = list(found.values())
    answers = payload.get("answers") or None
    if answers and outcome in (Outcome.CONFIRMED_POOR, Outcome.NOT_POOR):
        cap = inst.definition(inst.current_of_kind("capitals"))
        bmn = inst.definition(inst.current_of_kind("bmn"))
        trial = {"members": [], **{k: v for k, v in answers.items() if k in ("capitals", "bmn", "income")}}
        for sp in scoring.check_answers(cap or {"capitals": []}, bmn, trial):
            problems.append(_p(f"answers.{sp.path}", sp.th, sp.en))
    out["answers"] = answers
    members = {p.ref: p for p in household.people.all()}
    changes = payload.get("changes") or {}
    for ref, fields in (changes.get("members") or {}).items():
        if ref not in members:
            problems.append(_p(f"changes.members.{ref}", "ไม่ใช่สมาชิกของครัวเรือนนี้", "not a member of this household"))
        elif not isinstance(fields, dict) or set(fields) - {*PERSON_FIELDS, "status"}:
            problems.append(
                _p(
                    f"changes.members.{ref}",
                    "แก้ได้เฉพาะชื่อ นามสกุล ความสัมพันธ์ และสถานะ",
                    "only first name, last name, relation and status can change",
                )
            )
        elif "status" in fields and fields["status"] not in PERSON_STATUS:
            problems.append(
                _p(
                    f"changes.members.{ref}.status",
                    "สถานะต้องเป็น ย้ายออก หรือ เสียชีวิต",
                    "status must be moved_out or deceased",
                )
            )
    if set(changes.get("household") or {}) - set(HOUSEHOLD_FIELDS):
        problems.append(
            _p(
                "changes.household",
                "แก้ได้เฉพาะบ้านเลขที่และรายละเอียดที่อยู่",
                "only the house number and address details can change",
            )
        )
    for i, new in enumerate(changes.get("new_members") or []):
        if not _s(new.get("first_name")) or not _s(new.get("last_name")):
            problems.append(_p(f"changes.new_members[{i}]", "ต้องมีชื่อและนามสกุล", "first and last name are required"))
        if new.get("sex") not in ("M", "F"):
            problems.append(_p(f"changes.new_members[{i}].sex", "ต้องระบุเพศ", "sex is required (M or F)"))
    out["members"] = members
    return problems, out


def _apply_changes(
    actor: Any, v: Verification, household: Household, payload: dict[str, Any], members: dict[str, Person], on: dt.date
) -> list[Conflict]:
    """Apply what the device changed, field by field; keep a conflict where the registry
    changed the same field since the download (and to another value)."""
    base = payload.get("base") or {}
    changes = payload.get("changes") or {}
    conflicts: list[Conflict] = []

    def conflict(ref: str, field: str, b: Any, server: Any, device: Any) -> None:
        conflicts.append(
            Conflict(
                verification=v,
                household=household,
                area_code=household.area_code,
                person_ref=ref,
                field=field,
                base_value=b,
                server_value=server,
                device_value=device,
            )
        )

    hh_apply: dict[str, Any] = {}
    for field, device in (changes.get("household") or {}).items():
        server, b = getattr(household, field), (base.get("household") or {}).get(field)
        if _s(server) == _s(device):
            continue
        if _s(server) == _s(b):
            hh_apply[field] = _s(device)
        else:
            conflict("", field, b, server, device)
    if hh_apply:
        registry.household_update(actor=actor, household=household, **hh_apply)
    for ref, fields in (changes.get("members") or {}).items():
        person = members[ref]
        pbase = (base.get("members") or {}).get(ref) or {}
        apply: dict[str, Any] = {}
        for field, device in fields.items():
            server = getattr(person, field)
            if _s(server) == _s(device):
                continue
            if _s(server) != _s(pbase.get(field)):
                conflict(ref, field, pbase.get(field), server, device)
            elif field == "status":
                registry.person_leave(
                    actor=actor, person=person, event=PERSON_STATUS[device], on=on, note=f"verification {v.ref}"
                )
            else:
                apply[field] = _s(device)
        if apply:
            registry.person_update(actor=actor, person=person, **apply)
    for new in changes.get("new_members") or []:
        birth = None
        if _s(new.get("birth_date")):
            try:
                birth = dt.date.fromisoformat(_s(new["birth_date"]))
            except ValueError:
                birth = parse_thai_date(_s(new["birth_date"]))
        registry.person_create(
            actor=actor, household=household, national_id=_s(new.get("national_id")) or None,
            title=_s(new.get("title")), first_name=_s(new["first_name"]), last_name=_s(new["last_name"]),
            sex=new["sex"], birth_date=birth, relation=_s(new.get("relation")) or "other", started_on=on,
        )  # fmt: skip
    Conflict.objects.bulk_create(conflicts)
    return conflicts


def verification_submit(
    *,
    actor: Any,
    key: str,
    household: Household,
    payload: dict[str, Any],
    method: str = Method.FIELD,
    campaign: Campaign | None = None,
    device: str = "",
) -> tuple[Verification, bool]:
    """Store one verification; (verification, created). Sending the same key again returns
    the first one and changes nothing."""
    key = _s(key)
    if not key or len(key) > 80:
        raise SubmissionInvalid(
            [_p("key", "ต้องมีรหัสการส่ง (ไม่เกิน 80 ตัวอักษร)", "a submission needs a key of at most 80 characters")]
        )
    existing = Verification.objects.filter(key=key).first()
    if existing is not None:
        if existing.verified_by_id != actor.pk:
            raise SubmissionInvalid([_p("key", "รหัสการส่งนี้ถูกใช้แล้ว", "this submission key is already used")])
        return existing, False
    if not can(actor, "verification.submit", household.area_code):
        raise PermissionDenied
    assignment = None
    if campaign is not None:
        assignment = Assignment.objects.filter(campaign=campaign, household=household).first()
    # A phone may only send what was assigned to its user, in an open campaign.
    assigned = (
        assignment is not None
        and assignment.assignee_id == actor.pk
        and campaign is not None
        and campaign.status == CampaignStatus.OPEN
    )
    if method == Method.FIELD and not assigned:
        raise PermissionDenied
    problems, clean = verification_check(actor, household, payload, method, campaign)
    if problems:
        raise SubmissionInvalid(problems)
    on = clean["verified_on"]
    try:
        with transaction.atomic():
            v = Verification.objects.create(
                ref=new_code("VR"), key=key, campaign=campaign, assignment=assignment, household=household,
                area_code=household.area_code, outcome=clean["outcome"], notes=_s(payload.get("notes"))[:4000],
                moved_to=clean["moved_to"], duplicate_of=clean["duplicate_of"], verified_on=on, verified_by=actor,
                method=method, consent=bool(payload.get("consent")), latitude=clean["lat"], longitude=clean["lon"],
                accuracy_m=clean["acc"], device=_s(device)[:64], payload=payload,
            )  # fmt: skip
            Photo.objects.filter(pk__in=[p.pk for p in clean["photos"]]).update(verification=v)
            # Compare with the registry as it is now, not as the caller last read it.
            household = Household.objects.select_for_update(of=("self",)).get(pk=household.pk)
            conflicts = _apply_changes(actor, v, household, payload, clean["members"], on)
            if clean["lat"] is not None and household.latitude is None:
                registry.household_update(
                    actor=actor, household=household, latitude=clean["lat"], longitude=clean["lon"]
                )
            answers = clean["answers"]
            if answers and clean["outcome"] in (Outcome.CONFIRMED_POOR, Outcome.NOT_POOR):
                household.refresh_from_db()
                roster = assessment_services.roster(household, on)
                cards = {str(k) for k in answers.get("welfare_cards") or []}
                for m in roster:
                    m["welfare_card"] = m["key"] in cards
                data = {"members": roster, **{k: v for k, v in answers.items() if k in ("capitals", "bmn", "income")}}
                try:
                    a = assessment_services.assessment_record(
                        actor=actor, household=household, round=campaign.round if campaign else str(on.year + 543),
                        assessed_on=on, method=method, data=data,
                    )  # fmt: skip
                except assessment_services.AssessmentInvalid as exc:
                    raise SubmissionInvalid([_p(f"answers.{p.path}", p.th, p.en) for p in exc.problems]) from None
                Verification.objects.filter(pk=v.pk).update(assessment=a)
            if assignment is not None:
                Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.DONE, done_at=timezone.now())
            audit_record(
                actor=actor, action="verification.create", object_type="verification", object_ref=v.ref,
                area_code=household.area_code,
                changes={"household": household.code, "outcome": v.outcome, "method": method, "conflicts": len(conflicts)},
            )  # fmt: skip
    except IntegrityError:
        # The same key arrived twice at the same moment: the other request stored it.
        again = Verification.objects.filter(key=key).first()
        if again is None:
            raise
        return again, False
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, SubmissionInvalid):
            raise
        raise SubmissionInvalid(
            [_p("changes", "แก้ข้อมูลครัวเรือนไม่ได้: " + str(exc), "the household changes cannot be applied: " + str(exc))]
        ) from None
    v.refresh_from_db()
    return v, True


def conflict_resolve(*, actor: Any, conflict: Conflict, take: str, note: str = "") -> Conflict:
    """An officer decides one conflict: keep the registry's value or take the field value."""
    if not can(actor, "conflict.resolve", conflict.area_code):
        raise PermissionDenied
    if take not in ("server", "device"):
        raise SubmissionInvalid([_p("take", "เลือกค่าที่จะใช้", "choose which value to keep")])
    if conflict.status != ConflictStatus.OPEN:
        raise SubmissionInvalid([_p("conflict", "ตัดสินไปแล้ว", "already decided")])
    with transaction.atomic():
        c = Conflict.objects.select_for_update().select_related("household", "verification").get(pk=conflict.pk)
        if take == "device":
            on = c.verification.verified_on
            if not c.person_ref:
                registry.household_update(actor=actor, household=c.household, **{c.field: _s(c.device_value)})
            else:
                person = Person.objects.get(ref=c.person_ref, household=c.household)
                if c.field == "status":
                    if person.status == PersonStatus.MEMBER:
                        registry.person_leave(
                            actor=actor,
                            person=person,
                            event=PERSON_STATUS[str(c.device_value)],
                            on=on,
                            note=f"conflict {c.pk}",
                        )
                else:
                    registry.person_update(actor=actor, person=person, **{c.field: _s(c.device_value)})
        c.status = ConflictStatus.TOOK_DEVICE if take == "device" else ConflictStatus.KEPT_SERVER
        c.resolved_by, c.resolved_at, c.note = actor, timezone.now(), note[:300]
        c.save(update_fields=["status", "resolved_by", "resolved_at", "note"])
        audit_record(
            actor=actor, action="conflict.update", object_type="conflict", object_ref=str(c.pk),
            area_code=c.area_code, changes={"field": c.field, "status": c.status}, note=note[:500],
        )  # fmt: skip
    return c
