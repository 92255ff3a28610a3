"""Every write of livelihoods: enterprises, their needs and support, links of households to
them (each link is also a help record of kind "enterprise support"), and income records.

Each service checks the actor's right in the area it writes, raises
:class:`LivelihoodInvalid` (problems named by field, Thai and English) for bad input, and
writes its audit event in the same transaction.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from khm.accounts.scoping import can
from khm.areas.models import Area, AreaLevel
from khm.audit.services import audit_record
from khm.core.problems import Invalid, Problem
from khm.livelihoods.models import (
    Enterprise,
    EnterpriseKind,
    EnterpriseNeed,
    IncomeMethod,
    IncomeRecord,
    IncomeSource,
    Link,
    LinkRole,
    NeedKind,
    Stage,
    Support,
    SupportKind,
)
from khm.referrals.models import Agency, AssistanceKind, Referral
from khm.referrals.services import ReferralInvalid, assistance_record
from khm.registry.models import Household, Person, PersonStatus, new_code

MAX_BAHT = Decimal("10000000")
MAX_PERIOD_MONTHS = 24


class LivelihoodInvalid(Invalid):
    """What is wrong with an enterprise, a link or an income record, by field."""


def _p(field: str, th: str, en: str) -> Problem:
    return Problem(field, th, en)


# --------------------------------------------------------------------------- enterprises


def _enterprise_problems(
    *, name_th: str, kind: str, village: Area | None, stages: list[str], registration_no: str, exclude: int | None
) -> list[Problem]:
    problems = []
    if not name_th.strip():
        problems.append(_p("name_th", "ต้องระบุชื่อวิสาหกิจ", "the name is required"))
    if kind not in EnterpriseKind.values:
        problems.append(_p("kind", "ไม่รู้จักประเภทนี้", "unknown kind"))
    if village is None or village.level != AreaLevel.VILLAGE:
        problems.append(_p("village", "ต้องเลือกหมู่บ้านที่ตั้ง", "choose the village where it is"))
    if not stages or any(s not in Stage.values for s in stages):
        problems.append(_p("stages", "ต้องเลือกขั้นของห่วงโซ่คุณค่าอย่างน้อยหนึ่งขั้น", "choose at least one value-chain stage"))
    reg = registration_no.strip()
    same = Enterprise.objects.filter(registration_no=reg)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if reg and same.exists():
        problems.append(_p("registration_no", "เลขทะเบียนนี้มีอยู่แล้ว", "this registration number is already used"))
    return problems


def enterprise_create(
    *,
    actor: Any,
    name_th: str,
    village: Area | None,
    stages: list[str],
    kind: str = EnterpriseKind.COMMUNITY_ENTERPRISE,
    name_en: str = "",
    registration_no: str = "",
    products: str = "",
    lead_agency: Agency | None = None,
) -> Enterprise:
    if village is not None and not can(actor, "enterprise.manage", village.code):
        raise PermissionDenied
    problems = _enterprise_problems(
        name_th=name_th, kind=kind, village=village, stages=stages, registration_no=registration_no, exclude=None
    )
    if problems:
        raise LivelihoodInvalid(problems)
    assert village is not None
    with transaction.atomic():
        e = Enterprise.objects.create(
            code=new_code("CE", 8), registration_no=registration_no.strip(), name_th=name_th.strip(),
            name_en=name_en.strip(), kind=kind, village=village, area_code=village.code, products=products.strip()[:500],
            stages=[s for s in Stage.values if s in stages], lead_agency=lead_agency, created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="enterprise.create", object_type="enterprise", object_ref=e.code,
            area_code=e.area_code, changes={"name_th": e.name_th, "registration_no": e.registration_no},
        )  # fmt: skip
    return e


def enterprise_update(*, actor: Any, enterprise: Enterprise, **fields: Any) -> Enterprise:
    """Change the enterprise's own fields (the village may change within the actor's area)."""
    if not can(actor, "enterprise.manage", enterprise.area_code):
        raise PermissionDenied
    village = fields.get("village", enterprise.village)
    if (
        village is not None
        and village.code != enterprise.area_code
        and not can(actor, "enterprise.manage", village.code)
    ):
        raise PermissionDenied
    merged = {
        "name_th": fields.get("name_th", enterprise.name_th),
        "kind": fields.get("kind", enterprise.kind),
        "village": village,
        "stages": fields.get("stages", enterprise.stages),
        "registration_no": fields.get("registration_no", enterprise.registration_no),
    }
    problems = _enterprise_problems(**merged, exclude=enterprise.pk)
    if problems:
        raise LivelihoodInvalid(problems)
    old = {k: str(getattr(enterprise, k)) for k in fields}
    with transaction.atomic():
        for k in ("name_th", "name_en", "kind", "registration_no", "products", "lead_agency", "active"):
            if k in fields:
                v = fields[k]
                setattr(enterprise, k, v.strip() if isinstance(v, str) else v)
        if "stages" in fields:
            enterprise.stages = [s for s in Stage.values if s in fields["stages"]]
        if village is not None:
            enterprise.village, enterprise.area_code = village, village.code
        enterprise.save()
        audit_record(
            actor=actor, action="enterprise.update", object_type="enterprise", object_ref=enterprise.code,
            area_code=enterprise.area_code,
            changes={k: [old[k], str(getattr(enterprise, k))] for k in fields if old[k] != str(getattr(enterprise, k))},
        )  # fmt: skip
    return enterprise


def need_add(
    *, actor: Any, enterprise: Enterprise, kind: str, stage: str, quantity: int = 1, description: str = ""
) -> EnterpriseNeed:
    if not can(actor, "enterprise.manage", enterprise.area_code):
        raise PermissionDenied
    problems = []
    if kind not in NeedKind.values:
        problems.append(_p("kind", "ไม่รู้จักประเภทความต้องการนี้", "unknown kind of need"))
    if stage not in Stage.values:
        problems.append(_p("stage", "ไม่รู้จักขั้นนี้ของห่วงโซ่คุณค่า", "unknown value-chain stage"))
    if not isinstance(quantity, int) or not 1 <= quantity <= 500:
        problems.append(_p("quantity", "จำนวนต้องอยู่ระหว่าง 1–500", "the number must be from 1 to 500"))
    if problems:
        raise LivelihoodInvalid(problems)
    with transaction.atomic():
        n = EnterpriseNeed.objects.create(
            enterprise=enterprise, kind=kind, stage=stage, quantity=quantity, description=description.strip()[:300]
        )
        audit_record(
            actor=actor, action="enterprise.update", object_type="enterprise", object_ref=enterprise.code,
            area_code=enterprise.area_code, changes={"need": [kind, stage, quantity]},
        )  # fmt: skip
    return n


def need_close(*, actor: Any, need: EnterpriseNeed) -> EnterpriseNeed:
    if not can(actor, "enterprise.manage", need.enterprise.area_code):
        raise PermissionDenied
    with transaction.atomic():
        need.active = False
        need.save(update_fields=["active"])
        audit_record(
            actor=actor, action="enterprise.update", object_type="enterprise", object_ref=need.enterprise.code,
            area_code=need.enterprise.area_code, changes={"need_closed": [need.kind, need.stage]},
        )  # fmt: skip
    return need


def support_add(
    *,
    actor: Any,
    enterprise: Enterprise,
    kind: str,
    started_on: dt.date,
    agency: Agency | None = None,
    provider: str = "",
    programme: str = "",
    ended_on: dt.date | None = None,
    value_baht: Any = 0,
    note: str = "",
) -> Support:
    if not can(actor, "enterprise.manage", enterprise.area_code):
        raise PermissionDenied
    problems = []
    if kind not in SupportKind.values:
        problems.append(_p("kind", "ไม่รู้จักประเภทการสนับสนุนนี้", "unknown kind of support"))
    if agency is None and not provider.strip():
        problems.append(_p("agency", "ต้องระบุหน่วยงานหรือผู้สนับสนุน", "name the agency or the provider"))
    if ended_on is not None and ended_on < started_on:
        problems.append(_p("ended_on", "วันสิ้นสุดอยู่ก่อนวันเริ่ม", "the end is before the start"))
    value = parse_baht(value_baht)
    if value is None:
        problems.append(
            _p("value_baht", "มูลค่าต้องเป็นจำนวนบาท 0–10,000,000", "the value must be baht from 0 to 10,000,000")
        )
    if problems:
        raise LivelihoodInvalid(problems)
    with transaction.atomic():
        s = Support.objects.create(
            enterprise=enterprise, kind=kind, agency=agency, provider=provider.strip()[:200],
            programme=programme.strip()[:200], started_on=started_on, ended_on=ended_on, value_baht=value or Decimal(0),
            note=note.strip()[:300],
        )  # fmt: skip
        audit_record(
            actor=actor, action="enterprise.update", object_type="enterprise", object_ref=enterprise.code,
            area_code=enterprise.area_code,
            changes={"support": kind, "agency": agency.code if agency else provider.strip(), "value_baht": str(value)},
        )  # fmt: skip
    return s


# --------------------------------------------------------------------------- links


def link_agency(enterprise: Enterprise, referral: Referral | None) -> Agency | None:
    """The agency the link's help record is given in the name of: the referral's agency,
    else the enterprise's lead agency, else the agency of its latest support."""
    if referral is not None:
        return referral.agency
    if enterprise.lead_agency_id:
        return enterprise.lead_agency
    s = enterprise.support.filter(agency__isnull=False).select_related("agency").first()
    return s.agency if s else None


