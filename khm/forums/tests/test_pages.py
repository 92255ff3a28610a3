"""The forum pages as people use them (Django test client): Ploy creates a forum and records a
resolution through the forms; who sees which forum and which items; the household panel;
agreements and the network; the graduation page; form errors in Thai and English."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from khm.assessment.tests.test_assessment import data_for
from khm.forums import agreements, graduation, services, standing
from khm.forums.models import AgendaItem, Forum, ItemKind, ItemStatus, Resolution, Standing
from khm.forums.tests.conftest import HELD_ON, ROUND, household_in, items_of, put_on_source_list, resolution
from khm.referrals.models import Referral, State

pytestmark = pytest.mark.django_db


def login(user: Any, lang: str = "en") -> Client:
    c = Client()
    c.force_login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return c


def html(r: Any) -> str:
    return r.content.decode()


def assess(cast: Any, household: Any, round: str, **kw: Any) -> None:
    from khm.assessment import services as assessment

    assessment.assessment_record(
        actor=cast.ploy, household=household, round=round, assessed_on=dt.date(2025, 6, 1),
        data=data_for(household, **kw),
    )  # fmt: skip


def village_forum(cast: Any, build: bool = True) -> Forum:
    f = services.forum_create(
        actor=cast.ploy,
        data=services.ForumInput(area_code="46010101", round=ROUND, title="เวทีแก้จนบ้านหนองบัว", held_on=HELD_ON,
                                 place="ศาลากลางบ้านหนองบัว"),
    )  # fmt: skip
    if build:
        services.agenda_build(actor=cast.ploy, forum=f)
    return f


FORM = {
    "area": "46010101",
    "round": ROUND,
    "title": "เวทีแก้จนบ้านหนองบัว ครั้งที่ 1",
    "held_on": "1/12/2568",
    "starts_at": "09:00",
    "ends_at": "12:00",
    "place": "ศาลากลางบ้านหนองบัว",
    "chair_name": "นายสมศักดิ์ ใจดี",
    "chair_position": "นายก อบต.",
    "recorder_name": "นางสาวจำเนียร คำมูล",
    "recorder_position": "ปลัด อบต.",
    "opening": "",
    "attendees": "นายสมศักดิ์ ใจดี | นายก อบต. | อบต.เอ\nนายมานะ ขยัน | ผู้ใหญ่บ้าน | หมู่ 1 | ลาป่วย",
}


# --------------------------------------------------------------------------- Ploy's forum


def test_ploy_creates_a_forum_through_the_form_and_sees_its_agenda(cast):
    put_on_source_list(cast.household)
    c = login(cast.ploy)
    assert c.get("/forums/new/").status_code == 200
    r = c.post("/forums/new/", {**FORM, "organisations": [str(cast.orgs["lga"].pk), str(cast.orgs["agency"].pk)]})
    assert r.status_code == 302
    f = Forum.objects.get()
    assert r["Location"] == f"/forums/{f.ref}/"
    assert (f.area_code, f.round, f.held_on, f.place, f.created_by) == (
        "46010101", ROUND, HELD_ON, "ศาลากลางบ้านหนองบัว", cast.ploy,
    )  # fmt: skip
    assert f.starts_at == dt.time(9, 0) and f.level == 4 and (f.number, f.year_be) == (1, 2568)
    assert set(f.organisations.all()) == {cast.orgs["lga"], cast.orgs["agency"]}
    attendees = list(f.attendees.all())
    assert [(a.name, a.present) for a in attendees] == [("นายสมศักดิ์ ใจดี", True), ("นายมานะ ขยัน", False)]
    assert attendees[1].note == "ลาป่วย"
    # The agenda was built at once from what waits in the village.
    [item] = items_of(f)
    assert item.kind == ItemKind.UNVERIFIED and item.household == cast.household
    page = html(c.get(f"/forums/{f.ref}/"))
    assert f.title in page and "ศาลากลางบ้านหนองบัว" in page and "อบต.เอ" in page
    assert 'data-kind="unverified"' in page and f"/forums/{f.ref}/items/1/" in page and "99/1" in page
    assert "นายมานะ ขยัน" in page


def test_ploy_records_a_resolution_through_the_item_page(cast):
    put_on_source_list(cast.household)
    f = village_forum(cast)
    c = login(cast.ploy)
    page = html(c.get(f"/forums/{f.ref}/items/1/"))
    assert 'id="resolution-form"' in page and 'value="confirm_poor"' in page
    assert 'value="approve_graduation"' not in page  # only what fits an unverified item
    r = c.post(
        f"/forums/{f.ref}/items/1/",
        {"kind": "confirm_poor", "text": "รับรองว่าเป็นครัวเรือนยากจน", "decided_on": "1/12/2568",
         "signatures": "นายสมศักดิ์ ใจดี | ประธาน\nนางสาวจำเนียร คำมูล | เลขานุการ"},
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == f"/forums/{f.ref}/items/1/"
    assert standing.status_of(cast.household) == Standing.CONFIRMED
    res = Resolution.objects.get()
    assert res.recorded_by == cast.ploy and res.decided_on == HELD_ON
    assert res.signatures == [
        {"name": "นายสมศักดิ์ ใจดี", "role": "ประธาน"}, {"name": "นางสาวจำเนียร คำมูล", "role": "เลขานุการ"},
    ]  # fmt: skip
    after = html(c.get(f"/forums/{f.ref}/items/1/"))
    assert 'id="resolution"' in after and "รับรองว่าเป็นครัวเรือนยากจน" in after and 'id="resolution-form"' not in after
    assert "นางสาวจำเนียร คำมูล" in after
    # Posting again to a decided item changes nothing.
    c.post(f"/forums/{f.ref}/items/1/", {"kind": "not_poor", "text": "ไม่ยากจน", "decided_on": "1/12/2568"})
    assert Resolution.objects.count() == 1 and standing.status_of(cast.household) == Standing.CONFIRMED


def test_a_help_plan_through_the_form_refers_with_the_plans_date(cast, world):
    f = village_forum(cast, build=False)
    item = services.agenda_add(actor=cast.ploy, forum=f, title="บ้านทรุดโทรม", household=cast.household)
    c = login(cast.ploy)
    r = c.post(
        f"/forums/{f.ref}/items/{item.number}/",
        {"kind": "help_plan", "text": "แผนช่วยเหลือ", "decided_on": "1/12/2568", "need": "housing_repair",
         "tasks": "ซ่อมหลังคา | ppho | 15/1/2569 | housing_repair\nเยี่ยมบ้าน | ผู้ใหญ่บ้าน | 20/12/2568"},
    )  # fmt: skip
    assert r.status_code == 302, html(r)
    referral = Referral.objects.get()
    assert referral.agency == world.other.agency and referral.due_on == dt.date(2026, 1, 15)
    assert referral.state == State.SENT and referral.source == f"forum:{f.ref}"
    tasks = list(Resolution.objects.get().tasks.order_by("due_on"))
    assert [(t.task, t.responsible, t.due_on) for t in tasks] == [
        ("เยี่ยมบ้าน", "ผู้ใหญ่บ้าน", dt.date(2025, 12, 20)), ("ซ่อมหลังคา", "", dt.date(2026, 1, 15)),
    ]  # fmt: skip


def test_form_errors_are_shown_in_thai_and_english(cast, world):
    c = login(cast.ploy, lang="th")
    r = c.post("/forums/new/", {**FORM, "round": "68"})
    assert r.status_code == 200 and not Forum.objects.exists()
    assert "รอบสำรวจต้องเป็นปี พ.ศ. 4 หลัก / the round is a 4-digit Buddhist-Era year" in html(r)
    f = village_forum(cast, build=False)
    item = services.agenda_add(actor=cast.ploy, forum=f, title="บ้านทรุดโทรม", household=cast.household)
    r = c.post(
        f"/forums/{f.ref}/items/{item.number}/",
        {"kind": "help_plan", "text": "แผน", "decided_on": "1/12/2568", "need": "housing_repair",
         "tasks": "ซ่อมหลังคา | ppho | 1/11/2568"},
    )  # fmt: skip
    assert r.status_code == 200
    assert "วันกำหนดเสร็จต้องไม่ก่อนวันประชุม / the due date cannot be before the meeting" in html(r)
    assert not Resolution.objects.exists() and not Referral.objects.exists()


def test_ploy_downloads_nothing_she_may_not(cast):
    mine = village_forum(cast)
    district = services.forum_create(
        actor=cast.dara,
        data=services.ForumInput(area_code="4601", round=ROUND, title="เวทีอำเภอ", held_on=HELD_ON, place="อำเภอ"),
    )
    theirs = services.forum_create(
        actor=cast.somchai,
        data=services.ForumInput(area_code="46050101", round=ROUND, title="เวทีบัวขาว", held_on=HELD_ON, place="วัด"),
    )
    c = login(cast.ploy)
    assert c.get(f"/forums/{district.ref}/").status_code == 200  # she may be invited: the meeting is visible
    assert c.get(f"/forums/{district.ref}/minutes.pdf").status_code == 403
    assert c.get(f"/forums/{district.ref}/minutes.docx").status_code == 403
    assert c.get(f"/forums/{theirs.ref}/minutes.pdf").status_code == 404
    assert c.post(f"/forums/{district.ref}/close/").status_code == 403
    assert c.post(f"/forums/{district.ref}/build/").status_code == 403
    docx = c.get(f"/forums/{mine.ref}/minutes.docx")
    assert docx.status_code == 200 and docx["Content-Disposition"].startswith("attachment")


# --------------------------------------------------------------------------- who sees what


def test_somchai_gets_404_for_ploys_forum_and_items_and_does_not_see_it_listed(cast):
    put_on_source_list(cast.household)
    f = village_forum(cast)
    c = login(cast.somchai)
    assert c.get(f"/forums/{f.ref}/").status_code == 404
    assert c.get(f"/forums/{f.ref}/items/1/").status_code == 404
    r = c.post(f"/forums/{f.ref}/items/1/", {"kind": "not_poor", "text": "ไม่ยากจน", "decided_on": "1/12/2568"})
    assert r.status_code == 404 and not Resolution.objects.exists()
    listing = c.get("/forums/")
    assert listing.status_code == 200 and f.ref not in html(listing) and f.title not in html(listing)
    assert c.get(f"/forums/{f.ref}/minutes.pdf").status_code == 404


def test_dara_sees_ploys_village_forum(cast):
    put_on_source_list(cast.household)
    f = village_forum(cast)
    c = login(cast.dara)
    assert f.ref in html(c.get("/forums/"))
    page = c.get(f"/forums/{f.ref}/")
    assert page.status_code == 200 and "99/1" in html(page)
    assert c.get(f"/forums/{f.ref}/items/1/").status_code == 200


def test_a_district_forum_shows_ploy_only_the_items_of_her_villages(cast):
    put_on_source_list(cast.household)
    dong = household_in(cast, "46010201", "3", first="ดวงใจ", last="ดงเมือง", actor=cast.dara)
    put_on_source_list(dong)
    mine = village_forum(cast)
    services.resolve(actor=cast.ploy, item=items_of(mine)[0], data=resolution("escalate", "เสนอเวทีอำเภอ"))
    other = services.forum_create(
        actor=cast.dara,
        data=services.ForumInput(area_code="46010201", round=ROUND, title="เวทีดงเมือง", held_on=HELD_ON, place="วัด"),
    )
    services.agenda_build(actor=cast.dara, forum=other)
    services.resolve(actor=cast.dara, item=items_of(other)[0], data=resolution("escalate", "เสนอเวทีอำเภอ"))
    district = services.forum_create(
        actor=cast.dara,
        data=services.ForumInput(area_code="4601", round=ROUND, title="เวทีอำเภอเมือง", held_on=HELD_ON + dt.timedelta(days=14),
                                 place="ที่ว่าการอำเภอ"),
    )  # fmt: skip
    services.agenda_build(actor=cast.dara, forum=district)
    services.agenda_add(actor=cast.dara, forum=district, title="สรุปผลการดำเนินงานของอำเภอ")
    assert len(items_of(district)) == 3
    c = login(cast.ploy)
    page = html(c.get(f"/forums/{district.ref}/"))
    assert "99/1" in page and "ดงเมือง" not in page and "สรุปผลการดำเนินงานของอำเภอ" not in page
    assert "2 items about areas outside yours are not shown" in page
    numbers = {i.household: i.number for i in items_of(district) if i.household}
    assert c.get(f"/forums/{district.ref}/items/{numbers[cast.household]}/").status_code == 200
    assert c.get(f"/forums/{district.ref}/items/{numbers[dong]}/").status_code == 404
    # Dara sees all three and nothing is hidden from her.
    dpage = html(login(cast.dara).get(f"/forums/{district.ref}/"))
    assert "ดงเมือง" in dpage and "สรุปผลการดำเนินงานของอำเภอ" in dpage and "not shown" not in dpage


# --------------------------------------------------------------------------- the household page


def test_the_household_page_shows_the_poor_list_panel_with_the_standing(cast):
    put_on_source_list(cast.household)
    c = login(cast.ploy)
    page = html(c.get(f"/households/{cast.household.code}/"))
    assert "Poor list and graduation" in page and 'data-status="listed"' in page
    f = village_forum(cast)
    services.resolve(actor=cast.ploy, item=items_of(f)[0], data=resolution("confirm_poor", "รับรองว่ายากจน"))
    page = html(c.get(f"/households/{cast.household.code}/"))
    assert 'data-status="confirmed"' in page and 'id="standing-events"' in page
    assert f"/forums/{f.ref}/items/1/" in page and "รับรองว่ายากจน" in page
    assert 'id="graduation-checks"' in page  # how it fares against the criteria
    # A volunteer of the village sees it too; Somchai gets no page at all.
    assert 'data-status="confirmed"' in html(login(cast.vee).get(f"/households/{cast.household.code}/"))
    assert login(cast.somchai).get(f"/households/{cast.household.code}/").status_code == 404


def test_a_household_on_no_list_says_so(cast):
    page = html(login(cast.ploy).get(f"/households/{cast.household.code}/"))
    assert "Poor list and graduation" in page and 'data-status=""' in page and "Not on the poor list" in page


# --------------------------------------------------------------------------- agreements and graduation


def test_the_agreements_page_lists_an_agreement_and_counts_the_network(cast):
    a = agreements.agreement_create(
        actor=cast.admin, title="บันทึกข้อตกลงความร่วมมือแก้จนกาฬสินธุ์", parties=[cast.orgs["province"], cast.orgs["lga"]],
        scope="ร่วมกันแก้ปัญหาความยากจนในพื้นที่", areas=["4601"], signed_on=dt.date(2025, 5, 1),
        starts_on=dt.date(2025, 5, 1), ends_on=dt.date(2027, 4, 30),
    )  # fmt: skip
    f = village_forum(cast, build=False)
    f.organisations.set([cast.orgs["lga"], cast.orgs["agency"]])
    page = html(login(cast.ploy).get("/forums/agreements/"))
    assert f'data-agreement="{a.ref}"' in page and "บันทึกข้อตกลงความร่วมมือแก้จนกาฬสินธุ์" in page
    assert "ศูนย์จังหวัด; อบต.เอ" in page or "อบต.เอ; ศูนย์จังหวัด" in page

    def row(name: str) -> tuple[int, int]:
        m = re.search(rf">{re.escape(name)}</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", page)
        assert m, name
        return int(m[1]), int(m[2])

    assert row("อบต.เอ") == (1, 1)
    assert row("ศูนย์จังหวัด") == (1, 0)
    assert row("พมจ.") == (0, 1)


def test_an_agreement_is_created_through_its_form(cast):
    c = login(cast.dara)
    r = c.post(
        "/forums/agreements/new/",
        {"title": "MOU อำเภอเมือง", "parties": [str(cast.orgs["d4601"].pk), str(cast.orgs["lga"].pk)],
         "scope": "ซ่อมบ้านผู้ยากไร้", "areas": "4601", "signed_on": "1/5/2568", "starts_on": "1/5/2568"},
    )  # fmt: skip
    assert r.status_code == 302
    a = agreements.Agreement.objects.get()
    assert set(a.parties.all()) == {cast.orgs["d4601"], cast.orgs["lga"]} and a.areas == ["4601"]
    # An area outside hers is refused.
    r = c.post(
        "/forums/agreements/new/",
        {"title": "MOU กุฉินารายณ์", "parties": [str(cast.orgs["d4601"].pk), str(cast.orgs["lgb"].pk)],
         "scope": "ซ่อมบ้าน", "areas": "4605", "signed_on": "1/5/2568", "starts_on": "1/5/2568"},
    )  # fmt: skip
    assert r.status_code == 403 and agreements.Agreement.objects.count() == 1


def _candidate(cast: Any) -> None:
    put_on_source_list(cast.household)
    assess(cast, cast.household, "2567")
    assess(cast, cast.household, "2568")


def test_the_graduation_page_lists_a_candidate_under_the_shipped_criteria(cast):
    _candidate(cast)
    page = html(login(cast.ploy).get("/forums/graduation/", {"area": "46010101"}))
    assert f'data-household="{cast.household.code}"' in page


def test_the_graduation_page_lists_a_candidate_of_the_area_only_to_those_who_see_it(cast):
    d = copy.deepcopy(graduation.criteria_current().definition)
    next(c for c in d["criteria"] if c["id"] == "income")["enabled"] = False
    graduation.criteria_save_version(actor=cast.admin, definition=d, note="ไม่ใช้รายได้")
    _candidate(cast)
    page = html(login(cast.ploy).get("/forums/graduation/", {"area": "46010101"}))
    assert f'data-household="{cast.household.code}"' in page and 'id="candidate-count">(1)' in page
    assert "level 3 in 2567 and level 3 in 2568" in page and "(version 2)" in page
    other = html(login(cast.somchai).get("/forums/graduation/", {"area": "46010101"}))
    assert cast.household.code not in other and 'id="candidate-count">(0)' in other
    # Once graduated it moves to the graduated table.
    f = village_forum(cast)
    [item] = items_of(f, ItemKind.GRADUATION)
    services.resolve(actor=cast.ploy, item=item, data=resolution("approve_graduation", "อนุมัติ"))
    page = html(login(cast.ploy).get("/forums/graduation/", {"area": "46010101"}))
    assert 'id="candidate-count">(0)' in page
    assert re.search(rf'id="graduated".*data-household="{cast.household.code}"', page, re.S)
    assert AgendaItem.objects.get(pk=item.pk).status == ItemStatus.DECIDED


def test_ploy_sees_the_matters_of_her_own_subdistrict_forum(cast):
    f = services.forum_create(
        actor=cast.ploy,
        data=services.ForumInput(area_code="460101", round=ROUND, title="เวทีตำบล", held_on=HELD_ON, place="อบต."),
    )
    item = services.agenda_add(actor=cast.ploy, forum=f, title="เรื่องแจ้งเพื่อทราบของตำบล")
    c = login(cast.ploy)
    page = html(c.get(f"/forums/{f.ref}/"))
    assert "เรื่องแจ้งเพื่อทราบของตำบล" in page and "not shown" not in page
    assert c.get(f"/forums/{f.ref}/items/{item.number}/").status_code == 200
