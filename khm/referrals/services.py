"""Every write of referrals and assistance. ``referral_transition`` is the only code that
changes a referral's state (see workflow.TRANSITIONS); it records who/when/why and queues
the notifications in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from khm.accounts.scoping import can, scope_for
from khm.audit.services import audit_record
from khm.core.problems import Invalid, Problem
from khm.referrals import workflow
from khm.referrals.models import (
    OPEN_STATES,
    Agency,
    Assistance,
    AssistanceKind,
    Channel,
    Comment,
    Notification,
    Referral,
    ReferralEvent,
    Service,
    State,
)
from khm.registry.models import Household, Person, PersonStatus, Relation, new_code

DEFAULT_DUE_DAYS = 30


class ReferralInvalid(Invalid):
    """What is wrong with a referral or a help record, each problem naming its field."""


def _p(field: str, th: str, en: str) -> Problem:
    return Problem(field, th, en)


def agency_orgs(user: Any) -> set[int]:
    """Organisations in which ``user`` currently works as an agency worker."""
    from khm.accounts.models import RoleAssignment
    from khm.accounts.roles import Role

    if not getattr(user, "is_authenticated", False):
        return set()
    now = timezone.now()
    return {
        ra.organisation_id
        for ra in RoleAssignment.objects.filter(user=user, role=Role.AGENCY_WORKER)
        if ra.is_current(now) and can(user, "referral.handle")
    }


def is_agency_worker_of(user: Any, agency: Agency) -> bool:
    return agency.organisation_id in agency_orgs(user)


def _contact(household: Household) -> dict[str, Any]:
    """The minimum an agency needs to act: where the house is and whom to ask for."""
    head = household.people.filter(relation=Relation.HEAD, status=PersonStatus.MEMBER).first()
    village = household.village
    return {
        "household": household.code,
        "house_no": household.house_no,
        "village": village.name_th,
        "village_no": village.village_no,
        "subdistrict": village.parent.name_th if village.parent else "",
        "head": head.full_name if head else "",
    }


# --------------------------------------------------------------------------- notifications


def _queue(channel: str, to: str, subject: str, body: str, referral: Referral | None) -> None:
    enabled = settings.KHM_NOTIFY_EMAIL if channel == Channel.EMAIL else settings.KHM_NOTIFY_LINE
    if enabled and to:
        Notification.objects.create(channel=channel, to=to, subject=subject, body=body, referral=referral)


def _link(referral: Referral) -> str:
    return f"{settings.KHM_BASE_URL.rstrip('/')}/referrals/{referral.ref}/"


def _notify(referral: Referral, event: str) -> None:
    """Queue messages for the people who must act. Never personal data: the code and a link."""
    link = _link(referral)
    if event == "sent":
        subject = f"KHM: ส่งต่อใหม่ {referral.ref} / new referral"
        body = f"มีการส่งต่อใหม่ถึงหน่วยงานของท่าน ({referral.need_label}) / A new referral for your agency: {link}"
        _queue(Channel.EMAIL, referral.agency.email, subject, body, referral)
        _queue(Channel.LINE, referral.agency.line_to, subject, body, referral)
    elif event == "returned":
        subject = f"KHM: ส่งต่อถูกส่งคืน {referral.ref} / referral returned"
        body = f"หน่วยงานส่งคืนการส่งต่อ โปรดส่งต่อหน่วยงานอื่น / The agency returned a referral: {link}"
        _queue(Channel.EMAIL, referral.created_by.email, subject, body, referral)
    elif event == "overdue":
        subject = f"KHM: ส่งต่อเกินกำหนด {referral.ref} / referral overdue"
        body = f"การส่งต่อเกินกำหนด {referral.due_on} / A referral is overdue: {link}"
        for email in _district_officer_emails(referral.area_code) | {referral.agency.escalation_email}:
            _queue(Channel.EMAIL, email, subject, body, referral)
        _queue(Channel.LINE, referral.agency.line_to, subject, body, referral)


def _district_officer_emails(area_code: str) -> set[str]:
    from khm.accounts.models import RoleAssignment
    from khm.accounts.roles import Role

    now = timezone.now()
    out = set()
    for ra in RoleAssignment.objects.filter(role=Role.DISTRICT_OFFICER).select_related("user", "area"):
        if ra.is_current(now) and ra.area and area_code.startswith(ra.area.code) and ra.user.email:
            out.add(ra.user.email)
    return out


# --------------------------------------------------------------------------- referrals


def referral_create(
    *,
    actor: Any,
    household: Household,
    need: str,
    need_label: str,
    agency: Agency,
    service: Service | None = None,
    person: Person | None = None,
    note: str = "",
    send: bool = True,
    source: str = "",
    via_forum: bool = False,
) -> Referral:
    """A referral of one need of a household to an agency (sent at once unless ``send`` is
    false, which keeps a draft). ``via_forum``: a poverty forum's resolution, recorded by
    someone who may manage the forum there (its secretary), refers on the forum's authority."""
    if not _may_refer(actor, household.area_code, via_forum):
        raise PermissionDenied
    problems = []
    if not need.strip():
        problems.append(_p("need", "ต้องระบุความจำเป็น", "a need is required"))
    if not agency.active:
        problems.append(_p("agency", "หน่วยงานนี้ไม่รับส่งต่อแล้ว", "this agency no longer takes referrals"))
    if service is not None and service.agency_id != agency.pk:
        problems.append(_p("service", "บริการนี้ไม่ใช่ของหน่วยงานที่เลือก", "the service belongs to another agency"))
    if person is not None and person.household_id != household.pk:
        problems.append(_p("person", "ไม่ใช่สมาชิกของครัวเรือนนี้", "not a member of this household"))
    if problems:
        raise ReferralInvalid(problems)
    with transaction.atomic():
        r = Referral.objects.create(
            ref=new_code("R"), household=household, person=person, area_code=household.area_code,
            need=need.strip(), need_label=need_label.strip() or need.strip(), agency=agency, service=service,
            note=note.strip(), created_by=actor, source=source,
        )  # fmt: skip
        audit_record(
            actor=actor, action="referral.create", object_type="referral", object_ref=r.ref,
            area_code=r.area_code, changes={"household": household.code, "need": r.need, "agency": agency.code},
        )  # fmt: skip
        if send:
            r = referral_transition(actor=actor, referral=r, to=State.SENT, via_forum=via_forum)
    return r


