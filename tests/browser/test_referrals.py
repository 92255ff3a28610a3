"""Referrals in a real browser: a local officer refers a household's housing need from the
household page to the provincial social development office; the agency's worker finds it
in the inbox, accepts it, starts the work and completes it; the officer sees it completed on
the household page. The agency records the help it gave; the officer sees it on the household
page and in the area's totals."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.test_assessment_pages import _household
from tests.browser.test_household_pages import DESKTOP, PHONE, _fits_width, _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEED = "housing_repair"


def _set_up(demo: Demo) -> tuple[str, Any, Any]:
    """The agency of ``agency-pso`` with a housing-repair service, and an assessment of a
    household of ``local`` that finds the housing need. Returns (household code, agency, service)."""
    from khm.accounts.models import Organisation, User
    from khm.assessment.services import assessment_record, roster
    from khm.referrals.models import Agency, Service
    from khm.registry.models import Household

    org = Organisation.objects.get(code="agency-pso")
    agency = Agency.objects.filter(organisation=org).first() or Agency.objects.create(
        code="pso-test", name_th=org.name_th, name_en=org.name_en, type="social_development",
        organisation=org, areas=["46"],
    )  # fmt: skip
    agency.areas, agency.active = ["46"], True
    agency.save()
    service = Service.objects.create(
        agency=agency, code="house-repair-test", name_th="ซ่อมบ้านผู้ยากไร้ (ทดสอบ)", needs=[NEED], due_days=14
    )
    code = _household(demo)
    household = Household.objects.get(code=code)
    today = dt.date.today()
    assessment_record(
        actor=User.objects.get(username="local"),
        household=household,
        round="2568",
        assessed_on=today,
        data={
            "members": roster(household, today),
            "capitals": {"p_tenure": "none", "p_house_condition": "poor"},
            "bmn": {"household": {"bmn08": "fail"}, "persons": {}},
        },
    )
    return code, agency, service


def test_officer_refers_a_need_and_the_agency_completes_it(demo: Demo, live_server, page_factory):
    from khm.referrals.models import Assistance, Referral

    code, agency, service = _set_up(demo)
    base = live_server.url

    # The local officer refers the housing need from the household page (on a phone).
    officer = page_factory(**PHONE)
    officer.goto(f"{base}/households/{code}/")
    _log_in(officer, "local", demo.password)
    officer.wait_for_url(f"{base}/households/{code}/")
    panel = officer.locator("#referrals")
    expect(panel.locator(f"[data-need={NEED}]")).to_be_visible()
    panel.locator(f"a[data-refer={NEED}]").click()
    officer.wait_for_url(re.compile(rf"/referrals/households/{code}/new/\?need={NEED}$"))
    expect(officer.locator("select[name=need]")).to_have_value(NEED)
    with officer.expect_response(lambda r: r.request.method == "POST" and "/new/" in r.url):
        officer.locator("select[name=agency]").select_option(agency.code)
    # The agency's services are listed (one meeting the need is chosen); pick ours.
    expect(officer.locator(f"select[name=service] option[value={service.code}]")).to_have_count(1)
    officer.locator("select[name=service]").select_option(service.code)
    assert _fits_width(officer), "the referral form scrolls sideways on a phone"
    officer.locator("textarea[name=note]").fill("หลังคารั่ว ฝนตกน้ำเข้าบ้าน")
    officer.locator("button[name=action][value=send]").click()
    officer.wait_for_url(re.compile(r"/referrals/R[0-9A-Z]+/$"))
    ref = officer.url.rstrip("/").rsplit("/", 1)[-1]
    expect(officer.locator("#state")).to_have_attribute("data-state", "sent")
    referral = Referral.objects.get(ref=ref)
    assert referral.household.code == code and referral.agency == agency and referral.service == service
    assert referral.need == NEED and referral.due_on == dt.date.today() + dt.timedelta(days=14)

    # The agency worker finds it in the inbox and works it through (at a desk).
    worker = page_factory(**DESKTOP)
    worker.goto(f"{base}/referrals/inbox/")
    _log_in(worker, "agency", demo.password)
    worker.wait_for_url(f"{base}/referrals/inbox/")
    row = worker.locator(f"tr[data-ref={ref}]")
    expect(row).to_have_attribute("data-state", "sent")
    row.get_by_role("link", name=ref).click()
    worker.wait_for_url(f"{base}/referrals/{ref}/")
    expect(worker.locator("#contact")).to_contain_text(referral.contact["house_no"])
    assert worker.locator(f"a[href*='/households/{code}/']").count() == 0  # never the registry
    for to in ("accepted", "in_progress", "completed"):
        worker.locator(f"form[data-to={to}] button").click()
        expect(worker.locator("#state")).to_have_attribute("data-state", to)
    expect(worker.locator("#history li[data-state]")).to_have_count(4)  # sent, accepted, in progress, completed
    expect(worker.locator("#actions")).to_have_count(0)  # nothing left to do

    # The agency records the help it gave (15,000 baht for the repair) against the referral.
    worker.locator("#record-help").click()
    worker.wait_for_url(f"{base}/referrals/assistance/new/?referral={ref}")
    worker.locator("select[name=kind]").select_option("housing_repair")
    worker.locator("input[name=value_baht]").fill("15000")
    worker.locator("form.card button.primary").click()
    worker.wait_for_load_state()
    help_row = Assistance.objects.get(referral__ref=ref)
    assert help_row.value_baht == 15000 and help_row.agency == agency and help_row.household.code == code
    worker.goto(f"{base}/referrals/{ref}/")
    expect(worker.locator(f"#help tr[data-assistance={help_row.ref}]")).to_contain_text("15,000")

    # Back on the household page, the officer sees the referral completed.
    officer.goto(f"{base}/households/{code}/")
    expect(officer.locator(f"#referrals tr[data-ref={ref}]")).to_have_attribute("data-state", "completed")
    expect(officer.locator(f"#referrals a[data-refer={NEED}]")).to_have_count(0)
    expect(officer.locator(f"#help-received tr[data-assistance={help_row.ref}]")).to_contain_text("15,000")
    # ... and in the area totals of the tracking page.
    officer.goto(f"{base}/referrals/tracking/?area=46")
    expect(officer.locator("main")).to_contain_text("15,000")