def link_create(
    *,
    actor: Any,
    enterprise: Enterprise,
    household: Household,
    person: Person | None = None,
    role: str,
    started_on: dt.date,
    source: str = "",
    referral: Referral | None = None,
    programme: str = "",
    via_forum: bool = False,
) -> Link:
    """Link a household (or one of its members) to an enterprise as member, worker or
    supplier. Called by the pages, the API and the forums app (a forum resolution gives
    ``source="forum:<ref>"``). The link is also recorded as help of kind "enterprise
    support" (value 0) through ``assistance_record``, so that it counts in tracking —
    when an agency can be named (see :func:`link_agency`). ``via_forum``: a forum resolution,
    recorded by someone who may manage the forum there, links on the forum's authority."""
    may = can(actor, "livelihood.link", household.area_code)
    if not (may or (via_forum and can(actor, "forum.manage", household.area_code))):
        raise PermissionDenied
    problems = []
    if role not in LinkRole.values:
        problems.append(_p("role", "ไม่รู้จักบทบาทนี้", "unknown role: member, worker or supplier"))
    if not isinstance(started_on, dt.date):
        problems.append(_p("started_on", "ต้องระบุวันเริ่ม", "the start date is required"))
    elif started_on > timezone.localdate():
        problems.append(_p("started_on", "วันเริ่มอยู่ในอนาคต", "the start date is in the future"))
    if not enterprise.active:
        problems.append(_p("enterprise", "วิสาหกิจนี้ไม่ดำเนินการแล้ว", "this enterprise is no longer active"))
    if person is not None and (person.household_id != household.pk or person.status != PersonStatus.MEMBER):
        problems.append(_p("person", "ไม่ใช่สมาชิกของครัวเรือนนี้", "not a member of this household"))
    if referral is not None and referral.household_id != household.pk:
        problems.append(_p("referral", "การส่งต่อนี้เป็นของครัวเรือนอื่น", "the referral is for another household"))
    open_same = Link.objects.filter(
        enterprise=enterprise, household=household, person=person, role=role, ended_on__isnull=True
    )
    if open_same.exists():
        problems.append(
            _p("household", "เชื่อมโยงกับวิสาหกิจนี้ในบทบาทนี้อยู่แล้ว", "already linked to this enterprise in this role")
        )
    if source and not (source.startswith("referral:") or source.startswith("forum:")):
        problems.append(
            _p("source", "ที่มาต้องเป็น referral:<รหัส> หรือ forum:<รหัส>", "the source must be referral:<ref> or forum:<ref>")
        )
    if problems:
        raise LivelihoodInvalid(problems)
    if referral is not None and not source:
        source = f"referral:{referral.ref}"
    agency = link_agency(enterprise, referral)
    with transaction.atomic():
        help_record = None
        if agency is not None:
            try:
                help_record = assistance_record(
                    actor=actor, household=household, kind=AssistanceKind.ENTERPRISE, agency=agency,
                    given_on=started_on, value_baht=0, programme=(programme or enterprise.name_th)[:200], person=person,
                    referral=referral, note=f"{LinkRole(role).label}: {enterprise.name_th}"[:500],
                )  # fmt: skip
            except (PermissionDenied, ReferralInvalid):
                help_record = None  # the link stands; tracking just does not count it
        link = Link.objects.create(
            ref=new_code("L", 9), enterprise=enterprise, household=household, person=person,
            area_code=household.area_code, role=role, started_on=started_on, programme=programme.strip()[:200],
            source=source[:60], referral=referral, assistance=help_record, created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="link.create", object_type="link", object_ref=link.ref, area_code=link.area_code,
            changes={"household": household.code, "enterprise": enterprise.code, "role": role,
                     "started_on": started_on.isoformat(), "source": link.source},
        )  # fmt: skip
    return link


