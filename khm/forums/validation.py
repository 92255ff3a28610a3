"""Community validation: a village's list is posted (notice board and a page) for a set
number of days before it becomes final; anyone may lodge an appeal, which goes to the forum
of the area with a deadline. The forum's decision acts on the list (services._decide_appeal).

The posted list is masked: title, first name and the first letter of the surname, and the
house number — never an ID number or the full name.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from khm.accounts.scoping import can
from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record
from khm.core.problems import Invalid, Problem
from khm.forums.models import (
    Appeal,
    AppealCategory,
    AppealStatus,
    PostedEntry,
    Posting,
    PostingStatus,
    Standing,
)
from khm.forums.standing import head_of, on_list, standing_set
from khm.registry.models import Household, new_code

MIN_DAYS, MAX_DAYS = 7, 60


class ValidationInvalid(Invalid):
    """What is wrong with a posting or an appeal, each problem naming its field."""


def _p(field: str, th: str, en: str) -> Problem:
    return Problem(field, th, en)


def mask_name(title: str, first: str, last: str) -> str:
    """``นาง`` ``สมศรี`` ``ใจดี`` → ``นางสมศรี ใ***``: enough for neighbours to recognise a
    household on the notice board, not a full name for anyone who copies the page."""
    last = last.strip()
    return f"{title.strip()}{first.strip()} {last[:1]}***" if last else f"{title.strip()}{first.strip()}"


def posting_create(
    *, actor: Any, village_code: str, round: str, opens_on: dt.date, days: int, appeal_days: int = 15
) -> Posting:
    """Post the village's current list for ``days`` days."""
    problems = []
    village = Area.objects.filter(code=village_code, level=AreaLevel.VILLAGE).first()
    if village is None:
        problems.append(_p("village", "ไม่พบหมู่บ้านนี้", "no such village"))
    if not (round.isdigit() and len(round) == 4):
        problems.append(_p("round", "รอบสำรวจต้องเป็นปี พ.ศ. 4 หลัก", "the round is a 4-digit Buddhist-Era year"))
    if not MIN_DAYS <= days <= MAX_DAYS:
        problems.append(_p("days", f"ต้องปิดประกาศ {MIN_DAYS}–{MAX_DAYS} วัน", f"post for {MIN_DAYS} to {MAX_DAYS} days"))
    if not 1 <= appeal_days <= 90:
        problems.append(_p("appeal_days", "กำหนดพิจารณาคำร้อง 1–90 วัน", "the forum decides within 1 to 90 days"))
    if problems:
        raise ValidationInvalid(problems)
    if not can(actor, "posting.manage", village_code):
        raise PermissionDenied
    if Posting.objects.filter(area_code=village_code, round=round, status=PostingStatus.OPEN).exists():
        raise ValidationInvalid(
            [_p("village", "หมู่บ้านนี้มีประกาศที่ยังเปิดอยู่ในรอบนี้", "this village already has an open posting")]
        )
    households = on_list(Household.objects.filter(area_code=village_code)).order_by("house_no", "code")
    with transaction.atomic():
        p = Posting.objects.create(
            ref=new_code("P"), area_code=village_code, round=round, opens_on=opens_on,
            closes_on=opens_on + dt.timedelta(days=days), appeal_days=appeal_days,
            token=secrets.token_urlsafe(32), created_by=actor,
        )  # fmt: skip
        entries = []
        for n, h in enumerate(households, start=1):
            head = head_of(h)
            name = mask_name(head.title, head.first_name, head.last_name) if head else "—"
            entries.append(PostedEntry(posting=p, number=n, household=h, masked_name=name, house_no=h.house_no))
        PostedEntry.objects.bulk_create(entries)
        audit_record(
            actor=actor, action="posting.create", object_type="posting", object_ref=p.ref, area_code=village_code,
            changes={"households": len(entries), "closes_on": str(p.closes_on)},
        )  # fmt: skip
    return p