def _may_refer(actor: Any, area_code: str, via_forum: bool) -> bool:
    return can(actor, "referral.create", area_code) or (via_forum and can(actor, "forum.manage", area_code))


def referral_transition(
    *,
    actor: Any,
    referral: Referral,
    to: str,
    reason: str = "",
    agency: Agency | None = None,
    via_forum: bool = False,
) -> Referral:
    """Move a referral along the workflow; anything not in the table is refused."""
    with transaction.atomic():
        r = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("agency", "service", "household")
            .get(pk=referral.pk)
        )
        rule = workflow.allowed(r.state, to)
        if rule is None:
            raise ReferralInvalid(
                [_p("state", f"เปลี่ยนจาก {r.get_state_display()} เป็น {to} ไม่ได้", f"cannot go from {r.state} to {to}")]
            )
        if rule.by == "officer" and not _may_refer(actor, r.area_code, via_forum):
            raise PermissionDenied
        if rule.by == "agency" and not is_agency_worker_of(actor, r.agency):
            raise PermissionDenied
        if rule.reason and not reason.strip():
            raise ReferralInvalid([_p("reason", "ต้องระบุเหตุผล", "a reason is required")])
        if rule.new_agency:
            if agency is None or agency.pk == r.agency_id:
                raise ReferralInvalid([_p("agency", "ต้องเลือกหน่วยงานอื่น", "choose another agency")])
            r.agency, r.service = agency, None
        old = r.state
        r.state = to
        now = timezone.now()
        if to == State.SENT:
            r.sent_at = now
            days = r.service.due_days if r.service else DEFAULT_DUE_DAYS
            r.due_on = timezone.localdate() + dt.timedelta(days=days)
            r.escalated_at = None
            r.contact = _contact(r.household)
        if to in (State.COMPLETED, State.NOT_POSSIBLE, State.CANCELLED):
            r.closed_at = now
        r.save()
        ReferralEvent.objects.create(
            referral=r, from_state=old, to_state=to, actor=actor, reason=reason.strip(), agency=r.agency
        )
        audit_record(
            actor=actor, action="referral.update", object_type="referral", object_ref=r.ref,
            area_code=r.area_code, changes={"state": [old, to], "agency": r.agency.code}, note=reason[:500],
        )  # fmt: skip
        if to == State.SENT:
            _notify(r, "sent")
        elif to == State.RETURNED:
            _notify(r, "returned")
        transaction.on_commit(send_pending)
    return r


def referral_comment(*, actor: Any, referral: Referral, text: str, attachment: Any = None) -> Comment:
    if not (can(actor, "referral.view", referral.area_code) or is_agency_worker_of(actor, referral.agency)):
        raise PermissionDenied
    if not text.strip() and attachment is None:
        raise ReferralInvalid([_p("text", "ต้องมีข้อความหรือไฟล์แนบ", "write a comment or attach a file")])
    if attachment is not None and attachment.size > settings.KHM_ATTACHMENT_MAX_BYTES:
        raise ReferralInvalid([_p("attachment", "ไฟล์ใหญ่เกินไป", "the file is too large")])
    with transaction.atomic():
        c = Comment(referral=referral, author=actor, text=text.strip())
        if attachment is not None:
            c.attachment_name = str(getattr(attachment, "name", "file"))[:200]
            c.attachment.save(f"{new_code('F', 12)}", attachment, save=False)
        c.save()
        audit_record(
            actor=actor,
            action="referral.comment",
            object_type="referral",
            object_ref=referral.ref,
            area_code=referral.area_code,
        )
    return c


