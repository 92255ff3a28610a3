"""Tracking figures (khm/referrals/tracking.py) worked by hand, the page, its export and who
sees which figures. The fixture helpers here are shared with test_assistance/test_timeline."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from django.test import Client
from django.utils import timezone

from khm.referrals import services, tracking
from khm.referrals.models import Agency, Assistance, Referral

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- helpers


@dataclass
class Aid:
    cast: Any
    pso: Agency  # the agency of cast.orgs["agency"]: the cast's ``agency`` user works there
    cdd: Agency  # another agency, with its own worker
    cdd_worker: Any


def make_aid(cast: Any) -> Aid:
    from khm.accounts.models import Organisation, OrganisationKind, RoleAssignment, User
    from khm.accounts.roles import Role

    pso = Agency.objects.create(
        code="pso", name_th="พมจ.กาฬสินธุ์", name_en="Kalasin PSO", type="social_development",
        organisation=cast.orgs["agency"], areas=["46"],
    )  # fmt: skip
    org = Organisation.objects.create(
        code="agency-cdd", kind=OrganisationKind.AGENCY, name_th="พัฒนาชุมชนจังหวัด", area=cast.areas["46"]
    )
    cdd = Agency.objects.create(
        code="cdd", name_th="พัฒนาชุมชนจังหวัด", name_en="Community Development", type="community_development",
        organisation=org, areas=["46"],
    )  # fmt: skip
    worker = User.objects.create_user(username="cddworker", password="correct-horse-battery")
    RoleAssignment.objects.create(user=worker, role=Role.AGENCY_WORKER, organisation=org, area=cast.areas["46"])
    return Aid(cast=cast, pso=pso, cdd=cdd, cdd_worker=worker)


@pytest.fixture
def aid(cast: Any) -> Aid:
    return make_aid(cast)


def new_household(actor: Any, village: str, house_no: str) -> Any:
    from khm.registry import services as registry_services

    return registry_services.household_create(actor=actor, village_code=village, house_no=house_no)


def assess(household: Any, on: dt.date, *, target: bool = True, round: str = "2568", level: int = 1) -> Any:
    """A scored assessment whose current result says target poor or not (no questionnaire)."""
    from khm.assessment import instruments as inst
    from khm.assessment.models import Assessment, AssessmentResult, ScoringRun
    from khm.registry.models import new_code

    cap = inst.current_of_kind("capitals")
    assert cap is not None
    run = ScoringRun.objects.create(capitals_instrument=cap, code_version="test", round=round)
    a = Assessment.objects.create(
        ref=new_code("A"), household=household, area_code=household.area_code, round=round, assessed_on=on,
        method="desk", capitals_instrument=cap, data={}, data_hash="0" * 64,
    )  # fmt: skip
    AssessmentResult.objects.create(
        run=run, assessment=a, household=household, area_code=household.area_code, round=round, current=True,
        level=level, target_poor=target, tpmap_poor=target, detail={}, result_hash="0" * 64,
    )  # fmt: skip
    return a


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def refer(actor: Any, household: Any, agency: Agency, sent_on: dt.date, due_on: dt.date | None = None) -> Referral:
    r = services.referral_create(
        actor=actor, household=household, need="housing_repair", need_label="ซ่อมแซมที่อยู่อาศัย", agency=agency
    )
    Referral.objects.filter(pk=r.pk).update(sent_at=at(sent_on), due_on=due_on or sent_on + dt.timedelta(days=30))
    r.refresh_from_db()
    return r


def give(
    actor: Any, household: Any, agency: Agency, on: dt.date, value: int | str, kind: str = "cash", **kw: Any
) -> Assistance:
    return services.assistance_record(
        actor=actor, household=household, kind=kind, agency=agency, given_on=on, value_baht=value, **kw
    )


D = dt.date


@dataclass
class Kpi:
    aid: Aid
    h1: Any
    h2: Any
    h3: Any
    h4: Any
    h5: Any


@pytest.fixture
def kpi(aid: Aid) -> Kpi:
    """Hand-built: in Ploy's subdistrict 460101 four target-poor households (h1–h3 in village
    46010101, h4 in 46010102) and one that is not (h5, 46010102), all assessed on 10 Jan 2025.

    * h1: referred to PSO on 1 Mar 2025 (due in 10 days from today: open, not overdue); helped
      by PSO with 15,000 baht cash on 13 Mar 2025 → 12 days from need to help;
    * h2: referred to PSO on 5 Mar 2025, due 4 Apr 2025 (open and overdue); not helped;
    * h3, h4: not referred, not helped;
    * h5 (not target poor): 2,000 baht in kind from CDD on 1 Feb 2025.

    In Somchai's district 4605: his household is target poor (assessed 10 Jan 2025) and got
    500 baht cash from CDD on 10 Feb 2025 without a referral → 31 days from the assessment.
    """
    c = aid.cast
    h1, h5 = c.household, new_household(c.ploy, "46010102", "5")
    h2, h3 = new_household(c.ploy, "46010101", "12"), new_household(c.ploy, "46010101", "13")
    h4 = new_household(c.ploy, "46010102", "4")
    for h in (h1, h2, h3, h4, c.other_household):
        assess(h, D(2025, 1, 10))
    assess(h5, D(2025, 1, 10), target=False, level=3)
    refer(c.ploy, h1, aid.pso, D(2025, 3, 1), due_on=timezone.localdate() + dt.timedelta(days=10))
    refer(c.ploy, h2, aid.pso, D(2025, 3, 5), due_on=D(2025, 4, 4))
    give(c.ploy, h1, aid.pso, D(2025, 3, 13), 15000)
    give(c.ploy, h5, aid.cdd, D(2025, 2, 1), 2000, kind="in_kind")
    give(c.somchai, c.other_household, aid.cdd, D(2025, 2, 10), 500)
    return Kpi(aid=aid, h1=h1, h2=h2, h3=h3, h4=h4, h5=h5)


# --------------------------------------------------------------------------- pure figures


def test_median_and_p90_by_nearest_rank():
    assert tracking.median([]) is None and tracking.p90([]) is None
    assert tracking.median([12]) == 12.0 and tracking.p90([12]) == 12
    # [3, 12, 20, 40]: median (12 + 20) / 2 = 16; p90 rank ⌈0.9 × 4⌉ = 4 → 40.
    assert tracking.median([40, 3, 20, 12]) == 16.0 and tracking.p90([40, 3, 20, 12]) == 40
    # 1..10: p90 rank ⌈9⌉ = 9 → 9; 1..11: rank ⌈9.9⌉ = 10 → 10.
    assert tracking.p90(list(range(1, 11))) == 9 and tracking.p90(list(range(1, 12))) == 10


def test_compute_on_hand_built_frames():
    """Five target households assessed on 1 Jan 2025 (today is 1 Feb 2025).

    h1: sent 11 Jan (due 20 Jan, still "sent": overdue); help 14 Jan and 1 Feb → 3 days
        (the first help on or after the start counts);
    h2: sent 1 Feb ("completed") and 1 Mar ("accepted", no due date): the first sent
        referral starts the clock; help 13 Feb → 12 days;
    h3: only a draft (not referred) → the clock starts at the assessment; help 21 Jan → 20 days;
    h4: no referral; help 10 Feb → 40 days;
    h5: help on 1 Dec 2024, before its assessment → helped, but no time (help before need).

    helped 5/5, referred 2 (the draft does not count), days [3, 12, 20, 40] → median 16, p90 40;
    open 2 (h1 sent, h2 accepted), overdue 1 (h1).
    """
    jan1 = D(2025, 1, 1)
    target = pl.DataFrame(
        {"household_id": [1, 2, 3, 4, 5], "area_code": ["46010101"] * 3 + ["46010102"] * 2, "assessed_on": [jan1] * 5},
        schema=tracking.TARGET_SCHEMA,
    )
    referrals = pl.DataFrame(
        [
            (1, "46010101", 7, "sent", D(2025, 1, 11), D(2025, 1, 20)),
            (2, "46010101", 7, "completed", D(2025, 2, 1), D(2025, 3, 1)),
            (2, "46010101", 7, "accepted", D(2025, 3, 1), None),
            (3, "46010101", 8, "draft", None, None),
        ],
        schema=tracking.REFERRAL_SCHEMA,
        orient="row",
    )
    assistance = pl.DataFrame(
        [
            (1, "46010101", 7, "cash", 100000, D(2025, 1, 14)),
            (1, "46010101", 7, "cash", 50050, D(2025, 2, 1)),
            (2, "46010101", 7, "in_kind", 20000, D(2025, 2, 13)),
            (3, "46010101", 8, "training", 0, D(2025, 1, 21)),
            (4, "46010102", 8, "cash", 30000, D(2025, 2, 10)),
            (5, "46010102", 8, "cash", 1000, D(2024, 12, 1)),
            (9, "46010102", 8, "cash", 2500, D(2025, 1, 5)),  # not a target household
        ],
        schema=tracking.ASSISTANCE_SCHEMA,
        orient="row",
    )
    fig = tracking.compute(tracking.Frames(target, referrals, assistance), today=D(2025, 2, 1), child_len=8)
    assert (fig.target, fig.referred, fig.helped, fig.not_helped) == (5, 2, 5, 0)
    assert fig.share_helped == 1.0 and fig.target_met
    assert (fig.days_n, fig.days_median, fig.days_p90, fig.help_before_need) == (4, 16.0, 40, 1)
    # 1,000 + 500.50 + 200 + 0 + 300 + 10 + 25 = 2,035.50 baht; 2,010.50 of it to target households.
    assert fig.value_total == Decimal("2035.50") and fig.value_target == Decimal("2010.50")
    assert fig.records == 7
    assert [(r["kind"], r["records"], r["value"]) for r in fig.by_kind] == [
        ("cash", 5, Decimal("1835.50")),
        ("in_kind", 1, Decimal("200.00")),
        ("training", 1, Decimal("0.00")),
    ]
    assert [(r["agency_id"], r["households"], r["value"]) for r in fig.by_agency] == [
        (7, 2, Decimal("1700.50")),
        (8, 4, Decimal("335.00")),
    ]
    assert (fig.open, fig.overdue) == (2, 1)
    assert fig.open_by_agency == [{"agency_id": 7, "open": 2, "overdue": 1}]
    # Per village: 46010101 holds h1–h3 (days 3, 12, 20 → median 12); 46010102 h4, h5 and #9.
    v1, v2 = fig.children["46010101"], fig.children["46010102"]
    assert (v1.target, v1.referred, v1.helped, v1.days_median, v1.open) == (3, 2, 3, 12.0, 2)
    assert (v2.target, v2.helped, v2.days_median, v2.help_before_need, v2.value_total) == (
        2,
        2,
        40.0,
        1,
        Decimal("335.00"),
    )


def test_empty_frames_give_zeros():
    fig = tracking.compute(tracking.load_frames(tracking.Scope(), "2568", None), today=D(2025, 1, 1))
    assert (fig.target, fig.helped, fig.share_helped, fig.value_total, fig.days_median) == (0, 0, None, 0, None)


# --------------------------------------------------------------------------- from the database


def test_kpis_worked_by_hand(kpi: Kpi):
    """Ploy's subdistrict 460101: 4 target poor, 2 referred (h1, h2), 1 helped (h1) → 25 %
    helped (the 10 % goal is met); 15,000 + 2,000 = 17,000 baht given, 15,000 to target poor;
    median and p90 12 days; open referrals 2 (PSO), 1 overdue (h2)."""
    c = kpi.aid.cast
    fig = tracking.tracking_figures(c.ploy, "460101", "2568")
    assert (fig.target, fig.referred, fig.helped, fig.not_helped) == (4, 2, 1, 3)
    assert fig.share_helped == 0.25 and fig.target_met
    assert fig.value_total == Decimal("17000.00") and fig.value_target == Decimal("15000.00")
    assert [(r["kind"], r["value"]) for r in fig.by_kind] == [("cash", Decimal("15000.00")), ("in_kind", Decimal("2000.00"))]  # fmt: skip
    assert [(r["agency_id"], r["value"]) for r in fig.by_agency] == [
        (kpi.aid.pso.pk, Decimal("15000.00")),
        (kpi.aid.cdd.pk, Decimal("2000.00")),
    ]
    assert (fig.days_n, fig.days_median, fig.days_p90) == (1, 12.0, 12)
    assert (fig.open, fig.overdue) == (2, 1)
    assert fig.open_by_agency == [{"agency_id": kpi.aid.pso.pk, "open": 2, "overdue": 1}]
    v1, v2 = fig.children["46010101"], fig.children["46010102"]
    assert (v1.target, v1.referred, v1.helped, v1.value_total) == (3, 2, 1, Decimal("15000.00"))
    assert (v2.target, v2.referred, v2.helped, v2.value_total) == (1, 0, 0, Decimal("2000.00"))
    # Another round has no target household: nothing helped *of the target*, the value stays.
    other = tracking.tracking_figures(c.ploy, "460101", "2567")
    assert (other.target, other.helped, other.share_helped, other.value_total) == (0, 0, None, Decimal("17000.00"))
    # Dara (district officer of 4601) sees the same for the district.
    assert tracking.tracking_figures(c.dara, "4601", "2568").target == 4


def test_the_province_adds_somchais_district(kpi: Kpi):
    """Province: 5 target, 2 helped (h1 after 12 days, Somchai's after 31 from its assessment)
    → 40 %; median (12 + 31) / 2 = 21.5; p90 rank ⌈1.8⌉ = 2 → 31; 17,500 baht."""
    fig = tracking.tracking_figures(kpi.aid.cast.admin, "46", "2568")
    assert (fig.target, fig.referred, fig.helped, fig.share_helped) == (5, 2, 2, 0.4)
    assert (fig.days_median, fig.days_p90, fig.value_total) == (21.5, 31, Decimal("17500.00"))
    assert set(fig.children) == {"4601", "4605"}


def test_somchai_sees_only_his_area(kpi: Kpi):
    c = kpi.aid.cast
    fig = tracking.tracking_figures(c.somchai, "46", "2568")
    assert (fig.target, fig.referred, fig.helped, fig.value_total, fig.days_median) == (
        1,
        0,
        1,
        Decimal("500.00"),
        31.0,
    )
    assert fig.open == 0 and set(fig.children) == {"4605"}
    # Ploy's district is outside his scope: nothing, and the page answers 404.
    assert tracking.tracking_figures(c.somchai, "4601", "2568").target == 0
    client = Client()
    client.force_login(c.somchai)
    assert client.get("/referrals/tracking/", {"area": "4601"}).status_code == 404
    page = client.get("/referrals/tracking/", {"area": "46", "round": "2568"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "กุฉินารายณ์" in body and "เมืองกาฬสินธุ์" not in body  # his district's row only
    assert page.context["fig"].target == 1


def test_an_agency_worker_counts_only_their_agencys_referrals_and_help(kpi: Kpi):
    c, aid = kpi.aid.cast, kpi.aid
    # PSO's worker: the area's 5 target poor; PSO referred h1, h2 and helped h1 with 15,000.
    fig = tracking.tracking_figures(c.agency, "46", "2568")
    assert (fig.target, fig.referred, fig.helped, fig.value_total) == (5, 2, 1, Decimal("15000.00"))
    assert [r["agency_id"] for r in fig.by_agency] == [aid.pso.pk] and fig.open == 2
    # CDD's worker: no referral; helped Somchai's household (target) and h5 (not): 2,500 baht.
    fig = tracking.tracking_figures(aid.cdd_worker, "46", "2568")
    assert (fig.target, fig.referred, fig.helped, fig.value_total, fig.open) == (5, 0, 1, Decimal("2500.00"), 0)
    client = Client()
    client.force_login(c.agency)
    assert client.get("/referrals/tracking/", {"area": "46", "agency": "cdd"}).status_code == 404
    page = client.get("/referrals/tracking/", {"area": "46", "agency": "pso"})
    assert page.status_code == 200 and page.context["fig"].value_total == Decimal("15000.00")
    # An officer may look at one agency.
    assert tracking.tracking_figures(c.admin, "46", "2568", agency=aid.cdd).value_total == Decimal("2500.00")


def test_tracking_page_shows_aggregates_only_and_exports(kpi: Kpi):
    c = kpi.aid.cast
    client = Client()
    client.force_login(c.ploy)
    page = client.get("/referrals/tracking/")  # Ploy's default area: her subdistrict
    assert page.status_code == 200 and page.context["area"].code == "460101"
    body = page.content.decode()
    assert "25.0 %" in body and "15,000" in body
    for secret in ("บุญมี", "ศรีสุข", "99/1", kpi.h1.code):
        assert secret not in body
    x = client.get("/referrals/tracking/export.xlsx", {"area": "460101", "round": "2568"})
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content))
    summary = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert 4 in summary.values() and 0.25 in summary.values() and 17000.0 in summary.values()
    areas = list(wb.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2], r[4]) for r in areas] == [("46010101", 3, 1), ("46010102", 1, 0)]
    csv_ = client.get("/referrals/tracking/export.csv", {"area": "460101", "round": "2568"})
    text = csv_.content.decode("utf-8-sig")
    assert csv_.status_code == 200 and "46010101" in text and "บุญมี" not in text
    assert client.get("/referrals/tracking/export.pdf").status_code == 404
    # Roles without tracking.view (a village volunteer) are refused.
    client.force_login(c.vee)
    assert client.get("/referrals/tracking/").status_code == 403