def link_end(*, actor: Any, link: Link, ended_on: dt.date, reason: str = "") -> Link:
    if not can(actor, "livelihood.link", link.area_code):
        raise PermissionDenied
    problems = []
    if link.ended_on is not None:
        problems.append(_p("ended_on", "การเชื่อมโยงนี้สิ้นสุดไปแล้ว", "this link has already ended"))
    elif ended_on < link.started_on:
        problems.append(_p("ended_on", "วันสิ้นสุดอยู่ก่อนวันเริ่ม", "the end is before the start"))
    elif ended_on > timezone.localdate():
        problems.append(_p("ended_on", "วันสิ้นสุดอยู่ในอนาคต", "the end date is in the future"))
    if problems:
        raise LivelihoodInvalid(problems)
    with transaction.atomic():
        link.ended_on, link.end_reason = ended_on, reason.strip()[:300]
        link.save(update_fields=["ended_on", "end_reason"])
        audit_record(
            actor=actor, action="link.update", object_type="link", object_ref=link.ref, area_code=link.area_code,
            changes={"ended_on": ended_on.isoformat()}, note=reason[:500],
        )  # fmt: skip
    return link


# --------------------------------------------------------------------------- income


def parse_baht(value: Any) -> Decimal | None:
    """Baht from 1500, "1,500", "๑๕๐๐", "1500.50 บาท"; None when not 0–10,000,000 with satang."""
    text = str(value) if isinstance(value, Decimal | int | float) else str(value or "0")
    text = text.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    text = text.replace(",", "").replace("บาท", "").replace("฿", "").strip() or "0"
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0 or d > MAX_BAHT or d != d.quantize(Decimal("0.01")):
        return None
    return d.quantize(Decimal("0.01"))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def income_problems(*, source: str, period_start: Any, period_end: Any, amount_baht: Any) -> list[Problem]:
    problems = []
    if source not in IncomeSource.values:
        problems.append(_p("source", "ไม่รู้จักแหล่งรายได้นี้", f"unknown source: use {', '.join(IncomeSource.values)}"))
    if not isinstance(period_start, dt.date):
        problems.append(_p("period_start", "ต้องระบุเดือนเริ่มต้น", "the first month is required"))
    elif period_start.day != 1:
        problems.append(_p("period_start", "ช่วงเวลาต้องเริ่มวันที่ 1 ของเดือน", "the period must start on the 1st of a month"))
    if not isinstance(period_end, dt.date):
        problems.append(_p("period_end", "ต้องระบุเดือนสุดท้าย", "the last month is required"))
    elif period_end != month_end(period_end):
        problems.append(
            _p("period_end", "ช่วงเวลาต้องจบวันสุดท้ายของเดือน", "the period must end on the last day of a month")
        )
    if isinstance(period_start, dt.date) and isinstance(period_end, dt.date):
        months = (period_end.year - period_start.year) * 12 + period_end.month - period_start.month + 1
        if months < 1:
            problems.append(_p("period_end", "เดือนสุดท้ายอยู่ก่อนเดือนเริ่มต้น", "the last month is before the first"))
        elif months > MAX_PERIOD_MONTHS:
            problems.append(_p("period_end", "ช่วงเวลายาวเกิน 24 เดือน", "the period is longer than 24 months"))
        if period_start > timezone.localdate():
            problems.append(_p("period_start", "ช่วงเวลายังไม่เริ่ม", "the period has not started yet"))
    if parse_baht(amount_baht) is None:
        problems.append(
            _p("amount_baht", "รายได้ต้องเป็นจำนวนบาท 0–10,000,000", "the income must be baht from 0 to 10,000,000")
        )
    return problems


