"""Every write of forums: create a meeting, build its agenda from what waits for a decision,
record resolutions that take effect through the normal services, close the meeting (open
items carry over), and escalate to the forum above.

Who may: ``forum.manage`` over the forum's whole area (see :func:`may_manage`). A resolution
to refer creates referrals through ``khm.referrals.services`` on the forum's authority; a
decision on the list changes the household's standing through ``standing.standing_set``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone, translation

from khm.accounts.models import Organisation
from khm.accounts.scoping import can
from khm.areas.models import Area, AreaLevel, code_range
from khm.assessment.models import AssessmentResult
from khm.audit.services import audit_record
from khm.core.dates import BE_OFFSET, format_thai_date
from khm.core.problems import Invalid, Problem
from khm.fieldwork.models import Conflict, ConflictStatus, Outcome, Verification
from khm.forums import graduation
from khm.forums.models import (
    ON_LIST,
    AgendaItem,
    Appeal,
    AppealCategory,
    AppealStatus,
    Attendee,
    Forum,
    ForumStatus,
    ItemKind,
    ItemStatus,
    PlanTask,
    Resolution,
    ResolutionKind,
    Standing,
)
from khm.forums.selectors import covers
from khm.forums.standing import on_list, standing_set, status_of
from khm.referrals import services as referrals
from khm.referrals.models import OPEN_STATES, Agency, Referral, Service, State
from khm.registry.models import Household, new_code


class ForumInvalid(Invalid):
    """What is wrong with a forum input, each problem naming its field."""


def _p(field: str, th: str, en: str) -> Problem:
    return Problem(field, th, en)


# Which resolutions fit which agenda item.
ALLOWED: dict[str, tuple[str, ...]] = {
    ItemKind.UNVERIFIED: ("confirm_poor", "not_poor", "carry_over", "escalate", "noted"),
    ItemKind.VERIFIED: ("confirm_poor", "carry_over", "noted"),
    ItemKind.DISPUTED: ("confirm_poor", "not_poor", "carry_over", "escalate", "noted"),
    ItemKind.INTEGRATE: ("help_plan", "refer", "link_enterprise", "carry_over", "escalate", "noted"),
    ItemKind.RETURNED: ("refer", "help_plan", "carry_over", "escalate", "noted"),
    ItemKind.OVERDUE: ("refer", "help_plan", "carry_over", "escalate", "noted"),
    ItemKind.GRADUATION: ("approve_graduation", "defer_graduation", "carry_over", "escalate"),
    ItemKind.APPEAL: ("uphold_appeal", "reject_appeal", "carry_over", "escalate"),
    ItemKind.OTHER: (
        "noted",
        "refer",
        "help_plan",
        "link_enterprise",
        "confirm_poor",
        "not_poor",
        "carry_over",
        "escalate",
    ),
}
# Effects are recorded in Thai, as the minutes print them.
STANDING_TH = {
    Standing.LISTED: "อยู่ในบัญชี รอการตัดสิน",
    Standing.CONFIRMED: "ยืนยันเป็นครัวเรือนยากจน",
    Standing.NOT_POOR: "ไม่ใช่ครัวเรือนยากจน นำออกจากบัญชี",
    Standing.GRADUATED: "พ้นความยากจน นำออกจากบัญชี",
}
FIELD_TH = {"house_no": "บ้านเลขที่", "address_extra": "ที่อยู่เพิ่มเติม"}
# Household-level items are built at village and subdistrict forums; district and province
# forums see what lower forums escalated, carried-over items and overdue referrals by agency.
HOUSEHOLD_LEVELS = (AreaLevel.VILLAGE, AreaLevel.SUBDISTRICT)


# --------------------------------------------------------------------------- access


def may_manage(actor: Any, area_code: str) -> bool:
    """``forum.manage`` over the whole area (see selectors.covers)."""
    return covers(actor, "forum.manage", area_code)


def _check(actor: Any, forum: Forum) -> None:
    if not may_manage(actor, forum.area_code):
        raise PermissionDenied
    if forum.status == ForumStatus.CLOSED:
        raise ForumInvalid([_p("forum", "ปิดการประชุมแล้ว แก้ไขไม่ได้", "the forum is closed; nothing can change")])


# --------------------------------------------------------------------------- forums


@dataclass
class ForumInput:
    area_code: str
    round: str
    title: str
    held_on: dt.date
    place: str
    starts_at: dt.time | None = None
    ends_at: dt.time | None = None
    chair_name: str = ""
    chair_position: str = ""
    recorder_name: str = ""
    recorder_position: str = ""
    opening: str = ""


def forum_create(*, actor: Any, data: ForumInput, organisations: Iterable[Organisation] = ()) -> Forum:
    problems = []
    area = Area.objects.filter(code=data.area_code).first()
    if area is None:
        problems.append(_p("area", "ไม่พบพื้นที่นี้", "no such area"))
    if not (data.round.isdigit() and len(data.round) == 4):
        problems.append(_p("round", "รอบสำรวจต้องเป็นปี พ.ศ. 4 หลัก", "the round is a 4-digit Buddhist-Era year"))
    if not data.title.strip():
        problems.append(_p("title", "ต้องมีชื่อการประชุม", "a title is required"))
    if not data.place.strip():
        problems.append(_p("place", "ต้องระบุสถานที่", "a place is required"))
    if problems:
        raise ForumInvalid(problems)
    if not may_manage(actor, data.area_code):
        raise PermissionDenied
    year_be = data.held_on.year + BE_OFFSET
    with transaction.atomic():
        number = (
            Forum.objects.filter(area_code=data.area_code, year_be=year_be).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        f = Forum.objects.create(
            ref=new_code("F"), area_code=data.area_code, round=data.round, number=number, year_be=year_be,
            title=data.title.strip(), held_on=data.held_on, starts_at=data.starts_at, ends_at=data.ends_at,
            place=data.place.strip(), chair_name=data.chair_name.strip(), chair_position=data.chair_position.strip(),
            recorder_name=data.recorder_name.strip(), recorder_position=data.recorder_position.strip(),
            opening=data.opening.strip(), created_by=actor,
        )  # fmt: skip
        f.organisations.set(list(organisations))
        audit_record(
            actor=actor, action="forum.create", object_type="forum", object_ref=f.ref, area_code=f.area_code,
            changes={"held_on": str(f.held_on), "title": f.title},
        )  # fmt: skip
    return f


def forum_update(*, actor: Any, forum: Forum, **fields: Any) -> Forum:
    _check(actor, forum)
    allowed = {
        "title", "held_on", "starts_at", "ends_at", "place", "chair_name", "chair_position",
        "recorder_name", "recorder_position", "opening",
    }  # fmt: skip
    orgs = fields.pop("organisations", None)
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    with transaction.atomic():
        for k, v in fields.items():
            setattr(forum, k, v.strip() if isinstance(v, str) else v)
        forum.save()
        if orgs is not None:
            forum.organisations.set(list(orgs))
        audit_record(
            actor=actor, action="forum.update", object_type="forum", object_ref=forum.ref,
            area_code=forum.area_code, changes={k: str(v) for k, v in fields.items()},
        )  # fmt: skip
    return forum


def attendees_set(*, actor: Any, forum: Forum, rows: Sequence[dict[str, Any]]) -> list[Attendee]:
    """Replace the attendance list: name, position, organisation, present, note."""
    _check(actor, forum)
    problems = [
        _p(f"attendees[{i}].name", "ต้องมีชื่อ", "a name is required") for i, r in enumerate(rows) if not r.get("name")
    ]
    if problems:
        raise ForumInvalid(problems)
    with transaction.atomic():
        forum.attendees.all().delete()
        out = [
            Attendee.objects.create(
                forum=forum,
                name=r["name"].strip(),
                position=(r.get("position") or "").strip(),
                organisation=r.get("organisation"),
                organisation_name=(r.get("org_text") or "").strip(),
                present=bool(r.get("present", True)),
                note=(r.get("note") or "").strip(),
                order=i,
            )
            for i, r in enumerate(rows)
        ]
        audit_record(
            actor=actor, action="forum.update", object_type="forum", object_ref=forum.ref,
            area_code=forum.area_code, changes={"attendees": len(out)},
        )  # fmt: skip
    return out


# --------------------------------------------------------------------------- agenda


@dataclass
class Proposed:
    kind: str
    key: str
    title: str
    area_code: str
    household: Household | None = None
    referral: Referral | None = None
    appeal: Appeal | None = None
    data: dict[str, Any] | None = None
    detail: str = ""


def _in_area(qs: QuerySet[Any], area_code: str, field: str = "area_code") -> QuerySet[Any]:
    low, high = code_range(area_code)
    return qs.filter(**{f"{field}__gte": low, f"{field}__lte": high})


def _hh_label(h: Household) -> str:
    v = h.village
    return f"บ้านเลขที่ {h.house_no} หมู่ {v.village_no} {v.name_th} ({h.code})"


def _verified_in(round: str) -> Q:
    year_ce = int(round) - BE_OFFSET
    return Q(campaign__round=round) | Q(campaign__isnull=True, verified_on__year=year_ce)


def _household_items(forum: Forum) -> list[Proposed]:
    out: list[Proposed] = []
    households = _in_area(Household.objects.all(), forum.area_code).select_related("village")
    listed = on_list(households)
    undecided = listed.filter(Q(standing__isnull=True) | Q(standing__status=Standing.LISTED))
    verifications = _in_area(Verification.objects.filter(_verified_in(forum.round)), forum.area_code)
    latest: dict[int, Verification] = {}
    outcomes: dict[int, set[str]] = {}
    for v in verifications.order_by("verified_on", "received_at"):
        latest[v.household_id] = v
        outcomes.setdefault(v.household_id, set()).add(v.outcome)
    conflicted = set(
        _in_area(
            Conflict.objects.filter(status=ConflictStatus.OPEN), forum.area_code, "verification__area_code"
        ).values_list("verification__household_id", flat=True)
    )
    confirmed_by_field: list[Household] = []
    for h in undecided.order_by("area_code", "code"):
        v = latest.get(h.pk)
        if h.pk in conflicted or len(outcomes.get(h.pk, ())) > 1:
            why = "ผลตรวจสอบขัดแย้งกัน / verifications disagree"
            out.append(Proposed(ItemKind.DISPUTED, f"disputed:{h.code}", _hh_label(h), h.area_code, household=h,
                                data={"why": why}, detail=why))  # fmt: skip
        elif v is None:
            out.append(Proposed(ItemKind.UNVERIFIED, f"unverified:{h.code}", _hh_label(h), h.area_code, household=h))
        elif v.outcome == Outcome.CONFIRMED_POOR:
            confirmed_by_field.append(h)
        else:
            why = f"ผลการตรวจสอบ: {v.get_outcome_display()} ({v.ref})"
            out.append(Proposed(ItemKind.DISPUTED, f"disputed:{h.code}", _hh_label(h), h.area_code, household=h,
                                data={"why": why, "verification": v.ref, "outcome": v.outcome}, detail=v.notes))  # fmt: skip
    if confirmed_by_field:
        codes = [h.code for h in confirmed_by_field]
        out.insert(0, Proposed(
            ItemKind.VERIFIED, f"verified:{forum.round}", f"รับรองรายชื่อครัวเรือนยากจนที่ตรวจสอบแล้ว {len(codes)} ครัวเรือน",
            forum.area_code, data={"households": codes},
            detail=", ".join(_hh_label(h) for h in confirmed_by_field),
        ))  # fmt: skip
    out.extend(_integrate_items(forum, listed))
    out.extend(_graduation_items(forum, listed))
    return out


def _integrate_items(forum: Forum, listed: QuerySet[Household]) -> list[Proposed]:
    """Needs no single agency can meet: no active agency covering the village offers a service
    for the need, or a referral for it ended as not possible (and none is open)."""
    services: dict[str, list[Agency]] = {}
    for s in Service.objects.filter(active=True, agency__active=True).select_related("agency"):
        for need in s.needs:
            services.setdefault(need, []).append(s.agency)
    results = (
        AssessmentResult.objects.filter(current=True, household__in=listed)
        .order_by("household_id", "-round")
        .values_list("household_id", "round", "needs")
    )
    needs_of: dict[int, list[str]] = {}
    for hid, _rnd, needs in results:
        needs_of.setdefault(hid, list(needs or []))  # the latest round
    refs = _in_area(Referral.objects.all(), forum.area_code).values_list("household_id", "need", "state")
    open_need: set[tuple[int, str]] = set()
    failed_need: set[tuple[int, str]] = set()
    for hid, need, state in refs:
        if state in OPEN_STATES or state == State.DRAFT:
            open_need.add((hid, need))
        elif state == State.NOT_POSSIBLE:
            failed_need.add((hid, need))
    planned = _planned_needs(forum)
    out = []
    by_pk = {h.pk: h for h in listed.filter(pk__in=list(needs_of)).select_related("village")}
    for hid in sorted(by_pk, key=lambda k: by_pk[k].code):
        h = by_pk[hid]
        unmet = []
        for need in needs_of[hid]:
            if (hid, need) in open_need or (hid, need) in planned:
                continue
            agencies = [a for a in services.get(need, []) if a.covers(h.area_code)]
            if not agencies:
                unmet.append({"need": need, "why": "no_agency"})
            elif (hid, need) in failed_need:
                unmet.append({"need": need, "why": "not_possible"})
        if unmet:
            out.append(Proposed(ItemKind.INTEGRATE, f"integrate:{h.code}", _hh_label(h), h.area_code, household=h,
                                data={"needs": unmet}))  # fmt: skip
    return out


def _planned_needs(forum: Forum) -> set[tuple[int, str]]:
    """(household, need) pairs an integrated help plan still running on the forum's date
    covers: a task for the need, or any task of a plan decided on an item about those needs."""
    out: set[tuple[int, str]] = set()
    tasks = _in_area(PlanTask.objects.filter(due_on__gte=forum.held_on), forum.area_code, "resolution__item__area_code")
    for hid, need, data in tasks.values_list("resolution__item__household_id", "need", "resolution__item__data"):
        if hid is None:
            continue
        needs = [need] if need else [n.get("need") for n in (data or {}).get("needs", [])]
        out |= {(hid, n) for n in needs if n}
    return out


def _graduation_items(forum: Forum, listed: QuerySet[Household]) -> list[Proposed]:
    out = []
    for c in graduation.candidates(listed):
        h = c.household
        out.append(Proposed(
            ItemKind.GRADUATION, f"graduation:{h.code}", _hh_label(h), h.area_code, household=h,
            data={"checks": [{"criterion": k.criterion, "met": k.met, "th": k.th, "en": k.en} for k in c.verdict.checks]},
        ))  # fmt: skip
    return out


def _referral_items(forum: Forum) -> list[Proposed]:
    out = []
    refs = _in_area(Referral.objects.all(), forum.area_code).select_related("household__village", "agency")
    if forum.level in HOUSEHOLD_LEVELS:
        for r in refs.filter(state=State.RETURNED).order_by("sent_at"):
            out.append(Proposed(ItemKind.RETURNED, f"returned:{r.ref}", f"{r.need_label} — {_hh_label(r.household)}",
                                r.area_code, household=r.household, referral=r, data={"agency": r.agency.code}))  # fmt: skip
    overdue = refs.filter(state__in=OPEN_STATES, due_on__lt=forum.held_on).order_by("due_on")
    if forum.level in HOUSEHOLD_LEVELS:
        for r in overdue:
            out.append(Proposed(
                ItemKind.OVERDUE, f"overdue:{r.ref}", f"{r.need_label} — {r.agency.name_th} — {_hh_label(r.household)}",
                r.area_code, household=r.household, referral=r, data={"agency": r.agency.code, "due_on": str(r.due_on)},
            ))  # fmt: skip
    else:
        by_agency: dict[Agency, list[Referral]] = {}
        for r in overdue:
            by_agency.setdefault(r.agency, []).append(r)
        for agency, rs in sorted(by_agency.items(), key=lambda kv: kv[0].name_th):
            out.append(Proposed(
                ItemKind.OVERDUE, f"overdue-agency:{agency.code}",
                f"{agency.name_th}: ส่งต่อเกินกำหนด {len(rs)} ราย / {len(rs)} overdue referrals", forum.area_code,
                data={"agency": agency.code, "referrals": [r.ref for r in rs]},
            ))  # fmt: skip
    return out


def _appeal_items(forum: Forum) -> list[Proposed]:
    pending = _in_area(Appeal.objects.filter(status=AppealStatus.OPEN), forum.area_code).exclude(
        items__status__in=(ItemStatus.OPEN, ItemStatus.CARRIED, ItemStatus.ESCALATED)
    )
    return [
        Proposed(
            ItemKind.APPEAL,
            f"appeal:{a.ref}",
            f"{a.get_category_display()} ({a.ref})",
            a.area_code,
            household=a.household or (a.entry.household if a.entry else None),
            appeal=a,
            data={"due_on": str(a.due_on), "category": a.category},
            detail=a.description,
        )
        for a in pending.select_related("entry__household").order_by("due_on")
    ]


def _carried_and_escalated(forum: Forum) -> list[tuple[AgendaItem, str]]:
    """Items carried over from this area's earlier forums and items lower forums inside
    this area escalated, not picked up yet."""
    carried = AgendaItem.objects.filter(
        forum__area_code=forum.area_code, status=ItemStatus.CARRIED, carried_to__isnull=True
    ).exclude(forum=forum)
    low, high = code_range(forum.area_code)
    below = AgendaItem.objects.filter(
        status=ItemStatus.ESCALATED, escalated_to__isnull=True, forum__area_key__gte=low, forum__area_key__lte=high
    ).exclude(forum__area_code=forum.area_code)
    escalated = [i for i in below.select_related("forum") if len(i.forum.area_code) > len(forum.area_code)]
    return [(i, "carried") for i in carried.order_by("forum__held_on", "number")] + [
        (i, "escalated") for i in sorted(escalated, key=lambda i: (i.forum.held_on, i.number))
    ]


WAITING = (
    Q(status=ItemStatus.OPEN)
    | Q(status=ItemStatus.CARRIED, carried_to__isnull=True)
    | Q(status=ItemStatus.ESCALATED, escalated_to__isnull=True)
)


def _pending_elsewhere(forum: Forum, keys: Sequence[str]) -> set[str]:
    """Keys of matters still waiting at another forum (open, carried over or escalated and
    not picked up yet): one matter is decided by one forum at a time."""
    out: set[str] = set()
    for i in range(0, len(keys), 500):
        found = AgendaItem.objects.filter(WAITING, key__in=keys[i : i + 500]).exclude(forum=forum)
        out |= set(found.values_list("key", flat=True))
    # An escalated matter waits under its new key at the forum above.
    above = AgendaItem.objects.filter(WAITING, escalated_from__isnull=False).exclude(forum=forum)
    out |= set(above.values_list("escalated_from__key", flat=True))
    return out


def _batch_detail(codes: Sequence[str]) -> str:
    found = Household.objects.filter(code__in=list(codes)).select_related("village").order_by("area_code", "code")
    return ", ".join(_hh_label(h) for h in found)


def _batch(forum: Forum, p: Proposed, number: int) -> tuple[int, int]:
    """The households verified as poor go into one batch item per forum: households verified
    since the agenda was built join the open batch; once it is decided, a new batch holds the
    next ones. Households in a batch waiting at another forum stay there."""
    elsewhere: set[str] = set()
    for data in (
        AgendaItem.objects.filter(WAITING, kind=ItemKind.VERIFIED).exclude(forum=forum).values_list("data", flat=True)
    ):
        elsewhere |= set((data or {}).get("households", []))
    codes = [c for c in (p.data or {}).get("households", []) if c not in elsewhere]
    batches = list(forum.items.filter(kind=ItemKind.VERIFIED))
    decided = {c for b in batches if b.status != ItemStatus.OPEN for c in (b.data or {}).get("households", [])}
    codes = [c for c in codes if c not in decided]
    open_batch = next((b for b in batches if b.status == ItemStatus.OPEN), None)
    if open_batch is not None:
        merged = sorted(set((open_batch.data or {}).get("households", [])) | set(codes))
        if merged != sorted((open_batch.data or {}).get("households", [])):
            open_batch.data = {**(open_batch.data or {}), "households": merged}
            open_batch.title = f"รับรองรายชื่อครัวเรือนยากจนที่ตรวจสอบแล้ว {len(merged)} ครัวเรือน"
            open_batch.detail = _batch_detail(merged)
            open_batch.save(update_fields=["data", "title", "detail"])
        return number, 0
    if not codes:
        return number, 0
    key = p.key if not batches else f"{p.key}:{len(batches) + 1}"
    AgendaItem.objects.create(
        forum=forum, number=number + 1, kind=ItemKind.VERIFIED,
        title=f"รับรองรายชื่อครัวเรือนยากจนที่ตรวจสอบแล้ว {len(codes)} ครัวเรือน", detail=_batch_detail(codes),
        area_code=forum.area_code, data={"households": codes}, key=key,
    )  # fmt: skip
    return number + 1, 1


def _refresh(forum: Forum, p: Proposed) -> None:
    """An item still waiting gets the current reasons (needs, checks, why) when rebuilt."""
    item = forum.items.filter(key=p.key, status=ItemStatus.OPEN).first()
    if item is not None and (p.data or {}) and {**item.data, **(p.data or {})} != item.data:
        item.data = {**item.data, **(p.data or {})}
        item.save(update_fields=["data"])


def agenda_build(*, actor: Any, forum: Forum) -> int:
    """Add to the agenda what waits for a decision in the forum's area; items already on it
    stay as they are. Returns the number of items added."""
    _check(actor, forum)
    graduation.follow_up(area_code=forum.area_code)  # fallen-back graduates are back on the list first
    added = 0
    with transaction.atomic(), translation.override("th"):  # titles are stored in Thai, like the minutes
        existing = set(forum.items.values_list("key", flat=True))
        number = forum.items.aggregate(n=Max("number"))["n"] or 0
        for old, how in _carried_and_escalated(forum):
            key = old.key if how == "carried" else f"escalated:{old.pk}"
            if key in existing:
                continue
            number += 1
            AgendaItem.objects.create(
                forum=forum, number=number, kind=old.kind, title=old.title, detail=old.detail,
                area_code=old.area_code, household=old.household, referral=old.referral, appeal=old.appeal,
                data={**old.data, "from_forum": old.forum.ref}, key=key,
                carried_from=old if how == "carried" else None, escalated_from=old if how == "escalated" else None,
            )  # fmt: skip
            existing.add(key)
            added += 1
        proposed: list[Proposed] = []
        if forum.level in HOUSEHOLD_LEVELS:
            proposed += _household_items(forum)
            proposed += _appeal_items(forum)  # an appeal goes to the forum of its village or subdistrict
        proposed += _referral_items(forum)
        busy = _pending_elsewhere(forum, [p.key for p in proposed])
        for p in proposed:
            if p.kind == ItemKind.VERIFIED:
                number, made = _batch(forum, p, number)
                added += made
                continue
            if p.key in existing:
                _refresh(forum, p)
                continue
            if p.key in busy:
                continue
            number += 1
            AgendaItem.objects.create(
                forum=forum, number=number, kind=p.kind, title=p.title[:300], detail=p.detail, area_code=p.area_code,
                household=p.household, referral=p.referral, appeal=p.appeal, data=p.data or {}, key=p.key,
            )  # fmt: skip
            existing.add(p.key)
            added += 1
        audit_record(
            actor=actor, action="forum.update", object_type="forum", object_ref=forum.ref,
            area_code=forum.area_code, changes={"agenda_built": added},
        )  # fmt: skip
    return added


def agenda_add(
    *, actor: Any, forum: Forum, title: str, detail: str = "", household: Household | None = None
) -> AgendaItem:
    """A matter the secretary puts on the agenda."""
    _check(actor, forum)
    if not title.strip():
        raise ForumInvalid([_p("title", "ต้องมีหัวข้อ", "a title is required")])
    if household is not None and not household.area_code.startswith(forum.area_code):
        raise ForumInvalid([_p("household", "ครัวเรือนอยู่นอกพื้นที่ของเวที", "the household is outside the forum's area")])
    with transaction.atomic():
        number = (forum.items.aggregate(n=Max("number"))["n"] or 0) + 1
        item = AgendaItem.objects.create(
            forum=forum, number=number, kind=ItemKind.OTHER, title=title.strip()[:300], detail=detail.strip(),
            area_code=household.area_code if household else forum.area_code, household=household,
            key=f"other:{new_code('', 10)}", added_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="forum.update", object_type="forum", object_ref=forum.ref,
            area_code=forum.area_code, changes={"item_added": number},
        )  # fmt: skip
    return item


def agenda_drop(*, actor: Any, item: AgendaItem, reason: str) -> AgendaItem:
    _check(actor, item.forum)
    if item.status != ItemStatus.OPEN:
        raise ForumInvalid([_p("item", "วาระนี้มีมติแล้ว", "this item is already decided")])
    if not reason.strip():
        raise ForumInvalid([_p("reason", "ต้องระบุเหตุผล", "a reason is required")])
    with transaction.atomic():
        item.status = ItemStatus.DROPPED
        item.drop_reason = reason.strip()[:300]
        item.save(update_fields=["status", "drop_reason"])
        audit_record(
            actor=actor, action="forum.update", object_type="forum", object_ref=item.forum.ref,
            area_code=item.forum.area_code, changes={"item_dropped": item.number}, note=reason[:500],
        )  # fmt: skip
    return item


# --------------------------------------------------------------------------- resolutions


@dataclass
class TaskInput:
    task: str
    due_on: dt.date | None
    agency: Agency | None = None
    responsible: str = ""
    need: str = ""


@dataclass
class ResolutionInput:
    kind: str
    text: str
    decided_on: dt.date
    signatures: Sequence[dict[str, str]] = ()
    agencies: Sequence[Agency] = ()  # refer
    need: str = ""  # refer: the need referred (default: the item's)
    tasks: Sequence[TaskInput] = ()  # help plan
    household: Household | None = None  # appeal about a household missing from the list
    enterprise: Any = None  # link to a community enterprise (khm.livelihoods Enterprise)
    link_role: str = "member"
    corrections: dict[str, str] | None = None  # appeal about wrong data


def _households_of(item: AgendaItem) -> list[Household]:
    if item.household is not None:
        return [item.household]
    codes = (item.data or {}).get("households") or []
    return list(Household.objects.filter(code__in=codes).order_by("code"))


def _item_needs(item: AgendaItem) -> list[str]:
    needs = [n["need"] for n in (item.data or {}).get("needs", [])]
    if item.referral is not None:
        needs.append(item.referral.need)
    return needs


def _need_label(need: str) -> str:
    from khm.referrals.panels import catalogue

    found = catalogue().needs.get(need)
    return found.label_th if found is not None else need


def _validate(item: AgendaItem, data: ResolutionInput) -> list[Problem]:
    problems = []
    if item.status != ItemStatus.OPEN:
        problems.append(_p("item", "วาระนี้มีมติแล้ว", "this item is already decided"))
    if data.kind not in ALLOWED.get(item.kind, ()):
        problems.append(_p("kind", "มติประเภทนี้ใช้กับวาระนี้ไม่ได้", "this kind of resolution does not fit the item"))
    if not data.text.strip():
        problems.append(_p("text", "ต้องมีข้อความมติ", "the resolution text is required"))
    for i, s in enumerate(data.signatures):
        if not (s.get("name") or "").strip():
            problems.append(_p(f"signatures[{i}].name", "ต้องมีชื่อผู้ลงนาม", "a signatory's name is required"))
    hh = _households_of(item)
    needs_household = data.kind in (
        "confirm_poor", "not_poor", "approve_graduation", "refer", "help_plan", "link_enterprise",
    )  # fmt: skip
    if needs_household and not hh and (data.kind not in ("refer", "help_plan") or item.referral is None):
        problems.append(_p("item", "วาระนี้ไม่ได้ระบุครัวเรือน", "the item names no household"))
    if data.kind == "refer":
        if not data.agencies:
            problems.append(_p("agencies", "ต้องเลือกหน่วยงานอย่างน้อยหนึ่งแห่ง", "choose at least one agency"))
        if not (data.need or _item_needs(item)):
            problems.append(_p("need", "ต้องระบุความจำเป็นที่ส่งต่อ", "name the need to refer"))
        for a in data.agencies:
            if not a.active:
                problems.append(_p("agencies", f"{a.name_th} ไม่รับส่งต่อแล้ว", f"{a.code} no longer takes referrals"))
    if data.kind == "approve_graduation":
        for h in hh:
            if status_of(h) not in ON_LIST:
                problems.append(_p("item", f"ครัวเรือน {h.code} ไม่อยู่ในบัญชีคนจนแล้ว",
                                   f"household {h.code} is no longer on the poor list"))  # fmt: skip
    if data.kind == "link_enterprise" and data.enterprise is None:
        problems.append(_p("enterprise", "ต้องเลือกวิสาหกิจชุมชน", "choose the community enterprise"))
    if data.kind == "help_plan":
        if not data.tasks:
            problems.append(_p("tasks", "แผนต้องมีอย่างน้อยหนึ่งงาน", "the plan needs at least one task"))
        for i, t in enumerate(data.tasks):
            if not t.task.strip():
                problems.append(_p(f"tasks[{i}].task", "ต้องระบุงาน", "the task is required"))
            if t.due_on is None:
                problems.append(_p(f"tasks[{i}].due_on", "ต้องระบุวันกำหนดเสร็จ", "a due date is required"))
            elif t.due_on < data.decided_on:
                problems.append(_p(f"tasks[{i}].due_on", "วันกำหนดเสร็จต้องไม่ก่อนวันประชุม",
                                   "the due date cannot be before the meeting"))  # fmt: skip
            if t.agency is None and not t.responsible.strip():
                problems.append(_p(f"tasks[{i}].responsible", "ต้องระบุหน่วยงานหรือผู้รับผิดชอบ",
                                   "name an agency or who is responsible"))  # fmt: skip
            if t.agency is not None and not (t.need or _item_needs(item)):
                problems.append(_p(f"tasks[{i}].need", "ต้องระบุความจำเป็นสำหรับหน่วยงาน", "name the need for the agency"))
    if data.kind == "uphold_appeal" and item.appeal is not None:
        appeal = item.appeal
        if appeal.category == AppealCategory.WRONGLY_EXCLUDED and data.household is None:
            problems.append(_p("household", "ต้องระบุครัวเรือนในทะเบียนที่จะเพิ่มเข้าบัญชี",
                               "name the registry household to put on the list"))  # fmt: skip
        named = appeal.household_id or appeal.entry_id or data.household is not None
        if appeal.category in (AppealCategory.WRONGLY_INCLUDED, AppealCategory.WRONG_DATA) and not named:
            problems.append(_p("household", "คำร้องนี้ไม่ได้ระบุครัวเรือน ระบุครัวเรือนในทะเบียน",
                               "the appeal names no household: name the registry household"))  # fmt: skip
        if appeal.category == AppealCategory.WRONG_DATA and not data.corrections:
            problems.append(_p("corrections", "ต้องระบุข้อมูลที่แก้ไข", "state the corrected data"))
    return problems


def resolve(*, actor: Any, item: AgendaItem, data: ResolutionInput) -> Resolution:
    """Record the forum's resolution on an item and make it take effect — all or nothing."""
    forum = item.forum
    _check(actor, forum)
    problems = _validate(item, data)
    if problems:
        raise ForumInvalid(problems)
    with transaction.atomic():
        item = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if item.status != ItemStatus.OPEN:
            raise ForumInvalid([_p("item", "วาระนี้มีมติแล้ว", "this item is already decided")])
        try:
            res = Resolution.objects.create(
                item=item, kind=data.kind, text=data.text.strip(), decided_on=data.decided_on, recorded_by=actor,
                signatures=[{"name": s["name"].strip(), "role": (s.get("role") or "").strip()} for s in data.signatures],
            )  # fmt: skip
        except IntegrityError:
            raise ForumInvalid([_p("item", "วาระนี้มีมติแล้ว", "this item is already decided")]) from None
        try:
            effects = _take_effect(actor, item, res, data)
        except ForumInvalid:
            raise
        except Invalid as exc:  # a referral, a link or the registry refused: nothing is kept
            raise ForumInvalid(exc.problems) from None
        res.effects = effects
        res.save(update_fields=["effects", "data"])
        item.status = {
            ResolutionKind.CARRY_OVER: ItemStatus.CARRIED,
            ResolutionKind.ESCALATE: ItemStatus.ESCALATED,
        }.get(ResolutionKind(data.kind), ItemStatus.DECIDED)
        item.save(update_fields=["status"])
        if forum.status == ForumStatus.PLANNED:
            forum.status = ForumStatus.HELD
            forum.save(update_fields=["status"])
        audit_record(
            actor=actor, action="resolution.create", object_type="forum", object_ref=forum.ref,
            area_code=item.area_code, changes={"item": item.number, "kind": data.kind, "effects": effects},
        )  # fmt: skip
    return res


