"""Each kind of resolution taking effect through the normal services (standing, referrals,
plan tasks, graduation), audited; what is refused (twice, wrong kind, bad plan, closed forum,
someone else's forum); signatures; carry-over to the next forum and escalation upwards."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from khm.assessment.tests.test_assessment import data_for
from khm.audit.models import AuditEvent
from khm.fieldwork import services as fieldwork
from khm.forums import graduation, services, standing
from khm.forums.models import (
    AgendaItem,
    ForumStatus,
    HouseholdStanding,
    ItemKind,
    ItemStatus,
    PlanTask,
    Resolution,
    Standing,
    StandingEvent,
)
from khm.forums.services import ForumInvalid, TaskInput
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
from khm.referrals.models import Referral, State
from khm.registry.models import Household

pytestmark = pytest.mark.django_db


def build(forum: Any) -> int:
    return services.agenda_build(actor=forum.created_by, forum=forum)


def one(forum: Any, kind: str) -> AgendaItem:
    [item] = items_of(forum, kind)
    return item


def assess(cast: Any, household: Any, round: str, **kw: Any) -> None:
    from khm.assessment import services as assessment

    assessment.assessment_record(
        actor=cast.ploy, household=household, round=round, assessed_on=dt.date(2025, 6, 1),
        data=data_for(household, **kw),
    )  # fmt: skip


def counts() -> dict[str, int]:
    return {
        "resolutions": Resolution.objects.count(),
        "tasks": PlanTask.objects.count(),
        "referrals": Referral.objects.count(),
        "standing": HouseholdStanding.objects.count(),
        "events": StandingEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def integrate(cast: Any, world: Any, forum_of: Any) -> AgendaItem:
    """An integrate item of the memorable household: no agency offers income support, and the
    housing repair referral to pso ended as not possible."""
    put_on_source_list(cast.household)
    assess(cast, cast.household, ROUND, fail={"bmn08"}, income=60000)
    world.bring_to("not_possible")
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.INTEGRATE)
    assert {n["need"] for n in item.data["needs"]} >= {"housing_repair", "income_support"}
    return item


# --------------------------------------------------------------------------- the list


def test_confirm_poor_changes_the_standing_with_an_event_and_an_audit(cast, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.UNVERIFIED)
    res = services.resolve(actor=cast.ploy, item=item, data=resolution("confirm_poor", "รับรองว่ายากจน"))
    assert standing.status_of(cast.household) == Standing.CONFIRMED
    row = HouseholdStanding.objects.get(household=cast.household)
    assert (row.status, row.since, row.round, row.area_code) == (Standing.CONFIRMED, HELD_ON, ROUND, "46010101")
    [event] = StandingEvent.objects.filter(household=cast.household)
    assert (event.from_status, event.to_status, event.on) == (Standing.LISTED, Standing.CONFIRMED, HELD_ON)
    assert event.resolution == res and event.actor == cast.ploy
    assert f.ref in event.reason and "รับรองว่ายากจน" in event.reason
    audit = AuditEvent.objects.get(action="standing.update", object_ref=cast.household.code)
    assert audit.changes == {"standing": ["listed", "confirmed"]} and audit.actor == cast.ploy
    assert AuditEvent.objects.filter(action="resolution.create", object_ref=f.ref).count() == 1
    item.refresh_from_db()
    f.refresh_from_db()
    assert item.status == ItemStatus.DECIDED and f.status == ForumStatus.HELD
    assert len(res.effects) == 1 and cast.household.code in res.effects[0]  # what it did, for the minutes


def test_not_poor_takes_the_household_off_the_list(cast, forum_of):
    put_on_source_list(cast.household)
    fieldwork.verification_submit(
        actor=cast.ploy, key="np", household=cast.household, method="desk",
        payload={"outcome": "not_poor", "verified_on": VERIFIED_ON},
    )  # fmt: skip
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.DISPUTED)
    res = services.resolve(actor=cast.ploy, item=item, data=resolution("not_poor", "ไม่ยากจน มีรายได้ประจำ"))
    assert standing.status_of(cast.household) == Standing.NOT_POOR
    assert not standing.on_list(Household.objects.filter(pk=cast.household.pk)).exists()
    event = StandingEvent.objects.get(household=cast.household)
    assert (event.from_status, event.to_status, event.resolution) == (Standing.LISTED, Standing.NOT_POOR, res)
    audit = AuditEvent.objects.get(action="standing.update", object_ref=cast.household.code)
    assert audit.changes == {"standing": ["listed", "not_poor"]}


def test_confirming_the_verified_batch_confirms_every_household_of_it(cast, forum_of):
    second = household_in(cast, "46010101", "12", first="สมศรี", last="ใจดี")
    for n, h in enumerate((cast.household, second)):
        put_on_source_list(h)
        fieldwork.verification_submit(
            actor=cast.ploy, key=f"cp{n}", household=h, method="desk",
            payload={"outcome": "confirmed_poor", "verified_on": VERIFIED_ON},
        )  # fmt: skip
    f = forum_of("46010101")
    build(f)
    services.resolve(actor=cast.ploy, item=one(f, ItemKind.VERIFIED), data=resolution("confirm_poor"))
    assert standing.status_of(cast.household) == standing.status_of(second) == Standing.CONFIRMED
    assert AuditEvent.objects.filter(action="standing.update").count() == 2


# --------------------------------------------------------------------------- referrals and plans


def test_refer_creates_one_sent_referral_per_agency_from_the_forum(cast, world, integrate):
    before = Referral.objects.count()
    res = services.resolve(
        actor=cast.ploy, item=integrate,
        data=resolution("refer", "ส่งต่อให้ทั้งสองหน่วยงาน", agencies=[world.pso, world.other.agency], need="housing_repair"),
    )  # fmt: skip
    made = Referral.objects.exclude(state=State.NOT_POSSIBLE).order_by("id")
    assert Referral.objects.count() == before + 2
    assert {r.agency for r in made} == {world.pso, world.other.agency}
    for r in made:
        assert r.state == State.SENT and r.sent_at is not None
        assert r.source == f"forum:{integrate.forum.ref}" and r.need == "housing_repair"
        assert r.household == cast.household and r.created_by == cast.ploy
        assert len([e for e in res.effects if r.ref in e]) == 1
    assert AuditEvent.objects.filter(action="referral.create").count() >= 3  # 1 earlier + 2 by the forum


def test_a_forum_secretary_refers_on_the_forums_authority(cast, world, integrate):
    secretary = make_secretary(cast)
    from khm.accounts.scoping import can

    assert not can(secretary, "referral.create", "46010101")
    services.resolve(
        actor=secretary, item=integrate,
        data=resolution("refer", "ส่งต่อ สสจ.", agencies=[world.other.agency], need="housing_repair"),
    )  # fmt: skip
    r = Referral.objects.get(agency=world.other.agency)
    assert r.state == State.SENT and r.created_by == secretary and r.source == f"forum:{integrate.forum.ref}"


def test_somchai_cannot_resolve_on_ploys_forum(cast, world, integrate):
    before = counts()
    with pytest.raises(PermissionDenied):
        services.resolve(
            actor=cast.somchai, item=integrate,
            data=resolution("refer", "ส่งต่อ", agencies=[world.other.agency], need="housing_repair"),
        )  # fmt: skip
    assert counts() == before
    integrate.refresh_from_db()
    assert integrate.status == ItemStatus.OPEN


def test_refer_on_a_returned_referral_sends_it_on_to_the_new_agency(cast, world, forum_of):
    r = world.bring_to("returned")
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.RETURNED)
    before = Referral.objects.count()
    res = services.resolve(
        actor=cast.ploy, item=item, data=resolution("refer", "ส่งต่อให้ สสจ. แทน", agencies=[world.other.agency])
    )
    r.refresh_from_db()
    assert Referral.objects.count() == before  # the same referral goes on
    assert r.state == State.SENT and r.agency == world.other.agency
    assert len(res.effects) == 1 and r.ref in res.effects[0]


def test_help_plan_creates_tasks_and_referrals_due_on_the_plans_dates(cast, world, integrate):
    before = Referral.objects.count()
    roof = dt.date(2026, 1, 15)
    visit = dt.date(2025, 12, 20)
    res = services.resolve(
        actor=cast.ploy, item=integrate,
        data=resolution("help_plan", "แผนช่วยเหลือแบบบูรณาการ", tasks=[
            TaskInput(task="ซ่อมหลังคา", due_on=roof, agency=world.other.agency, need="housing_repair"),
            TaskInput(task="เยี่ยมบ้านทุกเดือน", due_on=visit, responsible="ผู้ใหญ่บ้าน"),
        ]),
    )  # fmt: skip
    tasks = list(res.tasks.order_by("due_on"))
    assert [(t.task, t.due_on, t.responsible, t.agency) for t in tasks] == [
        ("เยี่ยมบ้านทุกเดือน", visit, "ผู้ใหญ่บ้าน", None),
        ("ซ่อมหลังคา", roof, "", world.other.agency),
    ]
    assert tasks[0].referral is None
    r = tasks[1].referral
    assert r is not None and Referral.objects.count() == before + 1
    assert r.due_on == roof and r.state == State.SENT and r.agency == world.other.agency
    assert r.source == f"forum:{integrate.forum.ref}" and r.need == "housing_repair"
    assert len(res.effects) == 2 and any(r.ref in e for e in res.effects)


def test_a_bad_plan_is_named_task_by_task_and_nothing_is_written(cast, world, integrate):
    before = counts()
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(
            actor=cast.ploy, item=integrate,
            data=resolution("help_plan", "แผน", tasks=[
                TaskInput(task="ซ่อมหลังคา", due_on=None, agency=world.pso, need="housing_repair"),
                TaskInput(task="ฝึกอาชีพ", due_on=HELD_ON - dt.timedelta(days=1), agency=world.pso),
                TaskInput(task="เยี่ยมบ้าน", due_on=HELD_ON + dt.timedelta(days=7)),
                TaskInput(task="จัดหาน้ำดื่ม", due_on=HELD_ON + dt.timedelta(days=7), responsible="อบต."),
            ]),
        )  # fmt: skip
    by = {p.field: p for p in exc.value.problems}
    assert set(by) == {"tasks[0].due_on", "tasks[1].due_on", "tasks[2].responsible"}
    assert "วันกำหนดเสร็จ" in by["tasks[0].due_on"].th and "due date is required" in by["tasks[0].due_on"].en
    assert "ก่อนวันประชุม" in by["tasks[1].due_on"].th and "before the meeting" in by["tasks[1].due_on"].en
    assert "ผู้รับผิดชอบ" in by["tasks[2].responsible"].th and "responsible" in by["tasks[2].responsible"].en
    assert counts() == before
    integrate.refresh_from_db()
    assert integrate.status == ItemStatus.OPEN


def test_a_plan_without_tasks_or_a_refer_without_agencies_is_refused(cast, integrate):
    before = counts()
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=integrate, data=resolution("help_plan", "แผน"))
    assert [p.field for p in exc.value.problems] == ["tasks"]
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=integrate, data=resolution("refer", "ส่งต่อ"))
    assert [p.field for p in exc.value.problems] == ["agencies"]
    assert counts() == before


# --------------------------------------------------------------------------- graduation


def _criteria_without_income(cast: Any, months: int | None = None) -> Any:
    d = copy.deepcopy(graduation.criteria_current().definition)
    next(c for c in d["criteria"] if c["id"] == "income")["enabled"] = False
    if months is not None:
        d["follow_up"]["params"]["months"] = months
    return graduation.criteria_save_version(actor=cast.admin, definition=d, note="ทดสอบ")


def _graduation_item(cast: Any, forum_of: Any) -> AgendaItem:
    put_on_source_list(cast.household)
    assess(cast, cast.household, "2567")
    assess(cast, cast.household, "2568")
    f = forum_of("46010101")
    build(f)
    return one(f, ItemKind.GRADUATION)


def test_approve_graduation_graduates_and_follows_for_the_criteria_period(cast, forum_of):
    criteria = _criteria_without_income(cast)  # a second version: approval records it
    item = _graduation_item(cast, forum_of)
    res = services.resolve(actor=cast.ploy, item=item, data=resolution("approve_graduation", "อนุมัติให้พ้นความยากจน"))
    row = HouseholdStanding.objects.get(household=cast.household)
    assert row.status == Standing.GRADUATED and row.since == HELD_ON
    assert row.follow_until == dt.date(2027, 12, 1)  # 24 months after the decision
    assert res.data["criteria_version"] == criteria.version == 2
    assert res.data["eligible"] is True and res.data["follow_until"] == "2027-12-01"
    assert {c["criterion"] for c in res.data["checks"]} == {
        "consecutive_rounds",
        "no_critical_deprivation",
        "not_target_poor",
    }
    assert all(c["met"] and c["th"] and c["en"] for c in res.data["checks"])
    event = StandingEvent.objects.get(household=cast.household)
    assert (event.from_status, event.to_status, event.resolution) == (Standing.LISTED, Standing.GRADUATED, res)
    assert not standing.on_list(Household.objects.filter(pk=cast.household.pk)).exists()


def test_the_follow_up_period_is_data_of_the_criteria(cast, forum_of):
    _criteria_without_income(cast, months=6)
    item = _graduation_item(cast, forum_of)
    services.resolve(
        actor=cast.ploy, item=item,
        data=resolution("approve_graduation", "อนุมัติ", decided_on=dt.date(2025, 8, 31)),
    )  # fmt: skip
    row = HouseholdStanding.objects.get(household=cast.household)
    assert row.follow_until == dt.date(2026, 2, 28)  # no 31 February: the month's last day


def test_defer_graduation_changes_nothing(cast, forum_of):
    _criteria_without_income(cast)
    item = _graduation_item(cast, forum_of)
    before = {k: v for k, v in counts().items() if k in ("standing", "events", "referrals")}
    res = services.resolve(actor=cast.ploy, item=item, data=resolution("defer_graduation", "ให้ติดตามอีกหนึ่งรอบ"))
    assert standing.status_of(cast.household) == Standing.LISTED
    assert {k: v for k, v in counts().items() if k in ("standing", "events", "referrals")} == before
    assert not AuditEvent.objects.filter(action="standing.update").exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.DECIDED and res.effects == []


# --------------------------------------------------------------------------- refusals and signatures


def test_an_item_cannot_be_resolved_twice(cast, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.UNVERIFIED)
    services.resolve(actor=cast.ploy, item=item, data=resolution("confirm_poor"))
    before = counts()
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution("not_poor"))
    assert "item" in [p.field for p in exc.value.problems]
    # The same stale object, as a second browser tab would hold it.
    stale = AgendaItem.objects.get(pk=item.pk)
    stale.status = ItemStatus.OPEN
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=stale, data=resolution("not_poor"))
    assert [p.field for p in exc.value.problems] == ["item"]
    assert counts() == before
    assert standing.status_of(cast.household) == Standing.CONFIRMED


@pytest.mark.parametrize("kind", ["approve_graduation", "uphold_appeal", "help_plan", "refer"])
def test_a_kind_that_does_not_fit_the_item_is_refused(cast, forum_of, kind):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.UNVERIFIED)
    before = counts()
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution(kind))
    problems = {p.field: p for p in exc.value.problems}
    assert "kind" in problems and "does not fit" in problems["kind"].en and problems["kind"].th
    assert counts() == before
    assert standing.status_of(cast.household) == Standing.LISTED


def test_signatures_are_stored_and_each_needs_a_name(cast, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.UNVERIFIED)
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(
            actor=cast.ploy, item=item,
            data=resolution("confirm_poor", signatures=[{"name": "นายสมศักดิ์ ใจดี"}, {"name": " ", "role": "เลขานุการ"}]),
        )  # fmt: skip
    assert [p.field for p in exc.value.problems] == ["signatures[1].name"]
    res = services.resolve(
        actor=cast.ploy, item=item,
        data=resolution("confirm_poor", signatures=[
            {"name": " นายสมศักดิ์ ใจดี ", "role": "ประธานเวที"}, {"name": "นางสาวจำเนียร คำมูล"},
        ]),
    )  # fmt: skip
    res.refresh_from_db()
    assert res.signatures == [
        {"name": "นายสมศักดิ์ ใจดี", "role": "ประธานเวที"},
        {"name": "นางสาวจำเนียร คำมูล", "role": ""},
    ]


# --------------------------------------------------------------------------- carry-over and escalation


def test_closing_carries_open_items_to_the_next_forum_of_the_area_once(cast, forum_of):
    second = household_in(cast, "46010101", "12", first="สมศรี", last="ใจดี")
    put_on_source_list(cast.household)
    put_on_source_list(second)
    first = forum_of("46010101")
    build(first)
    decided, waiting = items_of(first)
    services.resolve(actor=cast.ploy, item=decided, data=resolution("confirm_poor"))
    extra = services.agenda_add(actor=cast.ploy, forum=first, title="ขอถังเก็บน้ำ")
    assert services.forum_close(actor=cast.ploy, forum=first) == 2
    first.refresh_from_db()
    assert first.status == ForumStatus.CLOSED and first.closed_at is not None
    assert [i.status for i in items_of(first)] == [ItemStatus.DECIDED, ItemStatus.CARRIED, ItemStatus.CARRIED]
    # Another area's forum does not take them.
    elsewhere = forum_of("46010102", held_on=HELD_ON + dt.timedelta(days=20))
    build(elsewhere)
    assert not AgendaItem.objects.filter(forum=elsewhere, carried_from__isnull=False).exists()
    nxt = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=30))
    build(nxt)
    carried = [i for i in items_of(nxt) if i.carried_from_id]
    assert sorted(i.carried_from.pk for i in carried if i.carried_from) == sorted([waiting.pk, extra.pk])
    again = next(i for i in carried if i.carried_from_id == waiting.pk)
    assert (again.kind, again.household, again.key, again.status) == (
        ItemKind.UNVERIFIED, waiting.household, waiting.key, ItemStatus.OPEN,
    )  # fmt: skip
    assert again.data["from_forum"] == first.ref
    # Not built a second time as a fresh item, nor carried again.
    assert [i for i in items_of(nxt) if i.household == waiting.household] == [again]
    assert services.agenda_build(actor=cast.ploy, forum=nxt) == 0
    later = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=60))
    build(later)
    assert AgendaItem.objects.filter(carried_from=waiting).count() == 1
    assert AgendaItem.objects.filter(carried_from=extra).count() == 1
    assert not AgendaItem.objects.filter(forum=later, carried_from__in=[waiting, extra]).exists()
    # The decided item is not carried.
    assert not AgendaItem.objects.filter(carried_from=decided).exists()


def test_a_closed_forum_refuses_every_change(cast, world, forum_of):
    put_on_source_list(cast.household)
    f = forum_of("46010101")
    build(f)
    item = one(f, ItemKind.UNVERIFIED)
    services.forum_close(actor=cast.ploy, forum=f)
    item.refresh_from_db()
    before = counts()
    attempts = [
        lambda: services.resolve(actor=cast.ploy, item=item, data=resolution("confirm_poor")),
        lambda: services.agenda_add(actor=cast.ploy, forum=f, title="เรื่องใหม่"),
        lambda: services.agenda_build(actor=cast.ploy, forum=f),
        lambda: services.agenda_drop(actor=cast.ploy, item=item, reason="ไม่ต้องพิจารณา"),
        lambda: services.forum_update(actor=cast.ploy, forum=f, place="วัด"),
        lambda: services.forum_close(actor=cast.ploy, forum=f),
    ]
    for attempt in attempts:
        with pytest.raises(ForumInvalid) as exc:
            attempt()
        assert [p.field for p in exc.value.problems] == ["forum"]
        assert "closed" in exc.value.problems[0].en and "ปิดการประชุม" in exc.value.problems[0].th
    assert counts() == before and len(items_of(f)) == 1
    f.refresh_from_db()
    assert f.place == "ศาลากลางบ้าน"


@pytest.mark.parametrize("higher", ["460101", "4601"])
def test_escalate_from_a_village_reaches_the_forum_above_once(cast, forum_of, higher):
    put_on_source_list(cast.household)
    village = forum_of("46010101")
    build(village)
    item = one(village, ItemKind.UNVERIFIED)
    services.resolve(actor=cast.ploy, item=item, data=resolution("escalate", "เสนอเวทีระดับที่สูงกว่า"))
    item.refresh_from_db()
    assert item.status == ItemStatus.ESCALATED
    above = forum_of(higher, actor=cast.dara, held_on=HELD_ON + dt.timedelta(days=10))
    build(above)
    [up] = [i for i in items_of(above) if i.escalated_from_id]
    assert up.escalated_from == item and up.household == cast.household and up.kind == ItemKind.UNVERIFIED
    assert up.area_code == "46010101" and up.data["from_forum"] == village.ref and up.carried_from is None
    assert services.agenda_build(actor=cast.dara, forum=above) == 0
    # No other forum above picks it up a second time.
    province = forum_of("46", actor=cast.admin, held_on=HELD_ON + dt.timedelta(days=11))
    build(province)
    assert AgendaItem.objects.filter(escalated_from=item).count() == 1
    # The village forum's own agenda does not get it back on a rebuild.
    assert services.agenda_build(actor=cast.ploy, forum=village) == 0
    assert len(items_of(village)) == 1


def test_the_next_village_forum_does_not_get_an_escalated_household_back(cast, forum_of):
    put_on_source_list(cast.household)
    village = forum_of("46010101")
    build(village)
    item = one(village, ItemKind.UNVERIFIED)
    services.resolve(actor=cast.ploy, item=item, data=resolution("escalate", "เสนอเวทีตำบล"))
    above = forum_of("460101", held_on=HELD_ON + dt.timedelta(days=10))
    build(above)
    assert AgendaItem.objects.filter(escalated_from=item).count() == 1
    nxt = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=20))
    build(nxt)
    assert not any(i.household == cast.household for i in items_of(nxt))


def test_a_carry_over_resolution_puts_the_item_on_the_next_forum(cast, forum_of):
    put_on_source_list(cast.household)
    first = forum_of("46010101")
    build(first)
    item = one(first, ItemKind.UNVERIFIED)
    services.resolve(actor=cast.ploy, item=item, data=resolution("carry_over", "รอผลการตรวจสอบ"))
    item.refresh_from_db()
    assert item.status == ItemStatus.CARRIED
    nxt = forum_of("46010101", held_on=HELD_ON + dt.timedelta(days=30))
    build(nxt)
    [again] = items_of(nxt)
    assert again.carried_from == item and again.status == ItemStatus.OPEN
    services.resolve(actor=cast.ploy, item=again, data=resolution("confirm_poor", "รับรอง"))
    assert standing.status_of(cast.household) == Standing.CONFIRMED


def test_a_district_escalates_to_the_province(cast, world, forum_of):
    late = world.new(send=True)
    Referral.objects.filter(pk=late.pk).update(due_on=HELD_ON - dt.timedelta(days=5))
    district = forum_of("4601", actor=cast.dara)
    build(district)
    item = one(district, ItemKind.OVERDUE)
    services.resolve(actor=cast.dara, item=item, data=resolution("escalate", "ขอให้จังหวัดเร่งรัดหน่วยงาน"))
    # Dara cannot hold the province forum; the province admin can, and gets the item.
    with pytest.raises(PermissionDenied):
        forum_of("46", actor=cast.dara)
    province = forum_of("46", actor=cast.admin, held_on=HELD_ON + dt.timedelta(days=7))
    build(province)
    [up] = [i for i in items_of(province) if i.escalated_from_id]
    assert up.escalated_from == item and up.data["referrals"] == [late.ref] and up.area_code == "4601"


# --------------------------------------------------------------------------- enterprise link


def test_a_resolution_links_the_household_to_an_enterprise_on_the_forums_authority(cast, world, forum_of):
    from khm.livelihoods import services as livelihoods
    from khm.livelihoods.models import Link
    from khm.referrals.models import Assistance

    weavers = livelihoods.enterprise_create(
        actor=cast.ploy, name_th="กลุ่มทอผ้าไหมแพรวา", village=cast.areas["46010101"], stages=["production"],
        lead_agency=world.pso,
    )  # fmt: skip
    secretary = make_secretary(cast, area="460101")
    f = forum_of("460101", actor=secretary)
    item = services.agenda_add(actor=secretary, forum=f, title="อาชีพเสริม", household=cast.household)
    res = services.resolve(
        actor=secretary, item=item,
        data=resolution("link_enterprise", "ให้เข้าร่วมกลุ่มทอผ้าในฐานะสมาชิก", enterprise=weavers, link_role="member"),
    )  # fmt: skip
    link = Link.objects.get(household=cast.household)
    assert link.enterprise == weavers and link.role == "member" and link.source == f"forum:{f.ref}"
    assert link.started_on == HELD_ON and link.ref in " ".join(res.effects)
    # The secretary may not record help: the link stands, tracking does not count it as help.
    assert not Assistance.objects.filter(household=cast.household).exists()


def test_an_enterprise_link_without_an_enterprise_is_refused(cast, forum_of):
    f = forum_of("46010101")
    item = services.agenda_add(actor=cast.ploy, forum=f, title="อาชีพเสริม", household=cast.household)
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution("link_enterprise", "เชื่อมโยง"))
    assert [(p.field, p.en) for p in exc.value.problems] == [("enterprise", "choose the community enterprise")]
    assert not Resolution.objects.exists()


def test_graduation_is_refused_for_a_household_no_longer_on_the_list(cast, forum_of):
    _criteria_without_income(cast)
    item = _graduation_item(cast, forum_of)
    standing.standing_set(actor=cast.ploy, household=cast.household, to=Standing.NOT_POOR, on=HELD_ON, reason="t")
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution("approve_graduation", "อนุมัติ"))
    assert "no longer on the poor list" in exc.value.problems[0].en
    assert HouseholdStanding.objects.get(household=cast.household).status == Standing.NOT_POOR
