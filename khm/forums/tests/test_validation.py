"""Community validation: a village's list posted (masked) for a set number of days, the public
page anyone may read and appeal on, appeals named field by field, their deadline, the forum's
decision acting on the list and the registry, and making the list final."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from khm.audit.models import AuditEvent
from khm.forums import services, standing, validation
from khm.forums.models import (
    AgendaItem,
    Appeal,
    AppealStatus,
    ItemKind,
    ItemStatus,
    PostedEntry,
    Posting,
    PostingStatus,
    Resolution,
    Standing,
    StandingEvent,
)
from khm.forums.services import ForumInvalid
from khm.forums.tests.conftest import (
    HELD_ON,
    ROUND,
    household_in,
    items_of,
    make_secretary,
    put_on_source_list,
    resolution,
)
from khm.forums.validation import ValidationInvalid

pytestmark = pytest.mark.django_db

OPENS = HELD_ON - dt.timedelta(days=20)  # 11 November 2025
CLOSES = OPENS + dt.timedelta(days=10)  # 21 November 2025


@pytest.fixture
def village(cast: Any) -> dict[str, Any]:
    """Village 46010101: the memorable household and ``somsri`` on the list, ``rich`` on it but
    found not poor, ``never`` not on any list."""
    somsri = household_in(cast, "46010101", "12", first="สมศรี", last="ใจดี")
    rich = household_in(cast, "46010101", "40", first="เศรษฐี", last="มั่งมี")
    never = household_in(cast, "46010101", "50", first="ยากไร้", last="ตกหล่น")
    for h in (cast.household, somsri, rich):
        put_on_source_list(h)
    standing.standing_set(actor=cast.ploy, household=rich, to=Standing.NOT_POOR, on=OPENS, reason="มติเวที")
    return {"boonmee": cast.household, "somsri": somsri, "rich": rich, "never": never}


def post(cast: Any, opens_on: dt.date = OPENS, days: int = 10, **kw: Any) -> Posting:
    return validation.posting_create(
        actor=cast.ploy, village_code="46010101", round=ROUND, opens_on=opens_on, days=days, **kw
    )


def lodge(posting: Posting, category: str, today: dt.date | None = None, **kw: Any) -> Appeal:
    kw.setdefault("description", "ข้อมูลในประกาศไม่ถูกต้องตามความเป็นจริง")
    return validation.appeal_lodge(
        posting=posting,
        area_code=posting.area_code,
        category=category,
        today=today or OPENS + dt.timedelta(days=1),
        **kw,
    )


def entry_of(posting: Posting, household: Any) -> PostedEntry:
    found: PostedEntry = posting.entries.get(household=household)
    return found


# --------------------------------------------------------------------------- posting


def test_a_posting_snapshots_the_villages_list_with_masked_names(cast, village):
    p = post(cast)
    assert (p.opens_on, p.closes_on, p.status, p.appeal_days) == (OPENS, CLOSES, PostingStatus.OPEN, 15)
    entries = list(p.entries.order_by("number"))
    assert {e.household for e in entries} == {village["boonmee"], village["somsri"]}
    assert [e.number for e in entries] == [1, 2]
    by = {e.household: e for e in entries}
    assert by[village["boonmee"]].masked_name == "นายบุญมี ศ***" and by[village["boonmee"]].house_no == "99/1"
    assert by[village["somsri"]].masked_name == "นางสมศรี ใ***"
    for e in entries:
        assert "ศรีสุข" not in e.masked_name and "ใจดี" not in e.masked_name
    assert len(p.token) >= 40
    assert AuditEvent.objects.filter(action="posting.create", object_ref=p.ref).count() == 1
    # A snapshot: a household put on the list later is not added to it.
    put_on_source_list(village["never"])
    assert p.entries.count() == 2


@pytest.mark.parametrize("days", [6, 61])
def test_days_outside_seven_to_sixty_are_refused(cast, village, days):
    with pytest.raises(ValidationInvalid) as exc:
        post(cast, days=days)
    [problem] = exc.value.problems
    assert problem.field == "days" and "7" in problem.en and "60" in problem.th
    assert not Posting.objects.exists() and not PostedEntry.objects.exists()


def test_seven_and_sixty_days_are_allowed(cast, village):
    assert post(cast, days=7).closes_on == OPENS + dt.timedelta(days=7)
    p = validation.posting_create(actor=cast.ploy, village_code="46010101", round="2569", opens_on=OPENS, days=60)
    assert p.closes_on == OPENS + dt.timedelta(days=60)


def test_other_bad_posting_fields_are_named(cast, village):
    with pytest.raises(ValidationInvalid) as exc:
        validation.posting_create(
            actor=cast.ploy, village_code="460101", round="68", opens_on=OPENS, days=10, appeal_days=0
        )
    assert {p.field for p in exc.value.problems} == {"village", "round", "appeal_days"}
    assert not Posting.objects.exists()


def test_a_second_open_posting_for_the_village_and_round_is_refused(cast, village):
    first = post(cast)
    with pytest.raises(ValidationInvalid) as exc:
        post(cast, opens_on=OPENS + dt.timedelta(days=2))
    assert [p.field for p in exc.value.problems] == ["village"]
    assert "already has an open posting" in exc.value.problems[0].en
    assert list(Posting.objects.all()) == [first]


def test_only_those_who_manage_postings_there_may_post(cast, village):
    for who in (cast.somchai, cast.vee, make_secretary(cast)):
        with pytest.raises(PermissionDenied):
            validation.posting_create(actor=who, village_code="46010101", round=ROUND, opens_on=OPENS, days=10)
    assert not Posting.objects.exists()


# --------------------------------------------------------------------------- the public page


def test_the_public_page_shows_only_masked_lines_and_is_not_indexed(cast, village):
    p = post(cast, opens_on=timezone.localdate())
    anon = Client()
    r = anon.get(f"/notice/{p.token}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "นายบุญมี ศ***" in html and "นางสมศรี ใ***" in html and "99/1" in html
    for secret in ("ศรีสุข", "ใจดี", cast.household.code, village["somsri"].code, cast.head_nid, "3-4601-00123-45-8",
                   "คำปุน", "มั่งมี"):  # fmt: skip
        assert secret not in html, secret
    assert "noindex" in r["X-Robots-Tag"]
    assert 'id="appeal-form"' in html
    assert anon.get("/notice/not-the-token/").status_code == 404
    Posting.objects.filter(pk=p.pk).update(status=PostingStatus.WITHDRAWN)
    assert anon.get(f"/notice/{p.token}/").status_code == 404


def test_anyone_appeals_on_the_public_page_without_logging_in(cast, village):
    p = post(cast, opens_on=timezone.localdate())
    n = entry_of(p, village["somsri"]).number
    r = Client().post(
        f"/notice/{p.token}/",
        {"category": "wrongly_included", "entry_number": str(n), "description": "บ้านนี้มีรถกระบะสองคันและสวนยาง",
         "name": "ชาวบ้าน", "contact": "0812345678"},
    )  # fmt: skip
    assert r.status_code == 200
    a = Appeal.objects.get()
    assert 'id="appeal-done"' in r.content.decode() and a.ref in r.content.decode()
    assert a.entry is not None and a.entry.number == n
    assert (a.household, a.lodged_via, a.status) == (village["somsri"], "web", AppealStatus.OPEN)
    assert (a.lodged_by_name, a.lodged_by_contact) == ("ชาวบ้าน", "0812345678")
    assert a.due_on == p.closes_on + dt.timedelta(days=p.appeal_days)


def test_a_bad_appeal_on_the_page_is_named_in_thai_and_english_and_nothing_is_kept(cast, village):
    p = post(cast, opens_on=timezone.localdate())
    r = Client().post(f"/notice/{p.token}/", {"category": "wrongly_included", "entry_number": "9", "description": "สั้น"})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="appeal-done"' not in html
    assert "อย่างน้อย 10 ตัวอักษร" in html and "10 characters or more" in html
    assert "ลำดับที่ของครัวเรือนในประกาศ" in html and "number on the posted list" in html
    assert not Appeal.objects.exists()


def test_the_hidden_honeypot_field_keeps_nothing(cast, village):
    p = post(cast, opens_on=timezone.localdate())
    r = Client().post(
        f"/notice/{p.token}/",
        {"category": "wrongly_included", "entry_number": "1", "description": "ข้อความจากโปรแกรมอัตโนมัติ",
         "website": "http://spam.example"},
    )  # fmt: skip
    assert r.status_code == 200 and 'id="appeal-done"' in r.content.decode()
    assert not Appeal.objects.exists() and not AuditEvent.objects.filter(action="appeal.create").exists()


def test_after_the_posting_closes_the_public_form_refuses(cast, village):
    today = timezone.localdate()
    p = post(cast, opens_on=today - dt.timedelta(days=20), days=10)  # closed ten days ago
    anon = Client()
    page = anon.get(f"/notice/{p.token}/").content.decode()
    assert 'id="appeals-closed"' in page and 'id="appeal-form"' not in page
    r = anon.post(f"/notice/{p.token}/", {"category": "wrongly_included", "entry_number": "1",
                                          "description": "บ้านนี้ไม่ได้ยากจนจริง"})  # fmt: skip
    assert 'id="appeal-done"' not in r.content.decode()
    assert not Appeal.objects.exists()
    with pytest.raises(ValidationInvalid) as exc:
        lodge(p, "wrongly_included", entry_number=1, today=p.closes_on + dt.timedelta(days=1))
    assert [x.field for x in exc.value.problems] == ["posting"]
    # On its last day it still takes appeals.
    assert lodge(p, "wrongly_included", entry_number=1, today=p.closes_on).status == AppealStatus.OPEN


# --------------------------------------------------------------------------- appeals


def test_every_bad_appeal_field_is_named_and_nothing_is_written(cast, village):
    p = post(cast)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"category": ""}, "category"),
        ({"category": "wrongly_included", "entry_number": 1, "description": "สั้นไป"}, "description"),
        ({"category": "wrongly_included", "entry_number": 7}, "entry"),
        ({"category": "wrong_data", "entry_number": None}, "entry"),
        ({"category": "wrongly_excluded", "about": "  "}, "about"),
    ]
    for kw, field in cases:
        kw.setdefault("description", "ข้อมูลในประกาศไม่ถูกต้องตามความเป็นจริง")
        with pytest.raises(ValidationInvalid) as exc:
            validation.appeal_lodge(posting=p, area_code="46010101", today=OPENS + dt.timedelta(days=1), **kw)
        problems = {x.field: x for x in exc.value.problems}
        assert list(problems) == [field], kw
        assert problems[field].th and problems[field].en and problems[field].th != problems[field].en
    assert not Appeal.objects.exists() and not AuditEvent.objects.filter(action="appeal.create").exists()


def test_the_appeal_deadline_counts_from_the_close_or_from_today(cast, village):
    p = post(cast, appeal_days=20)
    early = lodge(p, "wrongly_included", entry_number=1, today=OPENS + dt.timedelta(days=2))
    assert early.due_on == CLOSES + dt.timedelta(days=20)
    # Received on paper after the close: counted from the day it was received.
    received = CLOSES + dt.timedelta(days=5)
    late = validation.appeal_lodge(
        posting=p, area_code="46010101", category="wrongly_excluded", about="นางยากไร้ ตกหล่น บ้านเลขที่ 50",
        description="ครอบครัวนี้ยากจนแต่ไม่มีชื่อในประกาศ", via="paper", actor=cast.ploy, today=received,
    )  # fmt: skip
    assert late.due_on == received + dt.timedelta(days=20) and late.lodged_via == "paper"
    with pytest.raises(PermissionDenied):
        validation.appeal_lodge(
            posting=p, area_code="46010101", category="grievance", description="เรื่องร้องเรียนทั่วไปยาวพอ",
            via="paper", actor=cast.somchai, today=received,
        )  # fmt: skip


def _appeal_item(cast: Any, appeal: Appeal) -> AgendaItem:
    f = services.forum_create(
        actor=cast.ploy,
        data=services.ForumInput(area_code="46010101", round=ROUND, title="เวทีหมู่ 1", held_on=HELD_ON, place="ศาลา"),
    )
    services.agenda_build(actor=cast.ploy, forum=f)
    [item] = [i for i in items_of(f, ItemKind.APPEAL) if i.appeal == appeal]
    return item


def test_the_appeal_reaches_the_agenda_of_the_village_forum(cast, village):
    p = post(cast)
    a = lodge(p, "wrongly_included", entry_number=entry_of(p, village["somsri"]).number)
    item = _appeal_item(cast, a)
    assert item.household == village["somsri"] and item.area_code == "46010101"
    assert item.data["due_on"] == str(a.due_on) and item.detail == a.description


def test_upholding_wrongly_included_takes_the_household_off_the_list(cast, village):
    p = post(cast)
    a = lodge(p, "wrongly_included", entry_number=entry_of(p, village["somsri"]).number)
    item = _appeal_item(cast, a)
    res = services.resolve(actor=cast.ploy, item=item, data=resolution("uphold_appeal", "รับคำร้อง ไม่ยากจนจริง"))
    assert standing.status_of(village["somsri"]) == Standing.NOT_POOR
    event = StandingEvent.objects.get(household=village["somsri"])
    assert (event.appeal, event.resolution, event.to_status) == (a, res, Standing.NOT_POOR)
    a.refresh_from_db()
    assert (a.status, a.decision, a.decided_on) == (AppealStatus.UPHELD, "รับคำร้อง ไม่ยากจนจริง", HELD_ON)
    assert standing.status_of(village["boonmee"]) == Standing.LISTED  # the others stay as they were


def test_upholding_wrongly_excluded_puts_the_registry_household_on_the_list(cast, village):
    p = post(cast)
    a = lodge(p, "wrongly_excluded", about="นางยากไร้ ตกหล่น บ้านเลขที่ 50")
    item = _appeal_item(cast, a)
    assert item.household is None
    assert standing.status_of(village["never"]) is None
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution("uphold_appeal", "รับคำร้อง"))
    assert [x.field for x in exc.value.problems] == ["household"]
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(
            actor=cast.ploy, item=item, data=resolution("uphold_appeal", "รับคำร้อง", household=cast.other_household)
        )
    assert [x.field for x in exc.value.problems] == ["household"]
    assert not Resolution.objects.exists()
    services.resolve(
        actor=cast.ploy, item=item, data=resolution("uphold_appeal", "รับคำร้อง เพิ่มเข้าบัญชี", household=village["never"])
    )
    assert standing.status_of(village["never"]) == Standing.CONFIRMED
    a.refresh_from_db()
    assert a.status == AppealStatus.UPHELD and a.household == village["never"]
    assert standing.on_list(type(village["never"]).objects.filter(pk=village["never"].pk)).exists()


def test_upholding_wrong_data_corrects_the_house_number_through_the_registry(cast, village):
    p = post(cast)
    a = lodge(p, "wrong_data", entry_number=entry_of(p, village["somsri"]).number,
              description="บ้านเลขที่ในประกาศผิด ที่ถูกคือ 12/4")  # fmt: skip
    item = _appeal_item(cast, a)
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution("uphold_appeal", "แก้ไข"))
    assert [x.field for x in exc.value.problems] == ["corrections"]
    services.resolve(
        actor=cast.ploy, item=item, data=resolution("uphold_appeal", "แก้บ้านเลขที่", corrections={"house_no": "12/4"})
    )
    village["somsri"].refresh_from_db()
    assert village["somsri"].house_no == "12/4"
    audit = AuditEvent.objects.get(action="household.update", object_ref=village["somsri"].code)
    assert audit.changes["house_no"] == ["12", "12/4"] and audit.actor == cast.ploy
    a.refresh_from_db()
    assert a.status == AppealStatus.UPHELD and a.corrections == {"house_no": "12/4"}
    assert standing.status_of(village["somsri"]) == Standing.LISTED  # still on the list


def test_a_secretary_who_may_not_edit_the_registry_cannot_correct_it_and_nothing_is_written(cast, village):
    p = post(cast)
    a = lodge(p, "wrong_data", entry_number=entry_of(p, village["somsri"]).number)
    item = _appeal_item(cast, a)
    secretary = make_secretary(cast)
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(
            actor=secretary, item=item, data=resolution("uphold_appeal", "แก้ไข", corrections={"house_no": "12/4"})
        )
    assert [x.field for x in exc.value.problems] == ["corrections"]
    village["somsri"].refresh_from_db()
    item.refresh_from_db()
    a.refresh_from_db()
    assert village["somsri"].house_no == "12" and item.status == ItemStatus.OPEN and a.status == AppealStatus.OPEN
    assert not Resolution.objects.exists()


def test_rejecting_leaves_the_list_as_it_was(cast, village):
    p = post(cast)
    a = lodge(p, "wrongly_included", entry_number=entry_of(p, village["somsri"]).number)
    item = _appeal_item(cast, a)
    events = StandingEvent.objects.count()
    services.resolve(actor=cast.ploy, item=item, data=resolution("reject_appeal", "ยกคำร้อง ยากจนจริง"))
    assert standing.status_of(village["somsri"]) == Standing.LISTED
    assert StandingEvent.objects.count() == events
    a.refresh_from_db()
    assert (a.status, a.decision) == (AppealStatus.REJECTED, "ยกคำร้อง ยากจนจริง")


def test_finalise_waits_for_the_close_and_the_appeals_then_confirms_the_list(cast, village):
    p = post(cast)
    a = lodge(p, "wrongly_included", entry_number=entry_of(p, village["somsri"]).number)
    b = lodge(p, "wrong_data", entry_number=entry_of(p, village["boonmee"]).number)
    with pytest.raises(ValidationInvalid) as exc:
        validation.posting_finalise(actor=cast.ploy, posting=p, today=CLOSES)
    assert {x.field for x in exc.value.problems} == {"posting", "appeals"}
    with pytest.raises(ValidationInvalid) as exc:
        validation.posting_finalise(actor=cast.ploy, posting=p, today=CLOSES + dt.timedelta(days=1))
    [problem] = exc.value.problems
    assert problem.field == "appeals" and a.ref in problem.th and b.ref in problem.en
    assert not StandingEvent.objects.filter(to_status=Standing.CONFIRMED).exists()
    f_item = _appeal_item(cast, a)
    services.resolve(actor=cast.ploy, item=f_item, data=resolution("uphold_appeal", "ไม่ยากจน"))
    b_item = AgendaItem.objects.get(appeal=b)
    services.resolve(actor=cast.ploy, item=b_item, data=resolution("reject_appeal", "ข้อมูลถูกต้องแล้ว"))
    with pytest.raises(PermissionDenied):
        validation.posting_finalise(actor=cast.somchai, posting=p, today=HELD_ON + dt.timedelta(days=1))
    n = validation.posting_finalise(actor=cast.ploy, posting=p, today=HELD_ON + dt.timedelta(days=1))
    assert n == 1
    assert standing.status_of(village["boonmee"]) == Standing.CONFIRMED
    assert standing.status_of(village["somsri"]) == Standing.NOT_POOR  # taken off by the appeal
    assert standing.status_of(village["rich"]) == Standing.NOT_POOR and standing.status_of(village["never"]) is None
    p.refresh_from_db()
    assert p.status == PostingStatus.FINAL and p.finalised_at is not None
    with pytest.raises(ValidationInvalid):
        validation.posting_finalise(actor=cast.ploy, posting=p, today=HELD_ON + dt.timedelta(days=2))


def test_upholding_an_appeal_that_names_no_registry_household_asks_for_it(cast, village):
    a = validation.appeal_lodge(
        posting=None, area_code="46010101", category="wrongly_included", about="นางสมศรี ใจดี บ้านเลขที่ 12",
        description="ครอบครัวนี้มีรายได้ประจำจากการค้าขาย", via="paper", actor=cast.ploy, today=OPENS,
    )  # fmt: skip
    item = _appeal_item(cast, a)
    with pytest.raises(ForumInvalid) as exc:
        services.resolve(actor=cast.ploy, item=item, data=resolution("uphold_appeal", "รับคำร้อง"))
    assert [x.field for x in exc.value.problems] == ["household"]
    a.refresh_from_db()
    assert a.status == AppealStatus.OPEN
