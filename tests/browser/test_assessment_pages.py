"""Assessment in a real browser: a local officer records a desk assessment on a phone and
sees the household's pentagon, level and needs; the province admin sees the area page."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, Demo
from tests.browser.test_household_pages import PHONE, _fits_width, _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = ROOT / "docs" / "img" / "assessment-area.png"


def _household(demo: Demo) -> str:
    from khm.registry.models import Household, Relation

    for h in Household.objects.filter(area_code__in=demo.local_villages).order_by("code"):
        if h.people.filter(relation=Relation.HEAD).exists():
            return str(h.code)
    raise AssertionError("no household with a head in the demo data")


def test_officer_records_an_assessment_on_a_phone_and_the_admin_sees_the_area(demo: Demo, live_server, page_factory):
    code = _household(demo)
    base = live_server.url
    page = page_factory(**PHONE)
    page.goto(f"{base}/households/{code}/")
    _log_in(page, "local", demo.password)
    page.wait_for_url(f"{base}/households/{code}/")
    expect(page.locator("#assessment")).to_contain_text("ยังไม่ได้รับการประเมิน")
    page.get_by_role("link", name="บันทึกการประเมิน").click()
    page.wait_for_url(f"{base}/assessment/households/{code}/new/")
    assert _fits_width(page), "the assessment form scrolls sideways on a phone"
    # A household with no fixed home, a dilapidated house and no electricity.
    page.locator("select[name=cap__p_tenure]").select_option("none")
    page.locator("select[name=cap__p_house_condition]").select_option("poor")
    page.locator("select[name=cap__p_electricity]").select_option("none")
    page.locator("select[name=cap__p_water]").select_option("partly")
    page.locator("select[name=cap__h_education]").select_option("primary")
    page.locator("select[name=cap__h_health]").select_option("chronic")
    page.locator("select[name=cap__f_savings]").select_option("none")
    page.locator("select[name=cap__n_land]").select_option("borrowed")
    page.locator("select[name=cap__h_literacy]").select_option("some")
    page.locator("select[name=cap__h_work]").select_option("some")
    page.locator("select[name=cap__n_farm_water]").select_option("rain")
    page.locator("select[name=cap__n_food]").select_option("some")
    page.locator("select[name=cap__s_activities]").select_option("sometimes")
    page.locator("select[name=cap__s_mutual_help]").select_option("yes")
    page.locator("select[name=bmn__bmn08]").select_option("fail")
    page.locator("input[name=inc__main]").fill("20000")
    page.get_by_role("button", name="บันทึกและคำนวณคะแนน").click()
    page.wait_for_url(f"{base}/households/{code}/#assessment")
    panel = page.locator("#assessment")
    expect(panel.locator("svg").first).to_be_visible()  # the pentagon
    # Physical capital 1.19 (level 1); the mean of the five capitals is about 1.96 → level 2.
    expect(panel.locator(".level-badge")).to_have_text("อยู่ยาก")
    expect(panel).to_contain_text("ซ่อมแซมที่อยู่อาศัย")  # need from BMN 8 and the house condition
    expect(panel).to_contain_text("ไฟฟ้าในบ้าน")
    assert _fits_width(page), "the household page with its pentagon scrolls sideways on a phone"

    desk = page_factory(width=1280, height=900)
    desk.goto(f"{base}/assessment/")
    _log_in(desk, "admin", demo.password)
    desk.wait_for_url(f"{base}/assessment/areas/46/")
    expect(desk.locator("h1")).to_contain_text("กาฬสินธุ์")
    expect(desk.locator(".khm-chart-stack").first).to_contain_text("อยู่ยาก 1 (100.0%)")
    expect(desk.locator("dl.kpis")).to_contain_text("1")
    desk.locator("table.list a", has_text="เมืองกาฬสินธุ์").click()
    expect(desk.locator("h1")).to_contain_text("เมืองกาฬสินธุ์")
    if os.environ.get("KHM_SCREENSHOT"):
        desk.goto(f"{base}/assessment/areas/46/")
        desk.wait_for_load_state("networkidle")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        desk.screenshot(path=SCREENSHOT, full_page=True, animations="disabled")
