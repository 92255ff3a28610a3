"""Demo livelihoods ("3 in 1"): community enterprises in several Kalasin districts, the
households linked to them, and income before and after.

:func:`seed_livelihoods` gives the demo (after ``seed_referrals``: agencies and the 2567 /
2568 assessments exist):

* **Six community enterprises** typical of Kalasin — Phrae Wa silk, Lam Pao fermented fish,
  organic jasmine rice, indigo-dyed cloth, mushrooms and safe vegetables, beef cattle — each
  in the village with the most assessed households of one of the six districts with the most
  (Mueang Kalasin and Kuchinarai always among them, so the demo users ``district``/``local``
  and ``local2`` see some), with a registration number, products, value-chain stages, what
  it needs (labour, raw material, skills) and the support it gets from the demo agencies.
* **Links**: for each need, the best households the matching engine suggests in the
  enterprise's district (else other assessed households of the district), linked through
  ``link_create`` between October 2024 and January 2025 — each also a help record of kind
  "enterprise support" — under the programme "3 ใน 1 กาฬสินธุ์ 2567".
* **Income**: a baseline (October 2023 – September 2024, 12 months, by source) imported
  through the spreadsheet import path for the linked households and for comparison
  households never linked (same subdistricts and assessment levels); follow-ups for January–
  June and July–December 2025 (6 months each). Linked households gain about 28 % on
  average (a new "community enterprise" source), the comparison group about 5 %.

Deterministic for a seed. Does nothing once enterprises exist. Nothing here imports Django
models at module level.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

PROGRAMME = "3 ใน 1 กาฬสินธุ์ 2567"
BASELINE = (dt.date(2023, 10, 1), dt.date(2024, 9, 30))
FOLLOW_UPS = ((dt.date(2025, 1, 1), dt.date(2025, 6, 30)), (dt.date(2025, 7, 1), dt.date(2025, 12, 31)))
LINK_DAYS = (dt.date(2024, 10, 1), dt.date(2024, 11, 1), dt.date(2024, 12, 1), dt.date(2025, 1, 1))
ALWAYS = ("4601", "4605")
DISTRICTS = 6
COMPARISON_PER_LINKED = 1.5


@dataclass(frozen=True)
class DemoEnterprise:
    name_th: str
    name_en: str
    products: str
    stages: tuple[str, ...]
    needs: tuple[tuple[str, str, int, str], ...]  # kind, stage, quantity, description
    support: tuple[tuple[str, str, int, str], ...]  # kind, agency code, baht, programme
    lead: str  # agency code


ENTERPRISES = [
    DemoEnterprise("วิสาหกิจชุมชนกลุ่มทอผ้าไหมแพรวา", "Phrae Wa silk weaving group", "ผ้าไหมแพรวา, ผ้าพันคอไหม",
                   ("production", "processing", "marketing"),
                   (("labour", "processing", 6, "ทอผ้าและมัดหมี่"), ("raw_material", "production", 4, "รังไหมและใบหม่อน")),
                   (("marketing", "pcdo", 30_000, "OTOP นวัตวิถี"), ("training", "ksu", 15_000, "ออกแบบลายผ้า")), "pcdo"),
    DemoEnterprise("วิสาหกิจชุมชนแปรรูปปลาลำปาว", "Lam Pao fish processing", "ปลาส้ม, ปลาร้าบอง, ปลาแดดเดียว",
                   ("processing", "marketing"),
                   (("labour", "processing", 5, "แปรรูปและบรรจุ"), ("raw_material", "production", 4, "ปลาน้ำจืดจากเขื่อนลำปาว")),
                   (("equipment", "agri", 45_000, "เครื่องซีลสุญญากาศ"), ("marketing", "pcdo", 20_000, "ตลาดออนไลน์")), "pcdo"),
    DemoEnterprise("วิสาหกิจชุมชนข้าวหอมมะลิอินทรีย์", "Organic jasmine rice", "ข้าวหอมมะลิอินทรีย์, ข้าวกล้อง",
                   ("production", "processing", "marketing"),
                   (("raw_material", "production", 6, "ข้าวเปลือกอินทรีย์"), ("skills", "marketing", 2, "ขายออนไลน์และบัญชี")),
                   (("training", "agri", 12_000, "เกษตรอินทรีย์ PGS"), ("funding", "baac", 100_000, "สินเชื่อโรงสีชุมชน")), "agri"),
    DemoEnterprise("วิสาหกิจชุมชนผ้าย้อมคราม", "Indigo-dyed cloth", "ผ้าย้อมคราม, เสื้อผ้าฝ้ายย้อมคราม",
                   ("production", "processing"),
                   (("labour", "processing", 4, "ย้อมครามและตัดเย็บ"), ("skills", "processing", 1, "ตัดเย็บ")),
                   (("training", "nfe", 8_000, "ตัดเย็บเสื้อผ้า"),), "pcdo"),
    DemoEnterprise("วิสาหกิจชุมชนเห็ดและผักปลอดสาร", "Mushrooms and safe vegetables", "เห็ดนางฟ้า, ผักสลัด",
                   ("production", "marketing"),
                   (("labour", "production", 5, "เพาะเห็ดและเก็บผลผลิต"),),
                   (("equipment", "agri", 25_000, "โรงเรือนเพาะเห็ด"),), "agri"),
    DemoEnterprise("วิสาหกิจชุมชนเลี้ยงโคเนื้อ", "Beef cattle group", "โคเนื้อ, ปุ๋ยคอก",
                   ("production",),
                   (("raw_material", "production", 5, "หญ้าเนเปียร์และโคขุน"),),
                   (("funding", "baac", 150_000, "กองทุนโคเนื้อ"), ("training", "agri", 10_000, "การจัดการฟาร์ม")), "agri"),
]  # fmt: skip


def seed_livelihoods(seed: int = 46) -> list[str]:
    from django.db import transaction

    with transaction.atomic():  # all or nothing, so a second run is never half-way
        return _seed(seed)


def _round(x: float) -> int:
    return round(x / 100.0) * 100


def _seed(seed: int) -> list[str]:
    from django.db.models import Count

    from khm.accounts.models import User
    from khm.areas.models import Area
    from khm.assessment.models import AssessmentResult
    from khm.livelihoods import imports, selectors, services
    from khm.livelihoods.models import Enterprise, Link
    from khm.referrals.models import Agency
    from khm.registry.models import Household, Person, PersonStatus

    if Enterprise.objects.exists():
        return ["enterprises already exist: left as they are"]
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        return ["demo users missing: no enterprises"]
    rng = random.Random(seed)
    agencies = {a.code: a for a in Agency.objects.filter(active=True)}
    # Levels of the 2567 round (June 2024): the baseline level of every household.
    level = dict(
        AssessmentResult.objects.filter(current=True, round="2567", area_code__startswith="46").values_list(
            "household_id", "level"
        )
    )
    if not level:
        return ["no 2567 assessments: no enterprises"]
    by_district = Counter(
        a[:4] for a in Household.objects.filter(pk__in=list(level), status="active").values_list("area_code", flat=True)
    )
    districts = [d for d in ALWAYS if by_district.get(d)]
    districts += [d for d, _n in by_district.most_common() if d not in districts][: DISTRICTS - len(districts)]

    made: list[Any] = []
    linked: dict[int, dt.date] = {}
    for i, (spec, district) in enumerate(zip(ENTERPRISES, districts, strict=False)):
        top = (
            Household.objects.filter(pk__in=list(level), area_code__startswith=district)
            .values("area_code")
            .annotate(n=Count("id"))
            .order_by("-n", "area_code")
            .first()
        )
        assert top is not None
        village = Area.objects.get(code=top["area_code"])
        e = services.enterprise_create(
            actor=admin, name_th=f"{spec.name_th}{village.name_th}", name_en=spec.name_en,
            registration_no=f"4-{village.code[:2]}-{village.code[2:4]}-{village.code[4:6]}/1-{1000 + 17 * i + rng.randrange(17):04d}",
            village=village, stages=list(spec.stages), products=spec.products, lead_agency=agencies.get(spec.lead),
        )  # fmt: skip
        for kind, agency_code, baht, programme in spec.support:
            agency = agencies.get(agency_code)
            services.support_add(
                actor=admin, enterprise=e, kind=kind, agency=agency, provider="" if agency else agency_code,
                programme=programme, started_on=dt.date(2024, rng.randint(3, 9), 1), value_baht=baht,
            )  # fmt: skip
        for kind, stage, quantity, description in spec.needs:
            need = services.need_add(
                actor=admin, enterprise=e, kind=kind, stage=stage, quantity=quantity, description=description
            )
            picks = [s.household for s in selectors.suggest_households(admin, need, limit=quantity * 3)]
            picks = [h for h in picks if h.pk not in linked][:quantity]
            if len(picks) < quantity:  # not enough fitting households: other assessed ones of the district
                others = list(
                    Household.objects.filter(pk__in=list(level), area_code__startswith=district, status="active")
                    .exclude(pk__in=list(linked))
                    .exclude(pk__in=[h.pk for h in picks])
                    .order_by("area_code", "code")[: quantity * 4]
                )
                rng.shuffle(others)
                picks += others[: quantity - len(picks)]
            role = "supplier" if kind == "raw_material" else ("member" if kind == "skills" else "worker")
            for h in picks:
                head = Person.objects.filter(household=h, status=PersonStatus.MEMBER).order_by("birth_date").last()
                started = rng.choice(LINK_DAYS)
                services.link_create(
                    actor=admin, enterprise=e, household=h, person=head if role != "supplier" else None, role=role,
                    started_on=started, programme=PROGRAMME,
                )  # fmt: skip
                linked[h.pk] = started
        made.append(e)

    # Comparison households: never linked, same subdistricts and baseline levels.
    linked_hh = {h.pk: h for h in Household.objects.filter(pk__in=list(linked))}
    wanted = Counter((h.area_code[:6], level.get(h.pk)) for h in linked_hh.values())
    comparison: list[Any] = []
    for (sub, lv), n in sorted(wanted.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        pool = [
            h
            for h in Household.objects.filter(area_code__startswith=sub, status="active")
            .exclude(pk__in=list(linked))
            .order_by("code")
            if level.get(h.pk) == lv and h not in comparison
        ]
        rng.shuffle(pool)
        comparison += pool[: max(1, round(n * COMPARISON_PER_LINKED))]

    # Baseline: the income survey of Oct 2023 – Sep 2024, imported as a spreadsheet.
    members = dict(
        Person.objects.filter(household_id__in=[*linked_hh, *(h.pk for h in comparison)], status=PersonStatus.MEMBER)
        .values("household_id")
        .annotate(total=Count("id"))
        .values_list("household_id", "total")
    )
    monthly: dict[int, float] = {}
    rows: list[imports.RawRow] = []
    n = 1
    for h in [*linked_hh.values(), *comparison]:
        lv = level.get(h.pk) or 2
        base = {1: 3_200, 2: 4_800, 3: 7_000, 4: 9_500}[lv] * (0.75 + 0.1 * min(members.get(h.pk, 2), 5))
        base *= rng.uniform(0.8, 1.2)
        monthly[h.pk] = base
        split = {"crops": 0.5, "wages": 0.3, "welfare": 0.2}
        for source, share in split.items():
            n += 1
            rows.append(
                imports.RawRow(n, h.code, source, "10/2566", "9/2567", str(_round(base * share * 12)), "สำรวจรายได้ฐาน")
            )
    preview = imports.check_rows(actor=admin, rows=rows)
    assert preview.ok, preview.problems[:3]
    imports.commit(actor=admin, preview=preview)

    # Follow-ups: linked households gain through the enterprise; others drift a little.
    for h in [*linked_hh.values(), *comparison]:
        is_linked = h.pk in linked_hh
        gain = rng.gauss(0.28, 0.15) if is_linked else rng.gauss(0.05, 0.08)
        for k, (start, end) in enumerate(FOLLOW_UPS):
            months = 6
            total = monthly[h.pk] * (1 + gain * (0.85 if k == 0 else 1.0)) * months
            parts = {"crops": 0.45, "wages": 0.25, "welfare": 0.15}
            amounts = {s: _round(total * p / (sum(parts.values()) if not is_linked else 1)) for s, p in parts.items()}
            if is_linked:
                amounts["enterprise"] = max(0, _round(total) - sum(amounts.values()))
            for source, amount in amounts.items():
                services.income_record(
                    actor=admin, household=h, source=source, period_start=start, period_end=end, amount_baht=amount,
                    method="mobile", note="ติดตามรายได้",
                )  # fmt: skip
    figures = selectors.impact(admin, programme=PROGRAMME).comparison
    lk, cg = figures.linked, figures.comparison
    return [
        f"{len(made)} community enterprises in districts {', '.join(districts[: len(made)])}",
        f"{Link.objects.count()} links of {len(linked)} households ({PROGRAMME}); "
        f"{Link.objects.filter(assistance__isnull=False).count()} counted as help",
        f"income: baseline of {len(linked_hh) + len(comparison)} households imported ({len(rows)} rows), "
        f"{len(FOLLOW_UPS)} follow-ups; {len(comparison)} comparison households",
        f"impact: median change {lk.pct_median or 0:.1f} % (comparison {cg.pct_median or 0:.1f} %), "
        f"{(lk.share_over_threshold or 0) * 100:.0f} % of linked households gained more than 20 %",
    ]