def _refer(actor: Any, item: AgendaItem, res: Resolution, agency: Agency, need: str, note: str) -> Referral:
    forum = item.forum
    source = f"forum:{forum.ref}"
    r = item.referral
    if r is not None and r.state == State.RETURNED and need == r.need and agency.pk != r.agency_id:
        # A returned referral goes on to the agency the forum chose.
        return referrals.referral_transition(
            actor=actor, referral=r, to=State.SENT, agency=agency, via_forum=True,
            reason=f"มติเวที {forum.ref} / forum resolution",
        )  # fmt: skip
    household = item.household or (item.referral.household if item.referral else None)
    assert household is not None
    service = next((s for s in Service.objects.filter(agency=agency, active=True) if need in s.needs), None)
    return referrals.referral_create(
        actor=actor, household=household, need=need, need_label=_need_label(need), agency=agency,
        service=service, note=note, source=source, via_forum=True,
    )  # fmt: skip


def _take_effect(actor: Any, item: AgendaItem, res: Resolution, data: ResolutionInput) -> list[str]:
    kind = data.kind
    forum = item.forum
    why = f"มติเวที {forum.title} ครั้งที่ {forum.number}/{forum.year_be} ({forum.ref}) วาระ {item.number}: {res.text}"
    effects: list[str] = []
    if kind in ("confirm_poor", "not_poor"):
        to = Standing.CONFIRMED if kind == "confirm_poor" else Standing.NOT_POOR
        for h in _households_of(item):
            standing_set(actor=actor, household=h, to=to, on=data.decided_on, reason=why, round=forum.round,
                         resolution=res)  # fmt: skip
            effects.append(f"ครัวเรือน {h.code}: {STANDING_TH[to]}")
    elif kind == "refer":
        need = data.need or _item_needs(item)[0]
        for agency in data.agencies:
            r = _refer(actor, item, res, agency, need, res.text)
            effects.append(f"ส่งต่อ {r.ref} ถึง{agency.name_th}")
    elif kind == "help_plan":
        for t in data.tasks:
            referral = None
            if t.agency is not None:
                need = t.need or _item_needs(item)[0]
                referral = _refer(actor, item, res, t.agency, need, t.task)
                Referral.objects.filter(pk=referral.pk).update(due_on=t.due_on)  # the plan's date, not the service's
                effects.append(f"ส่งต่อ {referral.ref} ถึง{t.agency.name_th}")
            assert t.due_on is not None
            PlanTask.objects.create(
                resolution=res, agency=t.agency, responsible=t.responsible.strip(), need=t.need, task=t.task.strip(),
                due_on=t.due_on, referral=referral,
            )  # fmt: skip
        effects.append(f"แผนช่วยเหลือแบบบูรณาการ {len(data.tasks)} งาน")
    elif kind == "link_enterprise":
        from khm.livelihoods.services import link_create

        for h in _households_of(item):
            link = link_create(
                actor=actor, enterprise=data.enterprise, household=h, role=data.link_role, started_on=data.decided_on,
                source=f"forum:{forum.ref}", via_forum=True,
            )  # fmt: skip
            effects.append(f"เชื่อมโยงครัวเรือน {h.code} กับ{data.enterprise.name_th} ({link.ref})")
    elif kind == "approve_graduation":
        criteria = graduation.criteria_current()
        for h in _households_of(item):
            verdict = graduation.verdict_for(h)
            until = graduation.follow_until(data.decided_on)
            standing_set(actor=actor, household=h, to=Standing.GRADUATED, on=data.decided_on, reason=why,
                         round=forum.round, follow_until=until, resolution=res)  # fmt: skip
            res.data = {
                "criteria_version": criteria.version, "eligible": verdict.eligible,
                "checks": [{"criterion": c.criterion, "met": c.met, "th": c.th, "en": c.en} for c in verdict.checks],
                "follow_until": str(until),
            }  # fmt: skip
            effects.append(f"ครัวเรือน {h.code}: {STANDING_TH[Standing.GRADUATED]} ติดตามถึง {format_thai_date(until)}")
    elif kind in ("uphold_appeal", "reject_appeal"):
        assert item.appeal is not None
        effects += _decide_appeal(actor, item, res, data, why)
    elif kind == "escalate":
        effects.append("เสนอเวทีระดับที่สูงกว่า")
    elif kind == "carry_over":
        effects.append("ยกไปพิจารณาในการประชุมครั้งต่อไป")
    return effects