def referrals_escalate(*, today: dt.date | None = None) -> int:
    """Open referrals past their due date are escalated once to the district officer(s) of the
    area and the agency's escalation address. Returns how many were escalated."""
    today = today or timezone.localdate()
    n = 0
    with transaction.atomic():
        for r in (
            Referral.objects.select_for_update()
            .filter(state__in=OPEN_STATES, due_on__lt=today, escalated_at__isnull=True)
            .select_related("agency")
        ):
            r.escalated_at = timezone.now()
            r.save(update_fields=["escalated_at"])
            audit_record(
                actor=None,
                action="referral.escalate",
                object_type="referral",
                object_ref=r.ref,
                area_code=r.area_code,
                changes={"due_on": str(r.due_on)},
            )
            _notify(r, "overdue")
            n += 1
        transaction.on_commit(send_pending)
    return n


def send_pending(*, limit: int = 200) -> int:
    """Send queued notifications; failures are kept with their error for the next try."""
    from khm.referrals.notify import deliver

    sent = 0
    for n in Notification.objects.filter(sent_at__isnull=True, attempts__lt=5).order_by("id")[:limit]:
        ok, error = deliver(n)
        n.attempts += 1
        if ok:
            n.sent_at = timezone.now()
            n.error = ""
            sent += 1
        else:
            n.error = error[:300]
        n.save(update_fields=["attempts", "sent_at", "error"])
    return sent


# --------------------------------------------------------------------------- assistance


def assistance_record(
    *,
    actor: Any,
    household: Household,
    kind: str,
    agency: Agency,
    given_on: dt.date,
    value_baht: Any = 0,
    programme: str = "",
    person: Person | None = None,
    referral: Referral | None = None,
    note: str = "",
    batch: str = "",
) -> Assistance:
    """Record help given to a household (or one of its members)."""
    # Officers: in their own area. Agency workers: only for their agency, and only for a
    # household that was referred to it (they have no other access to households).
    allowed = (
        can(actor, "assistance.record", household.area_code) and can(actor, "household.view", household.area_code)
    ) or (
        is_agency_worker_of(actor, agency)
        and (referral is None or referral.agency_id == agency.pk)
        and Referral.objects.filter(household=household, agency=agency).exclude(state=State.DRAFT).exists()
    )
    if not allowed:
        raise PermissionDenied
    problems = assistance_problems(kind=kind, given_on=given_on, value_baht=value_baht)
    if referral is not None and referral.household_id != household.pk:
        problems.append(_p("referral", "การส่งต่อนี้เป็นของครัวเรือนอื่น", "the referral is for another household"))
    if person is not None and person.household_id != household.pk:
        problems.append(_p("person", "ไม่ใช่สมาชิกของครัวเรือนนี้", "not a member of this household"))
    if problems:
        raise ReferralInvalid(problems)
    with transaction.atomic():
        a = Assistance.objects.create(
            ref=new_code("AS"), household=household, person=person, area_code=household.area_code, kind=kind,
            programme=programme.strip()[:200], agency=agency, given_on=given_on, value_baht=Decimal(str(value_baht or 0)),
            referral=referral, note=note.strip()[:500], batch=batch, created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="assistance.create", object_type="assistance", object_ref=a.ref,
            area_code=a.area_code, changes={"household": household.code, "kind": kind, "value_baht": str(a.value_baht), "agency": agency.code},
        )  # fmt: skip
    return a


def assistance_problems(*, kind: str, given_on: Any, value_baht: Any) -> list[Problem]:
    problems = []
    if kind not in AssistanceKind.values:
        problems.append(_p("kind", "ไม่รู้จักประเภทความช่วยเหลือนี้", f"unknown kind: use {', '.join(AssistanceKind.values)}"))
    if not isinstance(given_on, dt.date):
        problems.append(_p("given_on", "ต้องระบุวันที่ให้ความช่วยเหลือ", "the date is required"))
    elif given_on > timezone.localdate():
        problems.append(_p("given_on", "วันที่อยู่ในอนาคต", "the date is in the future"))
    try:
        value = Decimal(str(value_baht if value_baht not in (None, "") else 0))
        if value < 0 or value > Decimal("10000000"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems.append(
            _p("value_baht", "มูลค่าต้องเป็นจำนวนบาท 0–10,000,000", "the value must be baht from 0 to 10,000,000")
        )
    return problems


def agencies_for(area_code: str, need: str | None = None) -> list[Agency]:
    """Active agencies covering the area, those with a service for ``need`` first."""
    found = [a for a in Agency.objects.filter(active=True).prefetch_related("services") if a.covers(area_code)]
    if need:
        found.sort(key=lambda a: (not any(need in s.needs for s in a.services.all() if s.active), a.name_th))
    return found


def referral_scope_households(actor: Any) -> Iterable[int]:
    return Household.objects.filter(scope_for(actor, "referral.view").q("area_code")).values_list("pk", flat=True)
