"""The figures of villages computed from the data (khm.insights.facts.village_facts).

A small world is built by hand (``build_world``) and every metric family is checked against
numbers worked out in the comments. The day of the refresh is fixed (``TODAY``) so that
overdue referrals and followed graduates do not depend on the day the tests run.

Villages: A = 46010101 (Ploy), B = 46010102 (Ploy), C = 46050101 (Somchai).

* A: H0 = the cast's household (บุญมี, head M born 1960, and his wife: 2 members);
  H1 = house 10 (head F born 1970, 1 member).
* B: H2 = house 20 (head F born 1970, a child, and a deceased grandfather: 2 members);
  H3 = house 21, moved away (not active; its head still a member of its record).
* C: O = the cast's other household (head M born 1980, 1 member).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from khm.forums.tests.conftest import household_in, put_on_source_list
from khm.insights.facts import village_facts

pytestmark = pytest.mark.django_db

A, B, C = "46010101", "46010102", "46050101"
TODAY = dt.date(2025, 7, 1)  # the day of the refresh
VILLAGES = [A, B, C]


# --------------------------------------------------------------------------- builders


def person(actor: Any, household: Any, first: str, *, sex: str = "M", born: int = 2010, relation: str = "child") -> Any:
    from khm.registry import services as registry

    return registry.person_create(
        actor=actor, household=household, national_id=None, title="", first_name=first, last_name="ทดสอบ",
        sex=sex, birth_date=dt.date(born, 1, 1), relation=relation,
    )  # fmt: skip


def head(household: Any) -> Any:
    from khm.forums.standing import head_of

    h = head_of(household)
    assert h is not None
    return h


def on_list(people: list[Any], *, code: str, kind: str, round_label: str) -> None:
    """These people on a source list (a committed batch of its own), as an import leaves them."""
    from khm.accounts.models import User
    from khm.sources.models import ImportBatch, MappingProfile, PersonSource, Source

    source, _ = Source.objects.get_or_create(
        code=code, defaults={"kind": kind, "name_th": code, "round_label": round_label}
    )
    profile, _ = MappingProfile.objects.get_or_create(name=f"insights-{kind}", defaults={"kind": kind, "fields": {}})
    batch = ImportBatch.objects.create(
        code=f"I{ImportBatch.objects.count() + 1:07d}", source=source, profile=profile, file_name=f"{code}.csv",
        file_sha256=f"{ImportBatch.objects.count():064d}", file_path="/dev/null",
        uploaded_by=User.objects.order_by("id").first(), status="committed",
    )  # fmt: skip
    for i, p in enumerate(people):
        PersonSource.objects.create(person=p, source=source, batch=batch, row_no=i + 2)


def visit(household: Any, on: dt.date, outcome: str, *, by: Any, campaign: Any = None) -> Any:
    from khm.fieldwork.models import Verification
    from khm.registry.models import new_code

    return Verification.objects.create(
        ref=new_code("V"), key=new_code("K", 20), campaign=campaign, household=household,
        area_code=household.area_code, outcome=outcome, verified_on=on, verified_by=by, method="desk", payload={},
    )  # fmt: skip


def bits(*codes: str) -> int:
    """The deprived_bits of these BMN indicators (bit i = the i-th indicator of the instrument)."""
    from khm.assessment import instruments as inst

    bmn = inst.definition(inst.current_of_kind("bmn"))
    assert bmn is not None
    order = [i["code"] for i in bmn["indicators"]]
    return sum(1 << order.index(c) for c in codes)


def result(
    household: Any,
    round: str,
    level: int,
    *,
    deps: tuple[str, ...] = (),
    tpmap: bool = False,
    target: bool = False,
    mpi: float | None = None,
    mpi_poor: bool | None = None,
    sex: str = "F",
    age: int | None = 50,
    size: int = 1,
    current: bool = True,
    **caps: float,
) -> Any:
    """A scored assessment of ``household`` with a current (or superseded) result as given."""
    from khm.assessment import instruments as inst
    from khm.assessment.models import Assessment, AssessmentResult, ScoringRun
    from khm.registry.models import new_code

    cap, bmn = inst.current_of_kind("capitals"), inst.current_of_kind("bmn")
    assert cap is not None and bmn is not None
    run = ScoringRun.objects.create(capitals_instrument=cap, bmn_instrument=bmn, code_version="test", round=round)
    a = Assessment.objects.create(
        ref=new_code("A"), household=household, area_code=household.area_code, round=round,
        assessed_on=dt.date(int(round) - 543, 6, 1), method="desk", capitals_instrument=cap, bmn_instrument=bmn,
        data={}, data_hash="0" * 64,
    )  # fmt: skip
    values = {"human": 2.0, "physical": 2.0, "financial": 2.0, "natural": 2.0, "social": 2.0, **caps}
    return AssessmentResult.objects.create(
        run=run, assessment=a, household=household, area_code=household.area_code, round=round, current=current,
        level=level, deprived_bits=bits(*deps), tpmap_poor=tpmap, target_poor=target, mpi_score=mpi,
        mpi_poor=mpi_poor, head_sex=sex, head_age=age, size=size, detail={}, result_hash="0" * 64, **values,
    )  # fmt: skip


def agency(cast: Any) -> Any:
    from khm.referrals.models import Agency

    found = Agency.objects.filter(code="pso").first()
    return found or Agency.objects.create(
        code="pso", name_th="พมจ.กาฬสินธุ์", type="social_development", organisation=cast.orgs["agency"], areas=["46"]
    )


def referral(cast: Any, household: Any, state: str, due_on: dt.date | None, *, sent: bool = True) -> Any:
    from django.utils import timezone

    from khm.referrals.models import Referral
    from khm.registry.models import new_code

    return Referral.objects.create(
        ref=new_code("R"), household=household, area_code=household.area_code, need="housing_repair",
        need_label="ซ่อมบ้าน", agency=agency(cast), state=state, due_on=due_on,
        sent_at=timezone.now() if sent else None, created_by=cast.ploy,
    )  # fmt: skip


def assistance(cast: Any, household: Any, baht: str, kind: str = "cash") -> Any:
    from khm.referrals.models import Assistance
    from khm.registry.models import new_code

    return Assistance.objects.create(
        ref=new_code("S"), household=household, area_code=household.area_code, kind=kind, agency=agency(cast),
        given_on=dt.date(2025, 6, 15), value_baht=Decimal(baht), created_by=cast.ploy,
    )  # fmt: skip


def standing(household: Any, status: str, follow_until: dt.date | None = None) -> Any:
    from khm.forums.models import HouseholdStanding

    return HouseholdStanding.objects.create(
        household=household, area_code=household.area_code, status=status, since=dt.date(2025, 1, 1), round="2568",
        follow_until=follow_until,
    )  # fmt: skip


def enterprise(cast: Any, village: str, name: str) -> Any:
    from khm.areas.models import Area
    from khm.livelihoods.models import Enterprise
    from khm.registry.models import new_code

    return Enterprise.objects.create(
        code=new_code("E"),
        name_th=name,
        village=Area.objects.get(code=village),
        area_code=village,
        created_by=cast.admin,
    )


def link(cast: Any, ent: Any, household: Any, started_on: dt.date) -> Any:
    from khm.livelihoods.models import Link
    from khm.registry.models import new_code

    return Link.objects.create(
        ref=new_code("L"),
        enterprise=ent,
        household=household,
        area_code=household.area_code,
        role="member",
        started_on=started_on,
        created_by=cast.admin,
    )


def income(cast: Any, household: Any, start: dt.date, end: dt.date, baht: str, source: str = "crops") -> Any:
    from khm.livelihoods.models import IncomeRecord

    return IncomeRecord.objects.create(
        household=household,
        area_code=household.area_code,
        period_start=start,
        period_end=end,
        source=source,
        amount_baht=Decimal(baht),
        recorded_by=cast.admin,
    )


@dataclass
class World:
    cast: Any
    h0: Any
    h1: Any
    h2: Any
    h3: Any
    o: Any


def build_world(cast: Any) -> World:
    """The hand-built world of this module (see the module docstring and each test)."""
    from khm.fieldwork.models import Campaign
    from khm.registry import services as registry
    from khm.registry.models import Person

    h0, o = cast.household, cast.other_household
    h1 = household_in(cast, A, "10", first="มาลี", last="ใจดี")  # head F born 1970
    h2 = household_in(cast, B, "20", first="สมศรี", last="มีสุข")
    person(cast.ploy, h2, "ต้นกล้า")  # a child: H2 has 2 members
    grandpa = person(cast.ploy, h2, "ปู่", born=1940, relation="other")
    Person.objects.filter(pk=grandpa.pk).update(status="deceased")
    h3 = household_in(cast, B, "21", first="ย้าย", last="ไปแล้ว")
    h3 = registry.household_update(actor=cast.ploy, household=h3, status="moved")

    # Lists. TPMAP 2568: H0's head (put_on_source_list) and wife, H2's head, and the deceased
    # grandfather (not a member: not counted). Bottom 20 % 2568: H2's head again. KHM 2567: H1's head.
    put_on_source_list(h0)
    wife = h0.people.get(first_name="คำปุน")
    on_list([wife, head(h2), grandpa], code="tpmap-2568", kind="tpmap", round_label="2568")
    on_list([head(h2)], code="b20-2568", kind="bottom20", round_label="2568")
    on_list([head(h1)], code="khm-2567", kind="khm", round_label="2567")

    # Verification. A campaign of round 2568 and visits without one (round = BE year of the visit).
    camp = Campaign.objects.create(
        code="C1", name="ทวนสอบ 2568", area_code="460101", round="2568", selection="all", created_by=cast.ploy
    )
    visit(h0, dt.date(2025, 6, 1), "confirmed_poor", by=cast.ploy, campaign=camp)
    visit(h0, dt.date(2025, 7, 1), "not_poor", by=cast.ploy)  # later: H0 ends "not_poor" in 2568
    visit(h1, dt.date(2025, 6, 2), "confirmed_poor", by=cast.ploy, campaign=camp)
    visit(h2, dt.date(2024, 5, 1), "confirmed_poor", by=cast.ploy)  # 2024 + 543 = round 2567
    visit(h2, dt.date(2025, 6, 3), "moved", by=cast.ploy)  # round 2568
    # O (C) visited twice on the same day: the one received later ("confirmed_poor") wins.
    visit(o, dt.date(2025, 6, 5), "not_found", by=cast.somchai)
    visit(o, dt.date(2025, 6, 5), "confirmed_poor", by=cast.somchai)

    # Assessment 2568 (current results):
    #   H0 (A) level 1, deprived bmn08+bmn22, TPMAP and target poor, MPI 0.5 poor, head M 65, size 2,
    #          capitals human 1.0, physical 1.5, financial 1.5, natural 2.0, social 2.5;
    #   H1 (A) level 2, deprived bmn08, TPMAP poor only, MPI 0.2 not poor, head F 55, size 1;
    #   H2 (B) level 3, nothing deprived, MPI 0.4 poor, head F 30, size 2 (and a superseded level 1);
    #   O  (C) level 4, no MPI score, head M 45, size 1.
    result(h0, "2568", 1, deps=("bmn08", "bmn22"), tpmap=True, target=True, mpi=0.5, mpi_poor=True, sex="M",
           age=65, size=2, human=1.0, physical=1.5, financial=1.5, natural=2.0, social=2.5)  # fmt: skip
    result(h1, "2568", 2, deps=("bmn08",), tpmap=True, mpi=0.2, mpi_poor=False, sex="F", age=55, size=1)
    result(h2, "2568", 1, deps=("bmn08",), target=True, mpi=0.9, mpi_poor=True, current=False)
    result(h2, "2568", 3, mpi=0.4, mpi_poor=True, sex="F", age=30, size=2)
    result(o, "2568", 4, sex="M", age=45, size=1)
    # Assessment 2567: H0 level 2, bmn08, TPMAP and target poor, MPI 0.6 poor (H1's is superseded).
    result(h0, "2567", 2, deps=("bmn08",), tpmap=True, target=True, mpi=0.6, mpi_poor=True, sex="M", age=64, size=2)
    result(h1, "2567", 1, target=True, mpi=0.7, mpi_poor=True, current=False)

    # Referrals (TODAY = 1 July 2025): H0 sent and past due (overdue), H0 in progress due in
    # August (open), H0 completed (sent, closed), H1 a draft (never sent: not counted), H2 accepted
    # and due today (open, not yet overdue: overdue means due before today).
    referral(cast, h0, "sent", dt.date(2025, 6, 10))
    referral(cast, h0, "in_progress", dt.date(2025, 8, 1))
    referral(cast, h0, "completed", dt.date(2025, 5, 1))
    referral(cast, h1, "draft", None, sent=False)
    referral(cast, h2, "accepted", TODAY)

    # Assistance: H0 1,500 + 2,500 baht, H1 a training (0 baht), H2 700 baht.
    assistance(cast, h0, "1500.00")
    assistance(cast, h0, "2500.00", kind="in_kind")
    assistance(cast, h1, "0", kind="training")
    assistance(cast, h2, "700.00")

    # Standing: H0 confirmed; H1 graduated, followed until the end of 2025; H2 graduated,
    # followed until 30 June 2025 (no longer on 1 July); O not poor.
    standing(h0, "confirmed")
    standing(h1, "graduated", dt.date(2025, 12, 31))
    standing(h2, "graduated", dt.date(2025, 6, 30))
    standing(o, "not_poor")

    # Livelihoods: weavers in A. H0 linked 1 March 2025 (and to a second enterprise in May: the
    # first start counts). H0's baseline Jan–Feb 2025: crops 4,000 + wages 2,000 = 6,000 over 2
    # months = 3,000/month; follow-up April: 4,000 → +1,000/month = +33.3 % (> 20 %).
    # H1 linked 1 March: baseline February 0 baht, follow-up April 500 → +500/month, no % (base 0).
    # H2 (B) linked 1 March, no income recorded: linked only.
    weavers, rice = enterprise(cast, A, "ทอผ้า"), enterprise(cast, A, "ข้าว")
    link(cast, weavers, h0, dt.date(2025, 3, 1))
    link(cast, rice, h0, dt.date(2025, 5, 1))
    link(cast, weavers, h1, dt.date(2025, 3, 1))
    link(cast, weavers, h2, dt.date(2025, 3, 1))
    income(cast, h0, dt.date(2025, 1, 1), dt.date(2025, 2, 28), "4000")
    income(cast, h0, dt.date(2025, 1, 1), dt.date(2025, 2, 28), "2000", source="wages")
    income(cast, h0, dt.date(2025, 4, 1), dt.date(2025, 4, 30), "4000")
    income(cast, h1, dt.date(2025, 2, 1), dt.date(2025, 2, 28), "0")
    income(cast, h1, dt.date(2025, 4, 1), dt.date(2025, 4, 30), "500")
    return World(cast=cast, h0=h0, h1=h1, h2=h2, h3=h3, o=o)


Key = tuple[str, str, str, str]


def as_dict(rows: list[tuple[str, str, str, str, float]]) -> dict[Key, float]:
    out = {(v, r, d, m): x for v, r, d, m, x in rows}
    assert len(out) == len(rows), "a figure appears twice"
    return out


def family(facts: dict[Key, float], metrics: set[str]) -> dict[Key, float]:
    return {k: v for k, v in facts.items() if k[3] in metrics}


@pytest.fixture
def world(cast: Any) -> World:
    return build_world(cast)


@pytest.fixture
def facts(world: World) -> dict[Key, float]:
    return as_dict(village_facts(VILLAGES, today=TODAY))


# --------------------------------------------------------------------------- tests


def test_registry_counts_active_households_and_current_members(facts):
    # A: H0 + H1 = 2 households; 2 + 1 = 3 people. B: H2 only (H3 moved away) = 1 household
    # (its people: see the next test). C: O = 1 household, 1 person.
    got = family(facts, {"households", "people"})
    assert got[(A, "", "", "households")] == 2
    assert got[(A, "", "", "people")] == 3
    assert got[(B, "", "", "households")] == 1
    assert got[(C, "", "", "households")] == 1
    assert got[(C, "", "", "people")] == 1
    assert set(got) == {(v, "", "", m) for v in VILLAGES for m in ("households", "people")}


def test_people_of_a_household_that_moved_away_are_not_counted(facts):
    # B: H2's head and child = 2 people; H3 has moved away (not an active household): its
    # head is no longer one of the village's people, as H3 is not one of its households.
    assert facts[(B, "", "", "people")] == 2


def test_lists_count_current_members_and_their_households_by_round_and_kind(facts):
    # A 2568: H0's head and wife on TPMAP → 2 people, 1 household (dim "" and source:tpmap).
    # A 2567: H1's head on the KHM list → 1, 1 (source:khm).
    # B 2568: H2's head on TPMAP and on Bottom 20 % → 1 person, 1 household (distinct) in dim "",
    # and 1/1 for each kind; the deceased grandfather on TPMAP is not counted.
    got = family(facts, {"listed_people", "listed_households"})
    expected = {}
    for v, r, d, people, households in [
        (A, "2568", "", 2, 1), (A, "2568", "source:tpmap", 2, 1),
        (A, "2567", "", 1, 1), (A, "2567", "source:khm", 1, 1),
        (B, "2568", "", 1, 1), (B, "2568", "source:tpmap", 1, 1), (B, "2568", "source:bottom20", 1, 1),
    ]:  # fmt: skip
        expected[(v, r, d, "listed_people")] = people
        expected[(v, r, d, "listed_households")] = households
    assert got == expected


def test_verification_counts_households_by_round_and_their_latest_outcome(facts):
    # A 2568: H0 (confirmed 1 June in the campaign, not poor 1 July without one: the later visit
    # wins, and both fall in 2568) and H1 (confirmed) → 2 verified: 1 not_poor, 1 confirmed_poor.
    # B: H2 confirmed in 2024 (round 2567) and moved in 2025 (round 2568): one in each round.
    # C: O visited twice on the same day: the one received later (confirmed_poor) wins.
    assert family(facts, {"verified"}) == {
        (A, "2568", "", "verified"): 2,
        (A, "2568", "outcome:not_poor", "verified"): 1,
        (A, "2568", "outcome:confirmed_poor", "verified"): 1,
        (B, "2567", "", "verified"): 1,
        (B, "2567", "outcome:confirmed_poor", "verified"): 1,
        (B, "2568", "", "verified"): 1,
        (B, "2568", "outcome:moved", "verified"): 1,
        (C, "2568", "", "verified"): 1,
        (C, "2568", "outcome:confirmed_poor", "verified"): 1,
    }


ASSESSMENT_METRICS = {
    "assessed", "level1", "level2", "level3", "level4", "target_poor", "tpmap_poor", "mpi_n", "mpi_q", "mpi_sum",
    "cap_n", "cap_human", "cap_physical", "cap_financial", "cap_natural", "cap_social",
}  # fmt: skip


def _of(facts: dict[Key, float], v: str, r: str, d: str) -> dict[str, float]:
    return {k[3]: x for k, x in facts.items() if k[:3] == (v, r, d) and k[3] in ASSESSMENT_METRICS}


def test_assessment_all_households_with_mpi_sums_and_capital_sums(facts):
    # A 2568 (H0, H1): 2 assessed, one at level 1 and one at level 2; target poor H0 = 1; TPMAP
    # poor both = 2; MPI scored both (mpi_n 2), MPI poor H0 only (mpi_q 1), mpi_sum = H0's 0.5 (H1's
    # 0.2 is not poor: not summed). Capitals: cap_n 2, human 1.0 + 2.0 = 3.0, physical 1.5 + 2.0 =
    # 3.5, financial 3.5, natural 2.0 + 2.0 = 4.0, social 2.5 + 2.0 = 4.5.
    assert _of(facts, A, "2568", "") == {
        "assessed": 2, "level1": 1, "level2": 1, "target_poor": 1, "tpmap_poor": 2, "mpi_n": 2, "mpi_q": 1,
        "mpi_sum": 0.5, "cap_n": 2, "cap_human": 3.0, "cap_physical": 3.5, "cap_financial": 3.5,
        "cap_natural": 4.0, "cap_social": 4.5,
    }  # fmt: skip
    # B 2568: H2's current result only (its superseded level 1 / MPI 0.9 is ignored).
    assert _of(facts, B, "2568", "") == {
        "assessed": 1, "level3": 1, "mpi_n": 1, "mpi_q": 1, "mpi_sum": pytest.approx(0.4), "cap_n": 1,
        "cap_human": 2.0, "cap_physical": 2.0, "cap_financial": 2.0, "cap_natural": 2.0, "cap_social": 2.0,
    }  # fmt: skip
    # C 2568: O has no MPI score: no mpi_n.
    assert _of(facts, C, "2568", "")["assessed"] == 1 and "mpi_n" not in _of(facts, C, "2568", "")
    # A 2567: H0 only (H1's result is superseded): level 2, target, TPMAP, MPI 0.6 poor.
    assert _of(facts, A, "2567", "") == {
        "assessed": 1, "level2": 1, "target_poor": 1, "tpmap_poor": 1, "mpi_n": 1, "mpi_q": 1,
        "mpi_sum": pytest.approx(0.6), "cap_n": 1, "cap_human": 2.0, "cap_physical": 2.0, "cap_financial": 2.0,
        "cap_natural": 2.0, "cap_social": 2.0,
    }  # fmt: skip
    assert not any(k[:2] == (B, "2567") and k[3] in ASSESSMENT_METRICS for k in facts)


def test_assessment_subsets_by_sex_age_size_level_and_deprivation(facts):
    # The subsets of A 2568: H0 (M, 65 → 60+, size 2 → 2-3, level 1, bmn08+bmn22) and
    # H1 (F, 55 → 35-59, size 1 → 1, level 2, bmn08).
    dims = {k[2] for k in facts if k[:2] == (A, "2568") and k[3] == "assessed"}
    assert dims == {"", "sex:M", "sex:F", "age:60+", "age:35-59", "size:2-3", "size:1", "level:1", "level:2",
                    "dep:bmn08", "dep:bmn22"}  # fmt: skip
    h0 = {"assessed": 1, "level1": 1, "target_poor": 1, "tpmap_poor": 1, "mpi_n": 1, "mpi_q": 1, "mpi_sum": 0.5}
    h1 = {"assessed": 1, "level2": 1, "tpmap_poor": 1, "mpi_n": 1}  # not target, not MPI poor: 0s are left out
    for d in ("sex:M", "age:60+", "size:2-3", "level:1", "dep:bmn22"):
        assert _of(facts, A, "2568", d) == h0, d  # subsets carry no capital sums
    for d in ("sex:F", "age:35-59", "size:1", "level:2"):
        assert _of(facts, A, "2568", d) == h1, d
    # Deprived in bmn08: both → 2 assessed, level1 1 + level2 1, target 1, TPMAP 2, MPI n 2, q 1, sum 0.5.
    assert _of(facts, A, "2568", "dep:bmn08") == {
        "assessed": 2, "level1": 1, "level2": 1, "target_poor": 1, "tpmap_poor": 2, "mpi_n": 2, "mpi_q": 1,
        "mpi_sum": 0.5,
    }  # fmt: skip
    # B 2568: H2 (F, 30 → <35, size 2, level 3) deprived in nothing: no dep dims.
    assert {k[2] for k in facts if k[:2] == (B, "2568") and k[3] == "assessed"} == {
        "",
        "sex:F",
        "age:<35",
        "size:2-3",
        "level:3",
    }


def test_assessment_mpi_sums_of_scored_results_as_stored(cast):
    """Through the real desk form and scoring: the MPI figures are the sums of the stored results."""
    from khm.assessment import services
    from khm.assessment.models import AssessmentResult
    from khm.assessment.tests.test_assessment import data_for

    h1 = household_in(cast, A, "10", first="มาลี", last="ใจดี")
    for hh, fail, income_ in [(cast.household, {"bmn08", "bmn10"}, 60000), (h1, set(), 100000)]:
        services.assessment_record(
            actor=cast.ploy, household=hh, round="2568", assessed_on=dt.date(2025, 6, 1),
            data=data_for(hh, fail=fail, income=income_),
        )  # fmt: skip
    stored = list(AssessmentResult.objects.filter(area_code=A, round="2568", current=True))
    assert len(stored) == 2
    scored = [r for r in stored if r.mpi_score is not None]
    poor = [r for r in scored if r.mpi_poor]
    got = as_dict(village_facts([A], today=TODAY))
    assert got.get((A, "2568", "", "mpi_n"), 0) == len(scored)
    assert got.get((A, "2568", "", "mpi_q"), 0) == len(poor)
    assert got.get((A, "2568", "", "mpi_sum"), 0) == pytest.approx(sum(r.mpi_score for r in poor))
    assert got[(A, "2568", "", "target_poor")] == sum(r.target_poor for r in stored) >= 1
    # bmn08 failed for บุญมี's household: the dep:bmn08 subset is that one household.
    assert got[(A, "2568", "dep:bmn08", "assessed")] == 1


def test_help_of_the_target_poor_and_all_assistance(facts):
    # Target poor: H0 in 2568 and in 2567 (H1's 2567 result is superseded). H0 had referrals sent
    # → target_referred 1; assistance 1,500 + 2,500 = 4,000 baht → target_helped 1, 4,000.
    # All assistance (round ""): A 3 records (H0 ×2, H1's 0-baht training), 4,000 baht; B 1, 700.
    assert family(facts, {"target_referred", "target_helped", "help_value_target", "help_records", "help_value"}) == {
        (A, "2568", "", "target_referred"): 1,
        (A, "2568", "", "target_helped"): 1,
        (A, "2568", "", "help_value_target"): 4000.0,
        (A, "2567", "", "target_referred"): 1,
        (A, "2567", "", "target_helped"): 1,
        (A, "2567", "", "help_value_target"): 4000.0,
        (A, "", "", "help_records"): 3,
        (A, "", "", "help_value"): 4000.0,
        (B, "", "", "help_records"): 1,
        (B, "", "", "help_value"): 700.0,
    }


def test_referrals_sent_open_and_overdue_on_the_day(world):
    # A: 3 sent (the draft is not), 2 open (sent, in progress), 1 overdue (due 10 June < 1 July).
    # B: 1 sent and open, due 1 July: not overdue on 1 July (0: left out), overdue on 2 July.
    got = family(
        as_dict(village_facts(VILLAGES, today=TODAY)), {"referrals_sent", "referrals_open", "referrals_overdue"}
    )
    assert got == {
        (A, "", "", "referrals_sent"): 3,
        (A, "", "", "referrals_open"): 2,
        (A, "", "", "referrals_overdue"): 1,
        (B, "", "", "referrals_sent"): 1,
        (B, "", "", "referrals_open"): 1,
    }
    later = as_dict(village_facts(VILLAGES, today=TODAY + dt.timedelta(days=1)))
    assert later[(B, "", "", "referrals_overdue")] == 1
    # On 1 August the one in progress (due 1 August) is not yet overdue; on 2 August it is.
    assert as_dict(village_facts([A], today=dt.date(2025, 8, 1)))[(A, "", "", "referrals_overdue")] == 1
    assert as_dict(village_facts([A], today=dt.date(2025, 8, 2)))[(A, "", "", "referrals_overdue")] == 2


def test_standing_counts_and_graduates_followed_until_their_date(world):
    # A: H0 confirmed, H1 graduated (followed until 31 Dec 2025). B: H2 graduated, followed until
    # 30 June (not on 1 July). C: O not poor.
    metrics = {"confirmed", "not_poor", "graduated", "followed"}
    assert family(as_dict(village_facts(VILLAGES, today=TODAY)), metrics) == {
        (A, "", "", "confirmed"): 1,
        (A, "", "", "graduated"): 1,
        (A, "", "", "followed"): 1,
        (B, "", "", "graduated"): 1,
        (C, "", "", "not_poor"): 1,
    }
    # On 30 June both graduates are followed (the last day counts); on 1 Jan 2026 neither.
    june30 = as_dict(village_facts(VILLAGES, today=dt.date(2025, 6, 30)))
    assert june30[(A, "", "", "followed")] == 1 and june30[(B, "", "", "followed")] == 1
    new_year = family(as_dict(village_facts(VILLAGES, today=dt.date(2026, 1, 1))), {"followed"})
    assert new_year == {}


def test_livelihoods_income_change_of_linked_households(facts):
    # A: H0 and H1 linked (H0 once, though linked twice) → linked 2; both have a baseline and a
    # follow-up → income_n 2; H0's baseline above 0 → income_pct_n 1, +33.3 % > 20 % → gain20 1;
    # change 1,000 + 500 = 1,500 baht a month. B: H2 linked, no income → linked 1 only.
    assert family(facts, {"linked", "income_n", "income_pct_n", "income_gain20", "income_change_sum"}) == {
        (A, "", "", "linked"): 2,
        (A, "", "", "income_n"): 1 + 1,
        (A, "", "", "income_pct_n"): 1,
        (A, "", "", "income_gain20"): 1,
        (A, "", "", "income_change_sum"): pytest.approx(1000 + 500),
        (B, "", "", "linked"): 1,
    }


def test_no_zero_rows_and_only_the_villages_asked(world):
    rows = village_facts([A], today=TODAY)
    assert rows and all(r[0] == A for r in rows)
    assert all(r[4] != 0 for r in rows)
    assert village_facts([], today=TODAY) == []


def test_a_village_is_the_same_alone_or_with_others(world):
    together = as_dict(village_facts(VILLAGES, today=TODAY))
    for v in VILLAGES:
        alone = as_dict(village_facts([v], today=TODAY))
        assert alone == {k: x for k, x in together.items() if k[0] == v}, v
