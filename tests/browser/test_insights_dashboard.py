"""The dashboard in a real browser: the district officer opens the dashboard of Mueang Kalasin
on a desktop, reads the headline figures (from the pre-aggregated tables), filters to female
heads of household, drills down to a subdistrict and downloads the table; a local officer's
dashboard fits a phone and shows only her villages.

``KHM_SCREENSHOT=1`` saves docs/img/insights-dashboard.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.test_household_pages import DESKTOP, PHONE, _fits_width, _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "insights-dashboard.png"


def _figures() -> int:
    from khm.demo.assessments import seed_assessments
    from khm.insights.refresh import refresh
    from khm.insights.selectors import View, figures

    seed_assessments(seed=4601, share=0.8)
    refresh(full=True)
    return int(figures(View("4601", True), "2568")["households"])


def test_the_district_officer_reads_filters_and_drills_down(demo: Demo, live_server, page_factory):
    households = _figures()
    page = page_factory(**DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/?next=/insights/")
    _log_in(page, "district", demo.password)
    expect(page.locator("h1")).to_contain_text("เมืองกาฬสินธุ์")
    expect(page.locator('[data-figure="households"]').first).to_contain_text(f"{households:,}")
    expect(page.locator("#freshness")).to_be_visible()
    rows = page.locator("#children tbody tr")
    assert rows.count() >= 2  # the subdistricts of 4601 that have data, and the total
    if os.environ.get("KHM_SCREENSHOT"):
        page.screenshot(path=SCREENSHOT, full_page=True, animations="disabled")
    page.select_option("select[name=dim]", "sex:F")
    page.locator("form.filters button").click()
    expect(page.locator("#filter-note")).to_be_visible()
    page.locator("#children tbody tr a").first.click()
    expect(page.locator("nav.crumbs")).to_contain_text("เมืองกาฬสินธุ์")
    with page.expect_download() as download:
        page.locator("a.button", has_text="CSV").click()
    assert Path(download.value.path()).read_bytes().decode("utf-8-sig").count("\n") >= 3


def test_a_local_officer_sees_her_villages_on_a_phone(demo: Demo, live_server, page_factory):
    _figures()
    page = page_factory(**PHONE)
    page.goto(f"{live_server.url}/accounts/login/?next=/insights/")
    _log_in(page, "local", demo.password)
    expect(page.locator("#partial")).to_be_visible()
    assert _fits_width(page)
    body = page.content()
    assert "กุฉินารายณ์" not in body  # local2's district (Kuchinarai) is nowhere on her page