def _decide_appeal(actor: Any, item: AgendaItem, res: Resolution, data: ResolutionInput, why: str) -> list[str]:
    from khm.registry.services import household_update

    assert item.appeal_id is not None
    a = Appeal.objects.select_for_update().get(pk=item.appeal_id)
    if a.status != AppealStatus.OPEN:
        raise ForumInvalid([_p("appeal", "คำร้องนี้มีคำวินิจฉัยแล้ว", "the appeal is already decided")])
    effects = []
    upheld = data.kind == "uphold_appeal"
    household = a.household or (a.entry.household if a.entry else None) or data.household
    if household is not None and not household.area_code.startswith(item.forum.area_code):
        raise ForumInvalid([_p("household", "ครัวเรือนอยู่นอกพื้นที่ของเวที", "the household is outside the forum's area")])
    if upheld:
        if a.category == AppealCategory.WRONGLY_INCLUDED and household is not None:
            standing_set(actor=actor, household=household, to=Standing.NOT_POOR, on=data.decided_on, reason=why,
                         round=item.forum.round, resolution=res, appeal=a)  # fmt: skip
            effects.append(f"ครัวเรือน {household.code}: {STANDING_TH[Standing.NOT_POOR]}")
        elif a.category == AppealCategory.WRONGLY_EXCLUDED and household is not None:
            standing_set(actor=actor, household=household, to=Standing.CONFIRMED, on=data.decided_on, reason=why,
                         round=item.forum.round, resolution=res, appeal=a)  # fmt: skip
            effects.append(f"ครัวเรือน {household.code}: {STANDING_TH[Standing.CONFIRMED]}")
        elif a.category == AppealCategory.WRONG_DATA and household is not None:
            fields = {k: v for k, v in (data.corrections or {}).items() if k in ("house_no", "address_extra")}
            unknown = set(data.corrections or {}) - set(fields)
            if unknown:
                raise ForumInvalid([_p(f"corrections.{k}", "แก้ไขข้อมูลนี้ที่หน้าทะเบียนครัวเรือน",
                                       "correct this field on the household page") for k in sorted(unknown)])  # fmt: skip
            if not can(actor, "household.edit", household.area_code):
                raise ForumInvalid([_p("corrections", "ท่านไม่มีสิทธิ์แก้ไขทะเบียนครัวเรือนนี้",
                                       "you may not edit this household's registry data")])  # fmt: skip
            household_update(actor=actor, household=household, **fields)
            a.corrections = fields
            effects.append(f"แก้ไขทะเบียนครัวเรือน {household.code}: {', '.join(FIELD_TH[k] for k in sorted(fields))}")
    a.household = household
    a.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    a.decision = res.text
    a.decided_on = data.decided_on
    a.save(update_fields=["status", "decision", "decided_on", "household", "corrections"])
    effects.append(f"คำร้อง {a.ref}: {'รับฟัง' if upheld else 'ไม่รับฟัง'}")
    return effects


def forum_close(*, actor: Any, forum: Forum) -> int:
    """Close the meeting (minutes final): every item still open carries over to the next
    forum of the area. Returns how many carried over."""
    _check(actor, forum)
    with transaction.atomic():
        carried = forum.items.filter(status=ItemStatus.OPEN).update(status=ItemStatus.CARRIED)
        forum.status = ForumStatus.CLOSED
        forum.closed_at = timezone.now()
        forum.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor, action="forum.update", object_type="forum", object_ref=forum.ref,
            area_code=forum.area_code, changes={"status": "closed", "carried_over": carried},
        )  # fmt: skip
    return carried
