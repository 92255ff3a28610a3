"""Graduation on real assessment histories: who is a candidate under the versioned criteria,
how a new version changes that while old versions stay as they were, bad criteria named by
their JSON path, and the follow-up that returns a graduated household to the list."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from khm.assessment.tests.test_assessment import NO_HOME, data_for
from khm.audit.models import AuditEvent
from khm.core.problems import Invalid
from khm.forums import graduation, services, standing
from khm.forums.models import GraduationCriteria, HouseholdStanding, ItemKind, Standing, StandingEvent
from khm.forums.tests.conftest import household_in, items_of, put_on_source_list
from khm.registry.models import Household

pytestmark = pytest.mark.django_db


def assess(cast: Any, household: Any, round: str, on: dt.date | None = None, **kw: Any) -> None:
    from khm.assessment import services as assessment

    assessment.assessment_record(
        actor=cast.ploy, household=household, round=round,
        assessed_on=on or dt.date(int(round) - 543, 6, 1), data=data_for(household, **kw),
    )  # fmt: skip


def ploys(cast: Any) -> Any:
    return Household.objects.filter(area_code__startswith="460101")


def codes(found: list[Any]) -> set[str]:
    return {c.household.code for c in found}


@pytest.fixture
def histories(cast: Any) -> dict[str, Any]:
    """``up``: level 3 in 2567 and 2568, 50,000 baht a person (≥ 40,000); ``down``: level 3
    then level 2 (no fixed home) in 2568; ``short``: level 3 twice but 30,000 baht a person,
    without a welfare card (so only the income criterion fails)."""
    down = household_in(cast, "46010101", "20", first="ทองใบ", last="ดีงาม")
    short = household_in(cast, "46010102", "21", first="มะลิ", last="หอมดี")
    for h in (cast.household, down, short):
        put_on_source_list(h)
    assess(cast, cast.household, "2567")
    assess(cast, cast.household, "2568")
    assess(cast, down, "2567")
    assess(cast, down, "2568", extra=NO_HOME)
    # short has one member: 30,000 a year.
    assess(cast, short, "2567", income=30000, card=False)
    assess(cast, short, "2568", income=30000, card=False)
    return {"up": cast.household, "down": down, "short": short}


def without_income(definition: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(definition)
    next(c for c in d["criteria"] if c["id"] == "income")["enabled"] = False
    return d


def test_candidates_under_the_shipped_criteria(cast, histories):
    found = graduation.candidates(ploys(cast))
    assert codes(found) == {histories["up"].code}
    checks = {c.criterion: c for c in found[0].verdict.checks}
    assert checks["income"].met and "income 50,000 baht per person per year ≥ threshold 40,000" in checks["income"].en


def test_the_shipped_criteria_are_installed_as_version_one(cast):
    assert GraduationCriteria.objects.count() == 0
    c = graduation.criteria_current()
    assert c.version == 1 and c.definition["follow_up"]["params"]["months"] == 24
    assert [x["id"] for x in c.definition["criteria"]] == [
        "consecutive_rounds", "income", "no_critical_deprivation", "not_target_poor",
    ]  # fmt: skip
    assert graduation.criteria_current().pk == c.pk  # installed once


def test_the_checks_say_why_a_household_is_not_a_candidate(cast, histories):
    v = graduation.verdict_for(histories["down"])
    assert not v.eligible and v.round == "2568"
    by = {c.criterion: c for c in v.checks}
    assert not by["consecutive_rounds"].met
    assert by["consecutive_rounds"].en.startswith("level 3 in 2567 and level 2 in 2568")
    assert "ระดับ 2 ในรอบ 2568" in by["consecutive_rounds"].th
    assert by["no_critical_deprivation"].met and by["not_target_poor"].met


def test_a_new_criteria_version_changes_the_result_and_old_versions_stay(cast, histories):
    v1 = graduation.criteria_current()
    v1_before = copy.deepcopy(v1.definition)
    v2 = graduation.criteria_save_version(actor=cast.admin, definition=without_income(v1.definition), note="ไม่ใช้รายได้")
    assert v2.version == 2 and graduation.criteria_current() == v2
    # Without the income criterion the one short of income qualifies too; the fallen one never.
    assert codes(graduation.candidates(ploys(cast))) == {histories["up"].code, histories["short"].code}
    three = without_income(v1.definition)
    next(c for c in three["criteria"] if c["id"] == "consecutive_rounds")["params"]["rounds"] = 3
    v3 = graduation.criteria_save_version(actor=cast.admin, definition=three, note="สามรอบติดต่อกัน")
    assert v3.version == 3
    assert codes(graduation.candidates(ploys(cast))) == set()  # nobody has three rounds
    assess(cast, histories["up"], "2566")
    assert codes(graduation.candidates(ploys(cast))) == {histories["up"].code}
    # Old versions are unchanged and still give their own answer.
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.definition == v1_before and v2.definition == without_income(v1_before)
    assert codes(graduation.candidates(ploys(cast), definition=v2.definition)) == {
        histories["up"].code, histories["short"].code,
    }  # fmt: skip
    assert list(GraduationCriteria.objects.values_list("version", flat=True)) == [3, 2, 1]
    assert AuditEvent.objects.filter(action="graduation_criteria.create").count() == 2


def test_bad_criteria_are_refused_naming_the_json_path(cast):
    d = copy.deepcopy(graduation.criteria_current().definition)
    d["criteria"][0]["params"]["rounds"] = 0
    d["criteria"][1]["type"] = "wealth"
    d["criteria"][2]["params"]["indicators"] = ["bmn04", "bmn04"]
    d["follow_up"]["params"]["months"] = 0
    d["fall_back"]["params"]["max_level"] = 7
    before = GraduationCriteria.objects.count()
    with pytest.raises(Invalid) as exc:
        graduation.criteria_save_version(actor=cast.admin, definition=d, note="ผิด")
    by = {p.field: p for p in exc.value.problems}
    assert set(by) == {
        "criteria[0].params.rounds", "criteria[1].type", "criteria[2].params.indicators[1]",
        "follow_up.params.months", "fall_back.params.max_level",
    }  # fmt: skip
    assert all(p.th and p.en for p in by.values())
    assert "wealth" in by["criteria[1].type"].en and "1–4" in by["fall_back.params.max_level"].th
    assert GraduationCriteria.objects.count() == before
    assert not AuditEvent.objects.filter(action="graduation_criteria.create").exists()


def test_an_unknown_critical_indicator_is_refused(cast):
    d = copy.deepcopy(graduation.criteria_current().definition)
    d["criteria"][2]["params"]["indicators"] = ["bmn04", "bmn8"]
    with pytest.raises(Invalid) as exc:
        graduation.criteria_save_version(actor=cast.admin, definition=d, note="พิมพ์ผิด")
    assert [p.field for p in exc.value.problems] == ["criteria[2].params.indicators[1]"]


# --------------------------------------------------------------------------- follow-up


def graduate(cast: Any, household: Any, on: dt.date = dt.date(2025, 12, 1)) -> HouseholdStanding:
    return standing.standing_set(
        actor=cast.ploy, household=household, to=Standing.GRADUATED, on=on, reason="มติเวที", round="2568",
        follow_until=graduation.follow_until(on),
    )  # fmt: skip


def test_a_graduated_household_that_falls_back_returns_to_the_list(cast):
    fallen = cast.household
    steady = household_in(cast, "46010101", "30", first="บุญมา", last="ดีใจ")
    for h in (fallen, steady):
        put_on_source_list(h)
        graduate(cast, h)
    assess(cast, fallen, "2569", on=dt.date(2026, 6, 1), extra=NO_HOME)  # level 2
    assess(cast, steady, "2569", on=dt.date(2026, 6, 1))  # level 3
    back = graduation.follow_up(today=dt.date(2026, 7, 1))
    assert [h for h, _why in back] == [fallen]
    why = back[0][1]
    assert "level 2 in 2569" in why and "ระดับ 2 ในรอบ 2569" in why and "2026-06-01" in why
    assert standing.status_of(fallen) == Standing.CONFIRMED
    row = HouseholdStanding.objects.get(household=fallen)
    assert row.round == "2569" and row.follow_until is None and row.since == dt.date(2026, 7, 1)
    event = StandingEvent.objects.filter(household=fallen).last()
    assert event is not None
    assert (event.from_status, event.to_status, event.actor) == (Standing.GRADUATED, Standing.CONFIRMED, None)
    assert "2569" in event.reason and "level 2" in event.reason
    assert standing.on_list(Household.objects.filter(pk=fallen.pk)).exists()
    assert standing.status_of(steady) == Standing.GRADUATED
    # Running it again changes nothing.
    assert graduation.follow_up(today=dt.date(2026, 7, 2)) == []


def test_target_poor_after_graduation_also_returns_the_household(cast):
    put_on_source_list(cast.household)
    graduate(cast, cast.household)
    assess(cast, cast.household, "2569", on=dt.date(2026, 6, 1), fail={"bmn08"}, income=60000)  # target poor
    [(h, why)] = graduation.follow_up(today=dt.date(2026, 7, 1))
    assert h == cast.household and "TPMAP target poor in 2569" in why


def test_only_rounds_after_graduation_count(cast):
    put_on_source_list(cast.household)
    graduate(cast, cast.household)
    assess(cast, cast.household, "2568", on=dt.date(2025, 11, 1), extra=NO_HOME)  # the graduation round itself
    assert graduation.follow_up(today=dt.date(2026, 1, 1)) == []
    assert standing.status_of(cast.household) == Standing.GRADUATED


def test_after_the_follow_up_period_a_fall_back_is_not_checked(cast):
    put_on_source_list(cast.household)
    row = graduate(cast, cast.household)
    assert row.follow_until == dt.date(2027, 12, 1)
    assess(cast, cast.household, "2569", on=dt.date(2026, 6, 1), extra=NO_HOME)
    assert graduation.follow_up(today=dt.date(2027, 12, 2)) == []
    assert standing.status_of(cast.household) == Standing.GRADUATED
    # On the last day it still is.
    assert [h for h, _ in graduation.follow_up(today=dt.date(2027, 12, 1))] == [cast.household]


def test_follow_up_of_an_area_leaves_other_areas_alone(cast):
    put_on_source_list(cast.household)
    graduate(cast, cast.household)
    assess(cast, cast.household, "2569", on=dt.date(2026, 6, 1), extra=NO_HOME)
    assert graduation.follow_up(area_code="4605", today=dt.date(2026, 7, 1)) == []
    assert standing.status_of(cast.household) == Standing.GRADUATED
    assert len(graduation.follow_up(area_code="4601", today=dt.date(2026, 7, 1))) == 1


def test_building_an_agenda_returns_fallen_graduates_to_the_list_first(cast):
    put_on_source_list(cast.household)
    today = dt.date.today()
    standing.standing_set(
        actor=cast.ploy, household=cast.household, to=Standing.GRADUATED, on=today - dt.timedelta(days=200),
        reason="มติเวที", round="2568", follow_until=today + dt.timedelta(days=365),
    )  # fmt: skip
    assess(cast, cast.household, "2569", on=dt.date(2026, 6, 1), extra=NO_HOME)
    f = services.forum_create(
        actor=cast.ploy,
        data=services.ForumInput(area_code="46010101", round="2569", title="เวที", held_on=today, place="ศาลา"),
    )
    services.agenda_build(actor=cast.ploy, forum=f)
    assert standing.status_of(cast.household) == Standing.CONFIRMED
    # Back on the list with its needs to integrate (no agency offers a housing repair here).
    assert any(i.household == cast.household for i in items_of(f, ItemKind.INTEGRATE))
