"""Keeping the figures current (khm.insights.refresh): full refresh and roll-up, the areas a
write marks (ChangedArea), incremental refresh of only those villages and their ancestors,
imports, and idempotency.

The world is the one of test_facts.py (villages A = 46010101, B = 46010102, C = 46050101)
plus one household in 46010201 (D, subdistrict 460102) so that every level has two children
with figures: 460101 = A + B, 4601 = 460101 + 460102, 46 = 4601 + 4605.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from khm.core.changes import touch
from khm.core.models import ChangedArea
from khm.forums.tests.conftest import household_in
from khm.insights import refresh as refresh_module
from khm.insights.facts import village_facts
from khm.insights.models import Fact, RefreshRun
from khm.insights.refresh import pending, refresh
from khm.insights.tests.test_facts import TODAY, World, build_world

pytestmark = pytest.mark.django_db

A, B, C, D = "46010101", "46010102", "46050101", "46010201"
ALL_VILLAGES = {A, B, C, D}
# Figures checked at every level: round-less ones and round 2568's.
CHECKED = [
    ("", "", "households"), ("", "", "people"), ("", "", "help_value"), ("", "", "referrals_sent"),
    ("", "", "linked"), ("2568", "", "assessed"), ("2568", "", "mpi_sum"), ("2568", "", "listed_people"),
    ("2568", "outcome:confirmed_poor", "verified"), ("2568", "dep:bmn08", "assessed"),
]  # fmt: skip


def val(area: str, metric: str, round: str = "", dim: str = "") -> float:
    f = Fact.objects.filter(area_code=area, round=round, dim=dim, metric=metric).first()
    return f.value if f else 0.0


def snapshot(prefix: str = "") -> dict[tuple[str, int, str, str, str], tuple[int, float]]:
    """Every row whose area code starts with ``prefix``: (area, level, round, dim, metric) → (id, value)."""
    return {
        (f.area_code, f.level, f.round, f.dim, f.metric): (f.pk, f.value)
        for f in Fact.objects.filter(area_code__startswith=prefix)
    }


def values(rows: dict[Any, tuple[int, float]]) -> dict[Any, float]:
    return {k: v for k, (_id, v) in rows.items()}


@pytest.fixture
def world(cast: Any) -> World:
    w = build_world(cast)
    household_in(cast, D, "5", first="ดวงใจ", last="ดงเมือง", actor=cast.admin)  # D: 1 household, 1 person
    return w


@pytest.fixture
def fresh(world: World) -> World:
    """The world with every figure computed and nothing pending."""
    run = refresh(full=True, today=TODAY)
    assert run.full and run.villages == len(ALL_VILLAGES)
    assert pending() == 0
    return world


# --------------------------------------------------------------------------- full refresh


def test_full_refresh_writes_villages_and_sums_every_level(fresh):
    levels = dict(Fact.objects.values_list("area_code", "level").distinct())
    assert levels == {A: 4, B: 4, C: 4, D: 4, "460101": 3, "460102": 3, "460501": 3, "4601": 2, "4605": 2, "46": 1}
    # Village rows are exactly what facts computes.
    for v in ALL_VILLAGES:
        mine = {(f.round, f.dim, f.metric): f.value for f in Fact.objects.filter(area_code=v)}
        assert mine == {(r, d, m): x for _v, r, d, m, x in village_facts([v], today=TODAY)}, v
    # Households: A 2, B 1, C 1, D 1 → 460101 = 3, 460102 = 1, 4601 = 4, 4605 = 1, 46 = 5.
    assert [val(a, "households") for a in (A, B, "460101", "460102", "4601", "4605", "46")] == [2, 1, 3, 1, 4, 1, 5]
    # Assessed 2568: A 2, B 1, C 1 → 460101 3, 4601 3, 46 4. mpi_sum: A 0.5, B 0.4 → 0.9 everywhere above.
    assert val("460101", "assessed", "2568") == 3 and val("46", "assessed", "2568") == 4
    assert val("46", "mpi_sum", "2568") == pytest.approx(0.5 + 0.4)
    for r, d, m in CHECKED:
        assert val("460101", m, r, d) == pytest.approx(val(A, m, r, d) + val(B, m, r, d)), (r, d, m)
        assert val("460102", m, r, d) == pytest.approx(val(D, m, r, d)), (r, d, m)
        assert val("4601", m, r, d) == pytest.approx(val("460101", m, r, d) + val("460102", m, r, d)), (r, d, m)
        assert val("4605", m, r, d) == pytest.approx(val("460501", m, r, d)), (r, d, m)
        assert val("460501", m, r, d) == pytest.approx(val(C, m, r, d)), (r, d, m)
        assert val("46", m, r, d) == pytest.approx(val("4601", m, r, d) + val("4605", m, r, d)), (r, d, m)


def test_every_parent_row_is_the_sum_of_its_children(fresh):
    parents = Fact.objects.filter(level__lt=4)
    assert parents.exists()
    for f in parents:
        n = len(f.area_code)
        kids = Fact.objects.filter(
            level=f.level + 1, area_code__startswith=f.area_code, round=f.round, dim=f.dim, metric=f.metric
        )
        assert f.value == pytest.approx(sum(k.value for k in kids)), f
        assert all(len(k.area_code) == n + 2 for k in kids)
    # And no child figure is missing from its parent.
    for f in Fact.objects.filter(level__gt=1):
        parent = f.area_code[: len(f.area_code) - 2]
        assert Fact.objects.filter(area_code=parent, round=f.round, dim=f.dim, metric=f.metric).exists(), f


def test_refresh_is_idempotent(fresh):
    first = values(snapshot())
    refresh(full=True, today=TODAY)
    assert values(snapshot()) == first
    # Nothing pending: an incremental refresh recomputes nothing and leaves every row as it was.
    ids = snapshot()
    run = refresh(today=TODAY)
    assert run.villages == 0 and not run.full
    assert snapshot() == ids
    assert RefreshRun.objects.count() == 3 and RefreshRun.objects.first() == run


# --------------------------------------------------------------------------- incremental


def test_a_service_write_marks_its_village_and_only_that_branch_is_recomputed(fresh, cast):
    from khm.registry import services as registry

    other_district = snapshot("4605") | snapshot(B)
    before = {a: val(a, "households") for a in (A, "460101", "4601", "46")}
    registry.household_create(actor=cast.ploy, village_code=A, house_no="30")
    assert list(ChangedArea.objects.values_list("area_code", flat=True)) == [A]
    assert pending() == 1

    run = refresh(today=TODAY)
    assert run.villages == 1 and not run.full
    assert pending() == 0
    # A's household count went up by one, and so did each of its ancestors'.
    assert {a: val(a, "households") for a in before} == {a: n + 1 for a, n in before.items()}
    # Another district's rows (and the sister village B's) were not even rewritten: same ids, same values.
    assert snapshot("4605") | snapshot(B) == other_district


def test_a_referral_sent_changes_the_referral_figures_after_refresh(fresh, cast):
    from khm.referrals import services
    from khm.referrals.models import Agency

    # B had 1 sent and open referral; a new one is sent to the PSO.
    assert val(B, "referrals_sent") == 1 and val("4601", "referrals_sent") == 4
    h2 = fresh.h2
    services.referral_create(
        actor=cast.ploy, household=h2, need="housing_repair", need_label="ซ่อมบ้าน", agency=Agency.objects.get(code="pso")
    )
    assert set(ChangedArea.objects.values_list("area_code", flat=True)) == {B}
    c_rows = snapshot("4605")
    run = refresh(today=TODAY)
    assert run.villages == 1
    # B 1 + 1 = 2 sent, 2 open; 460101: A 3 + B 2 = 5; 4601 = 5; 46 = 5 (C has none).
    assert val(B, "referrals_sent") == 2 and val(B, "referrals_open") == 2
    assert val("460101", "referrals_sent") == 5 and val("46", "referrals_sent") == 5
    assert snapshot("4605") == c_rows


def test_a_death_lowers_the_people_of_the_village_after_refresh(fresh, cast):
    from khm.registry import services as registry

    # A: 3 people (H0's couple and H1's head); the wife dies → 2; 460101 4 → 3 (B has 2).
    assert val(A, "people") == 3 and val("460101", "people") == val(A, "people") + val(B, "people")
    before_4601 = val("4601", "people")
    wife = fresh.h0.people.get(first_name="คำปุน")
    registry.person_leave(actor=cast.ploy, person=wife, event="died", on=dt.date(2025, 6, 20))
    refresh(today=TODAY)
    assert val(A, "people") == 2
    assert val("4601", "people") == before_4601 - 1
    # She was on the TPMAP 2568 list with her husband: 2 → 1 listed person, still 1 household.
    assert val(A, "listed_people", "2568") == 1 and val(A, "listed_households", "2568") == 1


def test_a_transfer_marks_the_village_the_household_moves_to(fresh, cast):
    from khm.registry import services as registry

    registry.household_transfer(actor=cast.dara, household=fresh.h1, village_code=B, reason="ย้ายบ้าน")
    assert B in set(ChangedArea.objects.values_list("area_code", flat=True))
    refresh(today=TODAY)
    # B: H2 + H1 = 2 households; 460101 stays 3 only if A is recomputed too (see the next test).
    assert val(B, "households") == 2


def test_a_transfer_updates_both_villages_after_refresh(fresh, cast):
    from khm.registry import services as registry

    # H1 (1 person) moves from A to B. A: 2 → 1 households, 3 → 2 people; B: 1 → 2, 2 → 3;
    # 460101 stays 3 households (both villages are in it).
    registry.household_transfer(actor=cast.dara, household=fresh.h1, village_code=B, reason="ย้ายบ้าน")
    refresh(today=TODAY)
    assert (val(A, "households"), val(B, "households"), val("460101", "households")) == (1, 2, 3)
    assert (val(A, "people"), val(B, "people")) == (2, 3)


def test_incremental_refresh_after_a_linked_household_moved_matches_a_full_refresh(fresh, cast):
    from khm.registry import services as registry

    # H1 is linked to the weavers in A; it moves to B (where H2 is linked).
    registry.household_transfer(actor=cast.dara, household=fresh.h1, village_code=B, reason="ย้ายบ้าน")
    refresh(today=TODAY)
    # Anything written in A later: A is recomputed alone.
    registry.household_create(actor=cast.ploy, village_code=A, house_no="31")
    refresh(today=TODAY)
    incremental = values(snapshot())
    refresh(full=True, today=TODAY)
    assert incremental == values(snapshot())


def test_a_merge_of_two_records_lowers_the_people_after_refresh(fresh, cast):
    from khm.sources import merge

    # H1's head has a duplicate record in H1: A has 3 + 1 = 4 people; the merge folds it → 3.
    survivor = fresh.h1.people.get(first_name="มาลี")
    dup = household_member(cast, fresh.h1)
    refresh(today=TODAY)
    assert val(A, "people") == 4
    merge.merge_people(actor=cast.ploy, survivor=survivor, absorbed=dup, reason="คนเดียวกัน")
    refresh(today=TODAY)
    assert val(A, "people") == 3


def household_member(cast: Any, household: Any) -> Any:
    from khm.registry import services as registry

    return registry.person_create(
        actor=cast.ploy, household=household, national_id=None, title="นาง", first_name="มาลี", last_name="ใจดี",
        sex="F", birth_date=dt.date(1970, 3, 4), relation="other",
    )  # fmt: skip


def test_refresh_of_named_villages_and_of_a_touched_district(fresh, cast):
    from khm.registry.models import Household

    # A write outside the services (no ChangedArea): invisible until its villages are refreshed.
    Household.objects.filter(pk=fresh.h2.pk).update(status="dissolved")
    assert pending() == 0
    run = refresh(villages=[B], today=TODAY)
    assert run.villages == 1 and val(B, "households") == 0 and val("46", "households") == 4
    # Touching a district recomputes all its villages (A, B and D), nothing in 4605.
    c_rows = snapshot("4605")
    touch(["4601"])
    run = refresh(today=TODAY)
    assert run.villages == 3 and pending() == 0
    assert snapshot("4605") == c_rows


def _touch_during_refresh(monkeypatch: pytest.MonkeyPatch, codes: list[str]) -> None:
    """Make a write land while refresh() is computing: after it claimed the changed areas."""
    real = refresh_module.village_facts
    done: list[bool] = []

    def facts_with_a_write(villages, today=None):
        if not done:
            touch(codes)
            done.append(True)
        return real(villages, today=today)

    monkeypatch.setattr(refresh_module, "village_facts", facts_with_a_write)


def test_an_area_touched_while_a_refresh_runs_stays_for_the_next(fresh, cast, monkeypatch):
    from khm.registry import services as registry

    registry.household_create(actor=cast.ploy, village_code=A, house_no="32")
    _touch_during_refresh(monkeypatch, [C])
    run = refresh(today=TODAY)
    assert run.villages == 1
    # C was touched after the refresh claimed its areas: it is left for the next one.
    assert list(ChangedArea.objects.values_list("area_code", flat=True)) == [C]
    assert pending() == 1
    monkeypatch.undo()
    assert refresh(today=TODAY).villages == 1 and pending() == 0


def test_a_claimed_area_touched_again_while_a_refresh_runs_stays_for_the_next(fresh, cast, monkeypatch):
    from khm.registry import services as registry

    registry.household_create(actor=cast.ploy, village_code=A, house_no="33")
    _touch_during_refresh(monkeypatch, [A])
    run = refresh(today=TODAY)
    assert run.villages == 1
    # A was written again after the refresh claimed it: the next refresh must see that write.
    assert list(ChangedArea.objects.values_list("area_code", flat=True)) == [A]
    monkeypatch.undo()
    assert refresh(today=TODAY).villages == 1 and pending() == 0


# --------------------------------------------------------------------------- imports


@pytest.fixture
def import_setup(cast, tmp_path, settings):
    from khm.accounts.models import Organisation, OrganisationKind
    from khm.sources.models import MappingProfile, Source
    from khm.sources.profiles import install_profiles

    settings.KHM_IMPORT_DIR = str(tmp_path)
    install_profiles()
    Organisation.objects.get_or_create(code="x", defaults={"kind": OrganisationKind.OTHER, "name_th": "x"})
    source = Source.objects.create(code="tpmap-2566", kind="tpmap", name_th="TPMAP", round_label="2566")
    return source, MappingProfile.objects.get(kind="tpmap")


def _stage(cast, setup, rows):
    from khm.sources import services
    from khm.sources.tests.test_imports import csv_bytes

    source, profile = setup
    batch = services.batch_upload(
        actor=cast.ploy, source=source, profile=profile, file_name="tpmap.csv", content=csv_bytes(rows)
    )
    return services.batch_stage(actor=cast.ploy, batch=batch)


def test_an_import_commit_marks_its_villages(cast, import_setup):
    from khm.sources import services
    from khm.sources.tests.test_imports import GOOD

    # GOOD: บุญมี (already in A, moo 1) and a new household of 2 in B (moo 2, house 12).
    batch = _stage(cast, import_setup, GOOD)
    assert batch.status == "preview", batch.error
    refresh(full=True, today=TODAY)
    assert (val(A, "households"), val(B, "households"), val(B, "people")) == (1, 0, 0)
    services.batch_commit(actor=cast.ploy, batch=batch)
    assert {A, B} <= set(ChangedArea.objects.values_list("area_code", flat=True))
    run = refresh(today=TODAY)
    assert run.villages == 2
    # B: 1 new household, 2 people; round 2566 lists: A บุญมี (1), B the 2 new people (1 household).
    assert (val(B, "households"), val(B, "people")) == (1, 2)
    assert (val(A, "listed_people", "2566"), val(B, "listed_people", "2566")) == (1, 2)
    assert val(B, "listed_households", "2566") == 1
    assert val("46", "listed_people", "2566") == 3 and val("46", "listed_people", "2566", "source:tpmap") == 3


def test_an_import_that_matches_a_person_of_another_village_marks_that_village(cast, import_setup):
    from khm.sources import services
    from khm.sources.models import PersonSource
    from khm.sources.tests.test_imports import GOOD

    # บุญมี (registry: A) listed under moo 2 (B) with his national ID: matched to the head in A.
    row = list(GOOD[0])
    row[8] = "2"
    batch = _stage(cast, import_setup, [row])
    assert batch.counts["matched"] == 1, batch.counts
    refresh(full=True, today=TODAY)
    services.batch_commit(actor=cast.ploy, batch=batch)
    assert PersonSource.objects.filter(person=cast.head, source=import_setup[0]).exists()  # he is on the list
    refresh(today=TODAY)
    assert val(A, "listed_people", "2566") == 1
