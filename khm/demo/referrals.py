"""Demo referrals and assistance for Mueang Kalasin district (4601).

:func:`seed_referrals` gives the demo:

* **Agencies** for the demo's agency organisations (and a few more organisations of kind
  agency: non-formal education, BAAC, a university, an NGO, CODI for housing), each with
  the agency type of the needs instrument, services for the instrument's needs (rule
  codes) and Kalasin ("46") as its area. The demo user ``agency`` works in ``agency-pso``
  (social development); every other agency gets one demo worker (``agency_<short>``).
* **About 120 referrals** of the needs of this round's (2568) assessment results of
  households in 4601, made through the real services (``referral_create``,
  ``referral_transition``) by the demo local or district officer and the agencies' workers:
  drafts, sent, accepted, in progress, completed, returned (some sent on to another
  agency), not possible and cancelled — every state. Their dates are spread over the last
  months; a few open ones are overdue and escalated with ``referrals_escalate``.
* **Assistance** for every completed referral (``assistance_record``) with usual values
  (housing repair 20,000–40,000 baht, training 3,000, cash 1,000–3,000, welfare
  registration 0 …) and one distribution event: relief bags (ถุงยังชีพ, 800 baht in kind)
  for 30 poor households in one batch.

Deterministic for a seed (the referral codes are random; what they hold is not). Does
nothing once referrals exist. Nothing here imports Django models at module level.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from khm.accounts.models import User
    from khm.referrals.models import Agency, Referral, Service

ROUND = "2568"
DISTRICT = "4601"
TARGET = 120  # referrals
NEEDS_PER_HOUSEHOLD = 2
OVERDUE = 6  # open referrals past their due date
RELIEF_HOUSEHOLDS = 30
RELIEF_BAHT = 800

# New organisations of kind agency (seed.py creates agency-pso, -ppho, -pcdo, -pao-agri, -labour).
MORE_ORGANISATIONS = [
    ("agency-nfe", "สำนักงานส่งเสริมการเรียนรู้ประจำจังหวัดกาฬสินธุ์ (กศน.)",
     "Kalasin Provincial Learning Promotion Office (non-formal education)"),
    ("agency-baac", "ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร สำนักงานจังหวัดกาฬสินธุ์", "BAAC Kalasin Provincial Office"),
    ("agency-ksu", "มหาวิทยาลัยกาฬสินธุ์", "Kalasin University"),
    ("agency-ngo", "มูลนิธิพัฒนาชนบทอีสาน (สมมติ)", "Isan Rural Development Foundation (fictional)"),
    ("agency-codi", "สถาบันพัฒนาองค์กรชุมชน (พอช.) ภาคอีสาน", "Community Organizations Development Institute, Northeast"),
]  # fmt: skip

# Organisation code → (agency code, agency type of the needs instrument, short name).
AGENCIES = {
    "agency-pso": ("pso", "social_development", "พมจ."),
    "agency-ppho": ("ppho", "public_health", "สสจ."),
    "agency-pcdo": ("pcdo", "community_development", "พช.จังหวัด"),
    "agency-pao-agri": ("agri", "agriculture", "เกษตรจังหวัด"),
    "agency-labour": ("labour", "labour", "แรงงานจังหวัด"),
    "agency-nfe": ("nfe", "non_formal_education", "กศน."),
    "agency-baac": ("baac", "bank", "ธ.ก.ส."),
    "agency-ksu": ("ksu", "university", "ม.กาฬสินธุ์"),
    "agency-ngo": ("ngo", "ngo", "มูลนิธิ"),
    "agency-codi": ("codi", "housing", "พอช."),
}


@dataclass(frozen=True)
class DemoService:
    agency: str  # agency code
    code: str
    name_th: str
    name_en: str
    needs: tuple[str, ...]
    due_days: int
    kind: str  # AssistanceKind of the help it gives
    baht: tuple[int, int, int]  # low, high, step of the value of that help


SERVICES = [
    DemoService("pso", "welfare-registration", "ขึ้นทะเบียนสวัสดิการและเบี้ยยังชีพ", "Welfare and allowance registration",
                ("care", "elderly_income", "welfare_card"), 15, "welfare_registration", (0, 0, 1)),
    DemoService("pso", "house-repair", "ซ่อมแซมบ้านผู้ยากไร้", "Housing repair for the poor",
                ("housing_repair", "secure_housing"), 60, "housing_repair", (20_000, 40_000, 1_000)),
    DemoService("pso", "family-aid", "เงินสงเคราะห์ครอบครัวผู้มีรายได้น้อย", "Cash aid for low-income families",
                ("care", "schooling", "income_support"), 30, "cash", (1_000, 3_000, 500)),
    DemoService("ppho", "home-care", "เยี่ยมบ้านและดูแลผู้ป่วยติดบ้านติดเตียง", "Home visits and care",
                ("care", "health_service"), 15, "health_service", (0, 0, 1)),
    DemoService("ppho", "water-safety", "ตรวจคุณภาพน้ำและภาชนะเก็บน้ำ", "Water testing and storage jars",
                ("clean_water",), 30, "in_kind", (2_000, 4_000, 500)),
    DemoService("pcdo", "community-enterprise", "ส่งเสริมอาชีพและวิสาหกิจชุมชน", "Livelihoods and community enterprises",
                ("income_support", "job_training", "social_inclusion"), 45, "enterprise_support", (5_000, 15_000, 1_000)),
    DemoService("pcdo", "debt-clinic", "คลินิกแก้หนี้และกองทุนชุมชน", "Debt clinic and community funds",
                ("debt", "savings", "social_inclusion"), 30, "other", (0, 0, 1)),
    DemoService("agri", "farm-inputs", "ปัจจัยการผลิตและแหล่งน้ำเพื่อการเกษตร", "Farm inputs and farm water",
                ("farmland", "income_support"), 45, "in_kind", (1_500, 5_000, 500)),
    DemoService("labour", "skills-training", "ฝึกอาชีพระยะสั้นและจัดหางาน", "Short skills training and job placement",
                ("job_training", "income_support"), 45, "training", (3_000, 3_000, 1)),
    DemoService("nfe", "literacy", "ส่งเสริมการอ่านออกเขียนได้และการศึกษาต่อเนื่อง", "Literacy and continuing education",
                ("literacy", "job_training", "schooling"), 60, "training", (3_000, 3_000, 1)),
    DemoService("baac", "debt-restructuring", "ปรับโครงสร้างหนี้และสินเชื่อแก้หนี้นอกระบบ", "Debt restructuring loans",
                ("debt", "savings"), 30, "loan", (10_000, 50_000, 5_000)),
    DemoService("ksu", "product-development", "พัฒนาผลิตภัณฑ์และการตลาดชุมชน", "Product and market development",
                ("income_support",), 60, "enterprise_support", (5_000, 10_000, 1_000)),
    DemoService("ngo", "volunteer-repair", "ซ่อมบ้านโดยอาสาสมัคร", "Volunteer house repairs",
                ("housing_repair", "care"), 45, "housing_repair", (20_000, 30_000, 1_000)),
    DemoService("codi", "secure-housing", "บ้านมั่นคงชนบท", "Secure rural housing",
                ("secure_housing", "housing_repair"), 90, "housing_repair", (25_000, 40_000, 1_000)),
]  # fmt: skip

# How each referral ends (its path through the workflow) and how many of TARGET.
OUTCOMES: dict[str, tuple[tuple[str, ...], int]] = {
    "draft": ((), 8),
    "cancelled_draft": (("cancelled",), 3),
    "sent": (("sent",), 22),
    "cancelled_sent": (("sent", "cancelled"), 3),
    "accepted": (("sent", "accepted"), 14),
    "in_progress": (("sent", "accepted", "in_progress"), 16),
    "completed": (("sent", "accepted", "in_progress", "completed"), 34),
    "returned": (("sent", "returned"), 6),
    "sent_on": (("sent", "returned", "sent", "accepted"), 4),
    "not_possible": (("sent", "accepted", "not_possible"), 6),
    "not_possible_late": (("sent", "accepted", "in_progress", "not_possible"), 4),
}
OPEN_OUTCOMES = ("sent", "accepted", "in_progress", "sent_on")

NOTES = {
    "housing_repair": ["หลังคารั่วหลายจุด", "ฝาบ้านผุ พื้นไม้ชำรุด", "บ้านทรุด เสาไม้ผุ"],
    "secure_housing": ["อาศัยบ้านญาติ ไม่มีที่ดินเป็นของตนเอง", "ปลูกบ้านบนที่ดินผู้อื่น"],
    "clean_water": ["ไม่มีโอ่งเก็บน้ำฝน", "น้ำบาดาลขุ่น ดื่มไม่ได้"],
    "care": ["ผู้สูงอายุติดเตียง ไม่มีผู้ดูแลกลางวัน", "คนพิการยังไม่ได้ขึ้นทะเบียน"],
    "job_training": ["ว่างงาน อยากฝึกอาชีพช่าง", "ต้องการงานใกล้บ้าน"],
    "elderly_income": ["ผู้สูงอายุไม่มีรายได้ อยากทำอาชีพเสริม", "ยังไม่ได้รับเบี้ยยังชีพ"],
    "income_support": ["รายได้ไม่พอรายจ่าย", "ทอผ้าไหมอยู่แล้ว ต้องการตลาด"],
    "welfare_card": ["ยังไม่ได้ลงทะเบียนบัตรสวัสดิการแห่งรัฐ"],
    "schooling": ["เด็กเสี่ยงหลุดออกจากโรงเรียน", "ค่าเดินทางไปโรงเรียน"],
    "literacy": ["ผู้ใหญ่อ่านหนังสือไม่ออก"],
    "health_service": ["ไม่ได้ฉีดวัคซีนตามนัด", "ต้องการตรวจสุขภาพประจำปี"],
    "debt": ["หนี้นอกระบบดอกเบี้ยสูง"],
    "savings": ["ไม่มีเงินออม"],
    "farmland": ["ไม่มีที่ดินทำกิน", "ขาดน้ำทำการเกษตรหน้าแล้ง"],
    "social_inclusion": ["ยังไม่ได้เป็นสมาชิกกลุ่มหรือกองทุนในชุมชน"],
}
REASONS = {
    "returned": ["อยู่นอกภารกิจของหน่วยงาน", "งบประมาณโครงการนี้หมดแล้ว โปรดส่งหน่วยงานอื่น", "ต้องการหน่วยงานเฉพาะด้าน"],
    "cancelled": ["ครัวเรือนย้ายออกนอกพื้นที่", "ส่งต่อซ้ำ", "ครัวเรือนได้รับความช่วยเหลือแล้ว"],
    "not_possible": ["ไม่ผ่านเกณฑ์คุณสมบัติของโครงการ", "ติดต่อครัวเรือนไม่ได้หลายครั้ง", "ครัวเรือนไม่ประสงค์รับความช่วยเหลือ"],
}


def seed_referrals(*, seed: int = 46) -> list[str]:
    from django.db import transaction

    with transaction.atomic():  # all or nothing, so a second run is never half-way
        return _seed(seed)


def _plan(rng: random.Random) -> list[str]:
    """The outcome of each referral in order: one of every outcome first (so a small demo
    still shows every state), then the rest shuffled."""
    rest = [o for o, (_, n) in OUTCOMES.items() for _ in range(n - 1)]
    rng.shuffle(rest)
    return list(OUTCOMES) + rest


def _agencies(rule_codes: set[str], known_types: set[str]) -> tuple[dict[str, Agency], dict[str, list[Service]]]:
    """Agencies and services of the demo (created or updated); services per need code."""
    from khm.accounts.models import Organisation, OrganisationKind
    from khm.areas.models import Area
    from khm.referrals.models import Agency, Service

    kalasin = Area.objects.get(code="46")
    for code, th, en in MORE_ORGANISATIONS:
        Organisation.objects.update_or_create(
            code=code, defaults={"kind": OrganisationKind.AGENCY, "name_th": th, "name_en": en, "area": kalasin}
        )
    agencies: dict[str, Agency] = {}
    for org in Organisation.objects.filter(code__in=list(AGENCIES)).order_by("code"):
        code, type_, _short = AGENCIES[org.code]
        if type_ not in known_types:
            continue
        agency, _ = Agency.objects.update_or_create(
            organisation=org,
            defaults={"code": code, "name_th": org.name_th, "name_en": org.name_en, "type": type_, "areas": ["46"],
                      "email": f"{code}@kalasin.example", "escalation_email": "poverty-centre@kalasin.example",
                      "active": True},
        )  # fmt: skip
        agencies[code] = agency
    by_need: dict[str, list[Service]] = {}
    for s in SERVICES:
        owner = agencies.get(s.agency)
        needs = [n for n in s.needs if n in rule_codes]
        if owner is None or not needs:
            continue
        service, _ = Service.objects.update_or_create(
            agency=owner, code=s.code,
            defaults={"name_th": s.name_th, "name_en": s.name_en, "needs": needs, "due_days": s.due_days, "active": True},
        )  # fmt: skip
        for n in needs:
            by_need.setdefault(n, []).append(service)
    return agencies, by_need


def _workers(agencies: dict[str, Agency]) -> dict[int, User]:
    """One worker per agency: the demo user ``agency`` for pso, ``agency_<code>`` otherwise."""
    from khm.accounts.models import RoleAssignment, User
    from khm.accounts.roles import Role
    from khm.areas.models import Area
    from khm.demo.seed import DEMO_PASSWORD

    kalasin = Area.objects.get(code="46")
    out: dict[int, User] = {}
    for org_code, (code, _type, short) in AGENCIES.items():
        agency = agencies.get(code)
        if agency is None:
            continue
        username = "agency" if org_code == "agency-pso" else f"agency_{code}"
        user, created = User.objects.get_or_create(
            username=username, defaults={"display_name": f"เจ้าหน้าที่ {short} (Agency worker)"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        RoleAssignment.objects.get_or_create(
            user=user, role=Role.AGENCY_WORKER, organisation=agency.organisation, defaults={"area": kalasin}
        )
        out[agency.pk] = user
    return out


def _choose(
    code: str, agency_types: list[str], by_need: dict[str, list[Service]], rng: random.Random
) -> Service | None:
    """The service of the first agency type the rule suggests, now and then another one."""
    services = by_need.get(code, [])
    if not services:
        return None
    ranked = sorted(
        services,
        key=lambda s: (
            agency_types.index(s.agency.type) if s.agency.type in agency_types else len(agency_types),
            s.agency.code,
            s.code,
        ),
    )
    return ranked[0] if len(ranked) == 1 or rng.random() < 0.75 else rng.choice(ranked[1:])


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    from django.utils import timezone

    moment = dt.datetime.combine(day, dt.time(rng.randint(8, 15), rng.randrange(60)))
    return timezone.make_aware(moment)


def _value(spec: DemoService | None, rng: random.Random) -> tuple[str, Decimal]:
    if spec is None:
        return "other", Decimal(0)
    low, high, step = spec.baht
    return spec.kind, Decimal(rng.randrange(low, high + 1, step))


def _seed(seed: int) -> list[str]:
    from django.utils import timezone

    from khm.accounts.models import User
    from khm.accounts.scoping import can
    from khm.assessment import instruments
    from khm.assessment.models import AssessmentResult
    from khm.referrals import services, workflow
    from khm.referrals.models import AssistanceKind, Referral, ReferralEvent, State
    from khm.registry.models import HouseholdStatus

    if Referral.objects.exists():
        return ["referrals already exist: left as they are"]
    officers = {u.username: u for u in User.objects.filter(username__in=["local", "district"])}
    if len(officers) < 2:
        return ["demo users missing: no referrals"]
    needs_def = instruments.definition(instruments.current_of_kind("needs")) or {}
    rules = {r["code"]: r for r in needs_def.get("rules", [])}
    labels = {code: r.get("label", {}).get("th", code) for code, r in rules.items()}
    known_types = {t["code"] for t in needs_def.get("agency_types", [])}
    agencies, by_need = _agencies(set(labels), known_types)
    workers = _workers(agencies)
    rng = random.Random(seed)
    today = timezone.localdate()
    specs = {(s.agency, s.code): s for s in SERVICES}

    results = list(
        AssessmentResult.objects.filter(current=True, round=ROUND, area_code__startswith=DISTRICT)
        .select_related("household", "assessment")
        .only("household", "assessment__ref", "area_code", "level", "needs")
        .order_by("area_code", "household_id")
    )
    rng.shuffle(results)
    picks: list[tuple[Any, str, Service]] = []
    for res in results:
        if len(picks) >= TARGET:
            break
        h = res.household
        if h.status != HouseholdStatus.ACTIVE or not can(officers["district"], "referral.create", h.area_code):
            continue
        taken = 0
        for need in res.needs:  # codes, most urgent first
            code = need["code"] if isinstance(need, dict) else str(need)
            service = _choose(code, list(rules.get(code, {}).get("agency_types", [])), by_need, rng)
            if service is None or taken >= NEEDS_PER_HOUSEHOLD or len(picks) >= TARGET:
                continue
            picks.append((res, code, service))
            taken += 1
    plan = _plan(rng)
    open_slots = [i for i, o in enumerate(plan[: len(picks)]) if o in OPEN_OUTCOMES and o != "sent_on"]
    overdue = set(open_slots[len(OUTCOMES) :: 5][:OVERDUE]) or set(open_slots[:1])

    def officer_for(area_code: str) -> User:
        return officers["local"] if can(officers["local"], "referral.create", area_code) else officers["district"]

    def other_agency(r: Referral) -> Agency:
        candidates = [s.agency for s in by_need.get(r.need, []) if s.agency_id != r.agency_id]
        return candidates[0] if candidates else next(a for a in agencies.values() if a.pk != r.agency_id)

    made: list[tuple[Referral, str]] = []
    for i, (res, code, service) in enumerate(picks):
        outcome = plan[i]
        steps, _n = OUTCOMES[outcome]
        officer = officer_for(res.household.area_code)
        r = services.referral_create(
            actor=officer, household=res.household, need=code, need_label=labels.get(code, code),
            agency=service.agency, service=service, note=rng.choice(NOTES.get(code, [""])), send=False,
            source=f"assessment:{res.assessment.ref}",
        )  # fmt: skip
        for to in steps:
            rule = workflow.allowed(r.state, to)
            assert rule is not None, (r.state, to)
            actor = officer if rule.by == "officer" else workers[r.agency_id]
            reason = rng.choice(REASONS.get(to, [""])) if rule.reason else ""
            new_agency = other_agency(r) if rule.new_agency else None
            r = services.referral_transition(actor=actor, referral=r, to=to, reason=reason, agency=new_agency)
        _backdate(r, outcome, i in overdue, today, rng)
        made.append((r, outcome))

    escalated = services.referrals_escalate(today=today)

    # Assistance for the completed referrals, given on the day they were completed.
    total = Decimal(0)
    n_help = 0
    for r, outcome in made:
        if outcome != "completed":
            continue
        r.refresh_from_db()
        spec = specs.get((r.agency.code, r.service.code)) if r.service else None
        kind, value = _value(spec, rng)
        assert kind in AssistanceKind.values
        given = timezone.localdate(r.closed_at) if r.closed_at else today
        services.assistance_record(
            actor=workers[r.agency_id], household=r.household, kind=kind, agency=r.agency, given_on=given,
            value_baht=value, programme=r.service.name_th if r.service else "", referral=r,
        )  # fmt: skip
        total += value
        n_help += 1

    # One distribution event: relief bags for poor households of the district, one batch.
    pso = agencies.get("pso")
    relief = 0
    if pso is not None:
        poor = sorted(
            (res for res in results if res.level is not None and res.level <= 2
             and res.household.status == HouseholdStatus.ACTIVE),
            key=lambda res: res.household_id,
        )  # fmt: skip
        given = today - dt.timedelta(days=25)
        for res in rng.sample(poor, min(RELIEF_HOUSEHOLDS, len(poor))):
            # A distribution event is entered by the district office for the agency's list
            # (an agency worker may record help only for households referred to it).
            services.assistance_record(
                actor=officer_for(res.household.area_code), household=res.household, kind=AssistanceKind.IN_KIND, agency=pso,
                given_on=given, value_baht=RELIEF_BAHT, programme="ถุงยังชีพช่วยเหลือครัวเรือนเปราะบาง",
                note="ถุงยังชีพ", batch=f"relief-{given:%Y%m%d}",
            )  # fmt: skip
            relief += 1

    states = Counter(Referral.objects.values_list("state", flat=True))
    n_events = ReferralEvent.objects.count()
    return [
        f"{len(agencies)} agencies with {sum(len(v) for v in by_need.values())} need-services; "
        f"workers: {', '.join(sorted(u.username for u in workers.values()))}",
        f"{len(made)} referrals ({n_events} workflow steps): "
        + ", ".join(f"{s} {states.get(s, 0)}" for s in State.values),
        f"{escalated} overdue referrals escalated",
        f"{n_help} assistance records for completed referrals ({total:,.0f} baht); "
        f"{relief} relief bags ({relief * RELIEF_BAHT:,} baht) in one batch",
    ]


def _backdate(r: Referral, outcome: str, overdue: bool, today: dt.date, rng: random.Random) -> None:
    """Spread a referral's life over the past months: open ones sent within their time to
    act (the overdue ones beyond it), closed ones earlier; the due date keeps the time to
    act of the last sending."""
    from django.utils import timezone

    from khm.referrals.models import Referral, ReferralEvent, State

    events = list(r.events.order_by("at", "id"))
    days_to_act = (r.due_on - today).days if r.due_on else 30
    if outcome == "draft":
        age = rng.randint(0, 10)
    elif outcome in OPEN_OUTCOMES:
        age = days_to_act + rng.randint(3, 25) if overdue else rng.randint(1, max(1, days_to_act - 2))
    else:
        age = rng.randint(20, 160)
    start = today - dt.timedelta(days=age)
    created = _at(start - dt.timedelta(days=rng.randint(0, 3)), rng)
    span = rng.randint(0, age)  # days from the first step to the last
    now = timezone.now()
    times: list[dt.datetime] = []
    for k in range(len(events)):
        day = start + dt.timedelta(days=round(span * k / (len(events) - 1))) if len(events) > 1 else start
        lower = times[-1] + dt.timedelta(minutes=5) if times else created
        times.append(max(min(_at(day, rng), now), lower))
    for e, t in zip(events, times, strict=True):
        ReferralEvent.objects.filter(pk=e.pk).update(at=t)
    sends = [t for e, t in zip(events, times, strict=True) if e.to_state == State.SENT]
    update: dict[str, Any] = {"created_at": created}
    if sends:
        update["sent_at"] = sends[-1]
        update["due_on"] = timezone.localdate(sends[-1]) + dt.timedelta(days=days_to_act)
    if r.closed_at is not None and times:
        update["closed_at"] = times[-1]
    Referral.objects.filter(pk=r.pk).update(**update)
