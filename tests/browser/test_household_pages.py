"""Household pages in a real browser (Local Data Ownership, end to end).

Log in as a local-government officer, find a household, open it; log in as an officer of
another area and get nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, Demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = ROOT / "docs" / "img" / "household-list.png"
MASKED_ID = re.compile(r"^\d-\d{4}-xxxxx-xx-\d$")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844, "mobile": True}


@dataclass(frozen=True)
class Member:
    ref: str
    full_name: str
    first_name: str
    last_name: str
    national_id: str

    @property
    def masked_id(self) -> str:
        d = self.national_id
        return f"{d[0]}-{d[1:5]}-xxxxx-xx-{d[12]}"

    @property
    def id_forms(self) -> tuple[str, ...]:
        """The full national ID as it could be printed: plain and with the usual dashes."""
        d = self.national_id
        return (d, f"{d[0]}-{d[1:5]}-{d[5:10]}-{d[10:12]}-{d[12]}", f"{d[0]} {d[1:5]} {d[5:10]} {d[10:12]} {d[12]}")


@dataclass(frozen=True)
class Target:
    code: str
    last_name: str  # the head's; no one in the other officer's area has a name starting with it
    members: tuple[Member, ...]  # head first


def _target(demo: Demo) -> Target:
    """A household of ``local`` with a head and 2+ members, whose head's last name is unknown to ``local2``."""
    from khm.registry.models import Household, Person, Relation

    other = Person.objects.filter(household__area_code__in=demo.local2_villages)
    other_names = {n for pair in other.values_list("first_name", "last_name") for n in pair}
    households = Household.objects.filter(area_code__in=demo.local_villages).prefetch_related("people").order_by("code")
    for household in households:
        people = sorted(household.people.all(), key=lambda p: (p.relation != Relation.HEAD, p.pk))
        head = people[0] if people and people[0].relation == Relation.HEAD else None
        if head is None or len(people) < 2 or not all(p.national_id_enc for p in people):
            continue
        if any(name.startswith(head.last_name) for name in other_names):
            continue
        members = tuple(Member(p.ref, p.full_name, p.first_name, p.last_name, p.national_id()) for p in people)
        assert all(len(m.national_id) == 13 for m in members)
        return Target(household.code, head.last_name, members)
    raise AssertionError("no suitable household in the demo data")


def _log_in(page: Page, username: str, password: str) -> None:
    """Fill in and submit the login form; wait for the page that answers."""
    page.evaluate("window.__beforeLogin = true")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_function("() => window.__beforeLogin === undefined && document.readyState === 'complete'")


def _row_codes(page: Page) -> list[str]:
    return page.locator("#results table.list tbody tr td:first-child a").all_inner_texts()


def _search(page: Page, text: str) -> None:
    """Type ``text`` in the search box and submit; wait until htmx has swapped #results."""
    page.evaluate("""() => {
        window.__sameDocument = true;
        for (const el of document.querySelectorAll("#results > *")) el.dataset.stale = "1";
    }""")
    page.locator("form.search input[name=q]").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/households/")) as info:
        page.locator("form.search button").click()
    response = info.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    assert "<html" not in response.text()  # a partial, swapped into the page
    page.wait_for_function("""() => {
        const results = document.querySelector("#results");
        return !results.querySelector(":scope > [data-stale]") && !results.matches(".htmx-swapping, .htmx-settling");
    }""")
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page instead of swapping #results"


def _fits_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_local_officer_finds_and_opens_a_household(demo: Demo, live_server, page_factory, screen):
    target = _target(demo)
    phone = screen.get("mobile", False)
    page = page_factory(**screen)
    base = live_server.url

    page.goto(f"{base}/households/")
    assert page.url.startswith(f"{base}/accounts/login/")  # not logged in: to the login page
    _log_in(page, "local", demo.password)
    page.wait_for_url(f"{base}/households/")

    # The list shows households, all inside the officer's jurisdiction.
    rows = page.locator("#results table.list tbody tr")
    expect(rows.first).to_be_visible()
    codes = _row_codes(page)
    assert codes and all(code[2:10] in demo.local_villages for code in codes)
    if phone:
        assert _fits_width(page), "the household list scrolls sideways on a phone"
    elif os.environ.get("KHM_SCREENSHOT"):  # `make screenshot` refreshes the README image
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT, full_page=True, animations="disabled")

    # Search by the head's last name: the htmx swap brings the household.
    _search(page, target.last_name)
    results = page.locator("#results")
    expect(results.get_by_role("link", name=target.code, exact=True)).to_be_visible()
    expect(results).to_contain_text(target.members[0].full_name)
    assert all(code[2:10] in demo.local_villages for code in _row_codes(page))

    # Open it: members' names and masked national IDs, never the full ID.
    results.get_by_role("link", name=target.code, exact=True).click()
    page.wait_for_url(f"{base}/households/{target.code}/")
    expect(page.locator("h1")).to_contain_text(target.code)
    members = page.locator("table.members")
    for m in target.members:
        expect(members).to_contain_text(m.full_name)
        shown = page.locator(f"#nid-{m.ref}")
        expect(shown).to_have_text(m.masked_id)
        assert MASKED_ID.match(shown.inner_text())
    html = page.content()
    for m in target.members:
        for form in m.id_forms:
            assert form not in html
    if phone:
        assert _fits_width(page), "the household page scrolls sideways on a phone"


def test_officer_of_another_area_gets_nothing(demo: Demo, live_server, page_factory):
    target = _target(demo)
    head = target.members[0]
    page = page_factory(**DESKTOP)
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    _log_in(page, "local2", demo.password)
    page.wait_for_url(f"{base}/households/")
    codes = _row_codes(page)
    assert codes, "local2 sees the households of their own area"
    assert all(code[2:10] in demo.local2_villages for code in codes)
    assert target.code not in codes

    # Neither the last name nor the national ID finds the household.
    for text in (target.last_name, head.national_id, target.code):
        _search(page, text)
        results = page.locator("#results")
        expect(results.locator("p.empty")).to_be_visible()
        assert _row_codes(page) == []
        assert target.code not in results.inner_html()
        assert head.full_name not in results.inner_html()

    # Opening the household directly: 404, and nothing of the household on the page.
    for path in (f"/households/{target.code}/", f"/households/{target.code}/edit/"):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 404, path
        html = page.content()
        for m in target.members:
            assert m.first_name not in html
            assert m.last_name not in html
            assert m.masked_id not in html
            assert not any(form in html for form in m.id_forms)
            assert not any(m.national_id[5:12] in digits for digits in re.findall(r"\d+", html))


def test_bad_login_shows_the_error_and_stays_on_the_login_page(demo: Demo, live_server, page_factory):
    page = page_factory(**PHONE)
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    _log_in(page, "local", "not-the-password")
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).not_to_be_empty()
    assert page.url == f"{base}/accounts/login/"
    assert "sessionid" not in {c["name"] for c in page.context.cookies()}
    expect(page.locator("input[name=password]")).to_have_value("")

    # An unknown user gets the same message (no hint about which usernames exist).
    message = alert.inner_text()
    _log_in(page, "nobody-here", demo.password)
    expect(page.get_by_role("alert")).to_have_text(message)
    assert page.url == f"{base}/accounts/login/"

    # The right password still works afterwards.
    _log_in(page, "local", demo.password)
    page.wait_for_url(f"{base}/households/")
    expect(page.get_by_role("alert")).to_have_count(0)