def posting_is_open(p: Posting, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return p.status == PostingStatus.OPEN and p.opens_on <= today <= p.closes_on


def appeal_lodge(
    *,
    posting: Posting | None,
    area_code: str,
    category: str,
    description: str,
    entry_number: int | None = None,
    about: str = "",
    name: str = "",
    contact: str = "",
    via: str = "web",
    actor: Any = None,
    today: dt.date | None = None,
) -> Appeal:
    """Anyone may appeal while a posting is open (``via="web"``, no login); an officer may
    record an appeal received on paper at any time (``via="paper"``)."""
    today = today or timezone.localdate()
    problems = []
    if category not in AppealCategory.values:
        problems.append(_p("category", "เลือกประเภทคำร้อง", "choose what the appeal is about"))
    if len(description.strip()) < 10:
        problems.append(
            _p("description", "เล่าสิ่งที่ไม่ถูกต้องอย่างน้อย 10 ตัวอักษร", "describe what is wrong (10 characters or more)")
        )
    entry = None
    if category in (AppealCategory.WRONGLY_INCLUDED, AppealCategory.WRONG_DATA):
        if posting is None and not about.strip():
            problems.append(_p("about", "ระบุครัวเรือนที่ร้อง", "say which household the appeal is about"))
        elif posting is not None:
            entry = posting.entries.filter(number=entry_number or 0).select_related("household").first()
            if entry is None:
                problems.append(
                    _p("entry", "ระบุลำดับที่ของครัวเรือนในประกาศ", "give the household's number on the posted list")
                )
    if category == AppealCategory.WRONGLY_EXCLUDED and not about.strip():
        problems.append(
            _p("about", "ระบุชื่อและบ้านเลขที่ของครัวเรือนที่ตกหล่น", "name the missing household and its house number")
        )
    if len(name) > 200 or len(contact) > 200 or len(about) > 300:
        problems.append(_p("name", "ข้อความยาวเกินไป", "too long"))
    if via == "web" and (posting is None or not posting_is_open(posting, today)):
        problems.append(_p("posting", "ประกาศนี้ปิดรับคำร้องแล้ว", "this posting no longer takes appeals"))
    if via == "paper" and not can(actor, "posting.manage", area_code):
        raise PermissionDenied
    if problems:
        raise ValidationInvalid(problems)
    days = posting.appeal_days if posting is not None else 15
    start = max(today, posting.closes_on) if posting is not None else today
    with transaction.atomic():
        a = Appeal.objects.create(
            ref=new_code("G"), posting=posting, area_code=area_code, category=category, entry=entry,
            household=entry.household if entry else None, about=about.strip(), description=description.strip(),
            lodged_by_name=name.strip(), lodged_by_contact=contact.strip(), lodged_via=via,
            due_on=start + dt.timedelta(days=days),
        )  # fmt: skip
        audit_record(
            actor=actor, action="appeal.create", object_type="appeal", object_ref=a.ref, area_code=area_code,
            changes={"category": category, "via": via},
        )  # fmt: skip
    return a


def posting_finalise(*, actor: Any, posting: Posting, today: dt.date | None = None) -> int:
    """The list becomes final after the posting closed and every appeal on it is decided:
    households still on it are confirmed poor. Returns how many were confirmed."""
    today = today or timezone.localdate()
    if not can(actor, "posting.manage", posting.area_code):
        raise PermissionDenied
    problems = []
    if posting.status != PostingStatus.OPEN:
        problems.append(_p("posting", "ประกาศนี้ไม่ได้เปิดอยู่", "this posting is not open"))
    if today <= posting.closes_on:
        problems.append(
            _p("posting", f"ยังอยู่ในช่วงรับคำร้องถึง {posting.closes_on}", f"appeals are open until {posting.closes_on}")
        )
    waiting = list(posting.appeals.filter(status=AppealStatus.OPEN).values_list("ref", flat=True))
    if waiting:
        problems.append(
            _p(
                "appeals",
                f"ยังมีคำร้องรอเวทีพิจารณา: {', '.join(waiting)}",
                f"appeals still wait for the forum: {', '.join(waiting)}",
            )
        )
    if problems:
        raise ValidationInvalid(problems)
    confirmed = 0
    with transaction.atomic():
        for e in posting.entries.select_related("household", "household__standing"):
            h = e.household
            current = getattr(h, "standing", None)
            if current is None or current.status == Standing.LISTED:
                standing_set(
                    actor=actor, household=h, to=Standing.CONFIRMED, on=today, round=posting.round,
                    reason=f"บัญชีผ่านการปิดประกาศ {posting.ref} / list final after posting {posting.ref}",
                )  # fmt: skip
                confirmed += 1
        posting.status = PostingStatus.FINAL
        posting.finalised_at = timezone.now()
        posting.save(update_fields=["status", "finalised_at"])
        audit_record(
            actor=actor, action="posting.update", object_type="posting", object_ref=posting.ref,
            area_code=posting.area_code, changes={"status": "final", "confirmed": confirmed},
        )  # fmt: skip
    return confirmed