def income_record(
    *,
    actor: Any,
    household: Household,
    source: str,
    period_start: dt.date,
    period_end: dt.date,
    amount_baht: Any,
    method: str = IncomeMethod.WEB,
    note: str = "",
    batch: str = "",
) -> IncomeRecord:
    """Record (or correct) a household's income from one source over a period of whole
    months. The same household, source and period again replaces the amount (audited with
    the old and new value)."""
    if not can(actor, "income.record", household.area_code):
        raise PermissionDenied
    problems = income_problems(source=source, period_start=period_start, period_end=period_end, amount_baht=amount_baht)
    if problems:
        raise LivelihoodInvalid(problems)
    amount = parse_baht(amount_baht)
    assert amount is not None
    with transaction.atomic():
        rec, created = IncomeRecord.objects.select_for_update().get_or_create(
            household=household, period_start=period_start, period_end=period_end, source=source,
            defaults={"area_code": household.area_code, "amount_baht": amount, "method": method, "batch": batch,
                      "note": note.strip()[:300], "recorded_by": actor},
        )  # fmt: skip
        old = None if created else str(rec.amount_baht)
        if not created:
            rec.amount_baht, rec.method, rec.batch, rec.recorded_by = amount, method, batch, actor
            rec.note = note.strip()[:300] or rec.note
            rec.save()
        audit_record(
            actor=actor, action="income.create" if old is None else "income.update", object_type="household", object_ref=household.code,
            area_code=household.area_code,
            changes={"source": source, "period": [period_start.isoformat(), period_end.isoformat()],
                     "amount_baht": [old, str(amount)] if old is not None else str(amount), "method": method},
        )  # fmt: skip
    return rec
