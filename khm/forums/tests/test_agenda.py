"""Building a forum's agenda from what waits for a decision in its area: households on a list
not verified this round, verified ones to confirm as a batch, disputed ones, needs no single
agency can meet, returned and overdue referrals, graduation candidates and appeals; the
secretary's own matters, dropping an item, rebuilding without duplicates and scoping."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from khm.assessment.tests.test_assessment import NO_HOME, data_for
from khm.fieldwork import services as fieldwork
from khm.fieldwork.models import Conflict
from khm.forums import services, standing, validation
from khm.forums.models import AgendaItem, ItemKind, ItemStatus, Standing
from khm.forums.services import ForumInvalid
from khm.forums.tests.conftest import (
    HELD_ON,
    ROUND,
    VERIFIED_ON,
    household_in,
    items_of,
    make_secretary,
    put_on_source_list,
    resolution,
)
from khm.referrals.models import Referral

pytestmark = pytest.mark.django_db


def build(forum: Any, actor: Any = None) -> int:
    return services.agenda_build(actor=actor or forum.created_by, forum=forum)


def verify(actor: Any, household: Any, outcome: str, key: str, **payload: Any) -> Any:
    v, created = fieldwork.verification_submit(
        actor=actor, key=key, household=household, method="desk",
        payload={"outcome": outcome, "verified_on": VERIFIED_ON, **payload},
    )  # fmt: skip
    assert created
    return v


def assess(cast: Any, household: Any, round: str, **kw: Any) -> Any:
    from khm.assessment import services as assessment

    return assessment.assessment_record(
        actor=cast.ploy, household=household, round=round, assessed_on=dt.date(2025, 6, 1),
        data=data_for(household, **kw),
    )  # fmt: skip


def keys(forum: Any) -> list[str]:
    return [i.key for i in items_of(forum)]


# --------------------------------------------------------------------------- the list


def test_a_household_on_a_source_list_not_verified_this_round_is_an_unverified_item(cast, forum_of):
    put_on_source_list(cast.household)
    assert standing.status_of(cast.household) == Standing.LISTED
    f = forum_of("46010101")
    assert build(f) == 1
    [item] = items_of(f)
    assert item.kind == ItemKind.UNVERIFIED and item.status == ItemStatus.OPEN
    assert item.household == cast.household and item.area_code == "46010101"
    assert item.key == f"unverified:{cast.household.code}"
    assert "99/1" in item.title and cast.household.code in item.title and item.added_by is None


def test_a_household_listed_by_a_standing_row_is_unverified_too(cast, forum_of):
    # No source list names it: a standing row "listed" puts it on the list.
    standing.standing_set(actor=cast.ploy, household=cast.household, to=Standing.LISTED, on=HELD_ON, reason="เพิ่ม")
    f = forum_of("46010101")
    build(f)
    assert [(i.kind, i.household) for i in items_of(f)] == [(ItemKind.UNVERIFIED, cast.household)]


def test_a_household_on_no_list_is_not_on_the_agenda(cast, forum_of):
    f = forum_of("46010101")
    assert build(f) == 0
    assert items_of(f) == []


def test_verified_as_poor_households_come_as_one_batch_to_confirm(cast, forum_of):
    second = household_in(cast, "46010101", "12", first="สมศรี", last="ใจดี")
    third = household_in(cast, "46010101", "13", first="มาลี", last="ทองดี")
    for h in (cast.household, second, third):
        put_on_source_list(h)
    verify(cast.ploy, cast.household, "confirmed_poor", "v1")
    verify(cast.ploy, second, "confirmed_poor", "v2")
    f = forum_of("46010101")
    build(f)
    verified = items_of(f, ItemKind.VERIFIED)
    assert len(verified) == 1
    batch = verified[0]
    assert sorted(batch.data["households"]) == sorted([cast.household.code, second.code])
    assert batch.household is None and batch.key == f"verified:{ROUND}" and "2 ครัวเรือน" in batch.title
    assert "99/1" in batch.detail and "บ้านเลขที่ 12" in batch.detail
    # The one not verified this round is an item of its own; the verified ones are not.
    assert [i.household for i in items_of(f, ItemKind.UNVERIFIED)] == [third]


def test_a_verification_in_another_round_does_not_count(cast, forum_of):
    put_on_source_list(cast.household)
    verify(cast.ploy, cast.household, "confirmed_poor", "v-old")  # 2025 CE = round 2568
    f = forum_of("46010101", round="2569", held_on=dt.date(2026, 12, 1))
    build(f)
    assert [i.kind for i in items_of(f)] == [ItemKind.UNVERIFIED]


def test_a_verification_that_finds_the_household_not_poor_makes_it_disputed_with_why(cast, forum_of):
    put_on_source_list(cast.household)
    v = verify(cast.ploy, cast.household, "not_poor", "v-np", notes="มีรถยนต์สองคัน")
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f)
    assert item.kind == ItemKind.DISPUTED and item.household == cast.household
    assert item.data["outcome"] == "not_poor" and item.data["verification"] == v.ref
    assert v.ref in item.data["why"] and item.data["why"].startswith("ผลการตรวจสอบ")
    assert item.detail == "มีรถยนต์สองคัน"


def test_an_open_fieldwork_conflict_makes_the_household_disputed(cast, forum_of):
    put_on_source_list(cast.household)
    # Confirmed poor, but the phone changed the house number the registry had changed too.
    v = verify(
        cast.ploy, cast.household, "confirmed_poor", "v-c",
        base={"household": {"house_no": "1/1"}}, changes={"household": {"house_no": "2/2"}},
    )  # fmt: skip
    assert Conflict.objects.filter(verification=v, status="open").count() == 1
    f = forum_of("46010101")
    build(f)
    kinds = {i.kind for i in items_of(f)}
    assert kinds == {ItemKind.DISPUTED}
    [item] = items_of(f)
    assert item.household == cast.household and "verifications disagree" in item.data["why"]


def test_two_verifications_that_disagree_make_the_household_disputed(cast, forum_of):
    put_on_source_list(cast.household)
    verify(cast.ploy, cast.household, "confirmed_poor", "v-a")
    verify(cast.dara, cast.household, "not_found", "v-b")
    f = forum_of("46010101")
    build(f)
    assert [(i.kind, i.household) for i in items_of(f)] == [(ItemKind.DISPUTED, cast.household)]


def test_decided_households_do_not_come_back_as_unverified(cast, forum_of):
    decided = {}
    for n, to in enumerate((Standing.CONFIRMED, Standing.NOT_POOR, Standing.GRADUATED)):
        h = household_in(cast, "46010101", f"2{n}", first=f"คน{n}", last="ทดสอบ")
        put_on_source_list(h)
        standing.standing_set(
            actor=cast.ploy, household=h, to=to, on=HELD_ON, reason="มติเวที", round=ROUND,
            follow_until=dt.date(2030, 1, 1) if to == Standing.GRADUATED else None,
        )  # fmt: skip
        decided[to] = h
    put_on_source_list(cast.household)  # still undecided
    f = forum_of("46010101")
    build(f)
    assert [(i.kind, i.household) for i in items_of(f)] == [(ItemKind.UNVERIFIED, cast.household)]


# --------------------------------------------------------------------------- help


def test_a_need_no_agency_serves_is_an_integrate_item(cast, forum_of):
    put_on_source_list(cast.household)
    assess(cast, cast.household, ROUND, fail={"bmn08"}, income=60000)  # housing and income needs
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f, ItemKind.INTEGRATE)
    assert item.household == cast.household and item.key == f"integrate:{cast.household.code}"
    needs = {n["need"]: n["why"] for n in item.data["needs"]}
    assert needs["housing_repair"] == "no_agency" and needs["income_support"] == "no_agency"


def test_a_need_an_agency_serves_is_not_an_integrate_item_until_its_referral_fails(cast, world, forum_of):
    put_on_source_list(cast.household)
    assess(cast, cast.household, ROUND, fail={"bmn08"}, income=60000)
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f, ItemKind.INTEGRATE)
    # pso repairs houses in Kalasin: only the income need is left to integrate.
    assert "housing_repair" not in {n["need"] for n in item.data["needs"]}
    world.bring_to("not_possible")
    # Rebuilding brings the open item up to date …
    build(f)
    [item] = items_of(f, ItemKind.INTEGRATE)
    assert {n["need"]: n["why"] for n in item.data["needs"]}["housing_repair"] == "not_possible"
    # … and a later forum gets the matter once the first one closed (carried over), still current.
    services.forum_close(actor=cast.ploy, forum=f)
    g = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=30))
    build(g)
    [item] = items_of(g, ItemKind.INTEGRATE)
    needs = {n["need"]: n["why"] for n in item.data["needs"]}
    assert needs["housing_repair"] == "not_possible" and item.carried_from is not None


def test_a_need_with_an_open_referral_is_not_an_integrate_item(cast, world, forum_of):
    put_on_source_list(cast.household)
    assess(cast, cast.household, ROUND, fail={"bmn08"}, income=60000)
    world.bring_to("not_possible")
    world.new(send=True)  # referred again, still open
    f = forum_of("46010101")
    build(f)
    needs = {n["need"] for i in items_of(f, ItemKind.INTEGRATE) for n in i.data["needs"]}
    assert "housing_repair" not in needs


def test_needs_a_running_help_plan_covers_wait_until_its_due_date(cast, forum_of):
    put_on_source_list(cast.household)
    assess(cast, cast.household, ROUND, fail={"bmn08"}, income=60000)  # needs no agency serves here
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f, ItemKind.INTEGRATE)
    plan = [
        services.TaskInput(task="ชุมชนช่วยซ่อมหลังคา", due_on=HELD_ON + dt.timedelta(days=60), responsible="กรรมการหมู่บ้าน")
    ]
    services.resolve(actor=cast.ploy, item=item, data=resolution("help_plan", "แผนช่วยเหลือ", tasks=plan))
    services.forum_close(actor=cast.ploy, forum=f)
    during = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=30))
    build(during)
    assert items_of(during, ItemKind.INTEGRATE) == []  # the plan is running
    services.forum_close(actor=cast.ploy, forum=during)
    after = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=90))
    build(after)
    assert [i.household for i in items_of(after, ItemKind.INTEGRATE)] == [cast.household]  # past due: back


def test_a_returned_referral_is_an_item(cast, world, forum_of):
    r = world.bring_to("returned")
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f, ItemKind.RETURNED)
    assert item.referral == r and item.household == cast.household and item.key == f"returned:{r.ref}"
    assert item.data["agency"] == "pso"


def _overdue_pair(cast: Any, world: Any) -> tuple[Referral, Referral, Referral]:
    """Two referrals to pso overdue on the forum date (one in each of Ploy's villages) and one
    due after it."""
    late_a = world.new(send=True)
    other_village = household_in(cast, "46010102", "5", first="สมใจ", last="มีสุข")
    late_b = world.new(send=True, household=other_village)
    on_time = world.new(send=True)
    Referral.objects.filter(pk=late_a.pk).update(due_on=HELD_ON - dt.timedelta(days=10))
    Referral.objects.filter(pk=late_b.pk).update(due_on=HELD_ON - dt.timedelta(days=1))
    Referral.objects.filter(pk=on_time.pk).update(due_on=HELD_ON)
    return late_a, late_b, on_time


def test_an_overdue_referral_is_an_item_per_referral_at_village_and_subdistrict(cast, world, forum_of):
    late_a, late_b, _on_time = _overdue_pair(cast, world)
    sub = forum_of("460101")
    build(sub)
    overdue = items_of(sub, ItemKind.OVERDUE)
    assert [i.referral for i in overdue] == [late_a, late_b]  # earliest due first; on_time is not late
    assert overdue[0].data["due_on"] == str(HELD_ON - dt.timedelta(days=10))
    village = forum_of("46010102")
    build(village)
    # One matter, one forum at a time: late_b waits at the subdistrict forum already.
    assert items_of(village, ItemKind.OVERDUE) == []
    other = forum_of("46010101")
    services.forum_close(actor=cast.ploy, forum=sub)  # closing carries both to the next 460101 forum, …
    build(other)
    assert items_of(other, ItemKind.OVERDUE) == []  # … not to a village forum


def test_overdue_referrals_are_grouped_per_agency_at_the_district(cast, world, forum_of):
    late_a, late_b, _on_time = _overdue_pair(cast, world)
    district = forum_of("4601", actor=cast.dara)
    build(district)
    [item] = items_of(district, ItemKind.OVERDUE)
    assert item.key == "overdue-agency:pso" and item.area_code == "4601"
    assert item.household is None and item.referral is None
    assert sorted(item.data["referrals"]) == sorted([late_a.ref, late_b.ref])
    assert "2" in item.title and world.pso.name_th in item.title


# --------------------------------------------------------------------------- graduation and appeals


def test_a_graduation_candidate_is_an_item_with_the_checks(cast, forum_of):
    put_on_source_list(cast.household)
    assess(cast, cast.household, "2567")
    assess(cast, cast.household, "2568")  # level 3 twice, 50,000 baht a person ≥ 40,000
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f, ItemKind.GRADUATION)
    assert item.household == cast.household and item.key == f"graduation:{cast.household.code}"
    checks = {c["criterion"]: c for c in item.data["checks"]}
    assert set(checks) == {"consecutive_rounds", "income", "no_critical_deprivation", "not_target_poor"}
    assert all(c["met"] for c in checks.values())


def test_a_graduation_candidate_under_criteria_without_income_is_an_item_with_the_checks(cast, forum_of):
    from khm.forums import graduation

    d = copy.deepcopy(graduation.criteria_current().definition)
    next(c for c in d["criteria"] if c["id"] == "income")["enabled"] = False
    graduation.criteria_save_version(actor=cast.admin, definition=d, note="ไม่ใช้เกณฑ์รายได้")
    put_on_source_list(cast.household)
    assess(cast, cast.household, "2567")
    assess(cast, cast.household, "2568")
    # A neighbour fell back to level 2 in the latest round: not a candidate.
    neighbour = household_in(cast, "46010101", "14", first="ทองใบ", last="ดีงาม")
    put_on_source_list(neighbour)
    assess(cast, neighbour, "2567")
    assess(cast, neighbour, "2568", extra=NO_HOME)
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f, ItemKind.GRADUATION)
    assert item.household == cast.household and item.key == f"graduation:{cast.household.code}"
    checks = {c["criterion"]: c for c in item.data["checks"]}
    assert set(checks) == {"consecutive_rounds", "no_critical_deprivation", "not_target_poor"}
    assert all(c["met"] for c in checks.values())
    assert "ระดับ 3 ในรอบ 2567 และระดับ 3 ในรอบ 2568" in checks["consecutive_rounds"]["th"]
    assert "level 3 in 2567 and level 3 in 2568" in checks["consecutive_rounds"]["en"]


def test_an_open_appeal_is_an_item(cast, forum_of):
    put_on_source_list(cast.household)
    p = validation.posting_create(actor=cast.ploy, village_code="46010101", round=ROUND, opens_on=HELD_ON, days=10)
    a = validation.appeal_lodge(
        posting=p, area_code="46010101", category="wrongly_included", entry_number=1,
        description="ครอบครัวนี้มีรถยนต์และที่ดินมาก", today=HELD_ON,
    )  # fmt: skip
    f = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=15))
    build(f)
    [item] = items_of(f, ItemKind.APPEAL)
    assert item.appeal == a and item.household == cast.household and item.key == f"appeal:{a.ref}"
    assert item.data["due_on"] == str(a.due_on) and item.data["category"] == "wrongly_included"
    # An appeal on an open item of one forum does not go on another forum's agenda too.
    g = forum_of("460101", held_on=HELD_ON + dt.timedelta(days=16))
    build(g)
    assert items_of(g, ItemKind.APPEAL) == []


# --------------------------------------------------------------------------- rebuilding, levels, scope


def _everything(cast: Any, world: Any) -> None:
    put_on_source_list(cast.household)
    second = household_in(cast, "46010102", "8", first="บัวผัน", last="แสนดี")
    put_on_source_list(second)
    verify(cast.ploy, second, "not_poor", "v-2")
    assess(cast, cast.household, ROUND, fail={"bmn08"}, income=60000)
    world.bring_to("returned")
    late = world.new(send=True)
    Referral.objects.filter(pk=late.pk).update(due_on=HELD_ON - dt.timedelta(days=3))


def test_rebuilding_adds_nothing_twice(cast, world, forum_of):
    _everything(cast, world)
    f = forum_of("460101")
    first = build(f)
    before = keys(f)
    assert first == len(before) >= 4
    assert {ItemKind.UNVERIFIED, ItemKind.DISPUTED, ItemKind.INTEGRATE, ItemKind.RETURNED, ItemKind.OVERDUE} <= {
        i.kind for i in items_of(f)
    }
    assert build(f) == 0
    assert keys(f) == before and len(set(before)) == len(before)
    assert [i.number for i in items_of(f)] == list(range(1, len(before) + 1))


def test_a_dropped_item_is_not_put_back_by_a_rebuild(cast, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f)
    services.agenda_drop(actor=cast.ploy, item=item, reason="ย้ายออกจากหมู่บ้านแล้ว")
    assert build(f) == 0
    assert [(i.status, i.drop_reason) for i in items_of(f)] == [(ItemStatus.DROPPED, "ย้ายออกจากหมู่บ้านแล้ว")]


@pytest.mark.parametrize("area", ["4601", "46"])
def test_district_and_province_forums_get_no_household_level_items(cast, world, forum_of, area):
    _everything(cast, world)
    f = forum_of(area, actor=cast.admin)
    build(f)
    items = items_of(f)
    assert [i.kind for i in items] == [ItemKind.OVERDUE]  # by agency
    assert all(i.household is None and i.referral is None and i.area_code == area for i in items)


def test_a_district_forum_does_not_take_a_village_appeal(cast, forum_of):
    put_on_source_list(cast.household)
    p = validation.posting_create(actor=cast.ploy, village_code="46010101", round=ROUND, opens_on=HELD_ON, days=10)
    validation.appeal_lodge(
        posting=p, area_code="46010101", category="wrongly_included", entry_number=1,
        description="ครอบครัวนี้มีรถยนต์และที่ดินมาก", today=HELD_ON,
    )  # fmt: skip
    district = forum_of("4601", actor=cast.dara, held_on=HELD_ON + dt.timedelta(days=12))
    build(district)
    assert all(i.household is None for i in items_of(district))
    village = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=15))
    build(village)
    assert len(items_of(village, ItemKind.APPEAL)) == 1


def test_households_of_another_area_never_appear(cast, world, forum_of):
    _everything(cast, world)
    put_on_source_list(cast.other_household)
    verify(cast.somchai, cast.other_household, "not_poor", "v-other")
    r = world.new(household=cast.other_household, send=True, actor=cast.admin)
    Referral.objects.filter(pk=r.pk).update(due_on=HELD_ON - dt.timedelta(days=3))
    for area in ("46010101", "460101", "4601"):
        f = forum_of(area)
        build(f)
        assert items_of(f), area
        assert not any(i.household == cast.other_household or i.referral == r for i in items_of(f)), area
        assert all(i.area_code.startswith(area) for i in items_of(f)), area
    # Ploy's other village is not on the agenda of 46010101 either.
    village = AgendaItem.objects.filter(forum__area_code="46010101")
    assert not village.filter(area_code="46010102").exists()
    # And Somchai's own forum has his household, none of Ploy's.
    theirs = forum_of("46050101", actor=cast.somchai)
    build(theirs)
    assert {i.household for i in items_of(theirs) if i.household} == {cast.other_household}


# --------------------------------------------------------------------------- the secretary's matters


def test_the_secretary_adds_a_matter_and_may_name_a_household_of_the_area(cast, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    secretary = make_secretary(cast)
    item = services.agenda_add(
        actor=secretary, forum=f, title="  ขอรับการสนับสนุนถังเก็บน้ำ  ", detail="ผู้ใหญ่บ้านเสนอ", household=cast.household
    )
    assert item.kind == ItemKind.OTHER and item.number == 2 and item.title == "ขอรับการสนับสนุนถังเก็บน้ำ"
    assert item.added_by == secretary and item.household == cast.household and item.area_code == "46010101"
    general = services.agenda_add(actor=secretary, forum=f, title="เรื่องแจ้งเพื่อทราบ")
    assert general.number == 3 and general.area_code == "46010101" and general.household is None
    with pytest.raises(ForumInvalid) as exc:
        services.agenda_add(actor=secretary, forum=f, title="เรื่องอื่น", household=cast.other_household)
    assert [p.field for p in exc.value.problems] == ["household"]
    with pytest.raises(ForumInvalid) as exc:
        services.agenda_add(actor=secretary, forum=f, title="   ")
    assert [p.field for p in exc.value.problems] == ["title"]
    with pytest.raises(PermissionDenied):
        services.agenda_add(actor=cast.somchai, forum=f, title="เรื่องของคนอื่น")
    with pytest.raises(PermissionDenied):
        services.agenda_add(actor=cast.vee, forum=f, title="อาสาสมัครเพิ่มวาระ")  # forum.view only
    assert len(items_of(f)) == 3


def test_dropping_an_item_needs_a_reason(cast, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    [item] = items_of(f)
    with pytest.raises(ForumInvalid) as exc:
        services.agenda_drop(actor=cast.ploy, item=item, reason="   ")
    assert [p.field for p in exc.value.problems] == ["reason"]
    assert exc.value.problems[0].th and exc.value.problems[0].en
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN and item.drop_reason == ""
    services.agenda_drop(actor=cast.ploy, item=item, reason="ซ้ำกับวาระที่ 3")
    item.refresh_from_db()
    assert item.status == ItemStatus.DROPPED and item.drop_reason == "ซ้ำกับวาระที่ 3"
    with pytest.raises(ForumInvalid):
        services.agenda_drop(actor=cast.ploy, item=item, reason="อีกครั้ง")
