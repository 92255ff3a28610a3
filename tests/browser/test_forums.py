"""Poverty forums in a real browser: a local officer creates the village forum on a phone, finds
the household that waits for verification on the agenda, records the forum's resolution to
confirm it as poor (with who signed), sees the household's standing change, and downloads the
minutes as a PDF whose text carries the resolution. Then anyone, without logging in, opens the
posted list from the notice board on a phone and lodges an appeal."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.test_assessment_pages import _household
from tests.browser.test_household_pages import DESKTOP, PHONE, _fits_width, _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "forum-agenda.png"
RESOLUTION = "ที่ประชุมรับรองว่าเป็นครัวเรือนยากจน ให้คงอยู่ในบัญชีรายชื่อ"


def _listed(code: str) -> None:
    from khm.forums.models import Standing
    from khm.forums.standing import standing_set
    from khm.registry.models import Household

    household = Household.objects.get(code=code)
    standing_set(actor=None, household=household, to=Standing.LISTED, on=dt.date.today(), reason="รายชื่อ TPMAP")


def _be(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year + 543}"


def test_a_village_forum_confirms_a_household_and_prints_the_minutes(demo: Demo, live_server, page_factory):
    from pypdf import PdfReader

    from khm.core.pdf import pdf_text_normalised
    from khm.registry.models import Household

    code = _household(demo)
    _listed(code)
    village = Household.objects.get(code=code).area_code
    base = live_server.url
    page = page_factory(**PHONE)
    page.goto(f"{base}/accounts/login/?next=/forums/new/")
    _log_in(page, "local", demo.password)

    page.select_option("select[name=area]", village)
    page.fill("input[name=title]", "เวทีแก้จนระดับหมู่บ้าน")
    page.fill("input[name=held_on]", _be(dt.date.today()))
    page.fill("input[name=place]", "ศาลาประชาคมหมู่บ้าน")
    page.fill("input[name=chair_name]", "นายบุญส่ง แก้วมณี")
    page.fill("textarea[name=attendees]", "นายบุญส่ง แก้วมณี | ผู้ใหญ่บ้าน\nนางมาลี ศรีงาม | อสม. | | ลาป่วย")
    page.locator("form button.primary").click()

    item = page.locator("table[data-kind=unverified] tr[data-item]", has_text=code)
    expect(item).to_have_count(1)
    assert _fits_width(page)
    item.locator("a").click()

    page.check("input[name=kind][value=confirm_poor]")
    page.fill("textarea[name=text]", RESOLUTION)
    page.fill("textarea[name=signatures]", "นายบุญส่ง แก้วมณี | ประธานเวที")
    page.locator("#resolution-form button.primary").click()
    expect(page.locator("#resolution")).to_contain_text(RESOLUTION)
    expect(page.locator("#effects")).to_contain_text(code)
    expect(page.locator("#item-status")).not_to_have_text("")
    assert _fits_width(page)

    page.goto(f"{base}/households/{code}/")
    expect(page.locator("#standing-status")).to_have_attribute("data-status", "confirmed")

    desk = page_factory(**DESKTOP)
    desk.goto(f"{base}/accounts/login/?next=/forums/")
    _log_in(desk, "local", demo.password)
    desk.locator("tr[data-forum] a").first.click()
    expect(desk.locator("table[data-kind=unverified] tr[data-status=decided]")).to_have_count(1)
    if os.environ.get("KHM_SCREENSHOT"):
        desk.screenshot(path=SCREENSHOT, full_page=True, animations="disabled")
    with desk.expect_download() as download:
        desk.locator("#minutes-pdf").click()
    pdf = Path(download.value.path()).read_bytes()
    text = pdf_text_normalised("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "รายงานการประชุมเวทีแก้จนระดับหมู่บ้าน" in text
    assert "มติที่ประชุม" in text and pdf_text_normalised(RESOLUTION) in text
    assert "นายบุญส่ง แก้วมณี" in text and "ร่าง" in text  # not closed yet: a draft


def test_anyone_appeals_against_the_posted_list_from_a_phone(demo: Demo, live_server, page_factory):
    from khm.accounts.models import User
    from khm.forums.models import Appeal
    from khm.forums.validation import posting_create
    from khm.registry.models import Household, Relation

    code = _household(demo)
    _listed(code)
    household = Household.objects.get(code=code)
    head = household.people.get(relation=Relation.HEAD)
    posting = posting_create(
        actor=User.objects.get(username="local"), village_code=household.area_code, round="2568",
        opens_on=dt.date.today(), days=15,
    )  # fmt: skip
    entry = posting.entries.get(household=household)

    page = page_factory(**PHONE)
    page.goto(f"{live_server.url}/notice/{posting.token}/")
    listed = page.locator("#posted")
    expect(listed).to_contain_text(head.first_name)
    assert head.last_name not in listed.inner_text() and code not in page.content()
    assert _fits_width(page)

    page.check("input[name=category][value=wrongly_included]")
    page.fill("input[name=entry_number]", str(entry.number))
    page.fill("textarea[name=description]", "ครอบครัวนี้มีรถกระบะสองคันและนาหลายไร่")
    page.locator("#appeal-form button.primary").click()
    expect(page.locator("#appeal-done")).to_be_visible()
    appeal = Appeal.objects.get(posting=posting)
    assert appeal.household == household and appeal.category == "wrongly_included"
    assert appeal.due_on == posting.closes_on + dt.timedelta(days=posting.appeal_days)
