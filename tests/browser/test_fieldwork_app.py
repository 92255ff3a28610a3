"""The phone app (/m/) end to end: a village volunteer verifies households offline.

Log in once, download the assignments, go offline, fill in a household (outcome, consent,
questionnaire, house number, GPS, a photo), reload while offline (the service worker opens
the app, the draft is still there), save, come back online: the phone sends the photo and
the verification, the registry has them, the officer sees them. The same submission sent
twice is stored once; a field the registry changed after the download comes back as a
conflict for an officer.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, Demo
from tests.browser.test_household_pages import DESKTOP, _fits_width, _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844, "mobile": True}
SCREENSHOT = ROOT / "docs" / "img" / "fieldwork-phone.png"
NEW_HOUSE_NO = "4321/7"
SUBMISSIONS = "/api/v1/fieldwork/submissions"


def _assign(demo: Demo) -> tuple[Any, list[Any]]:
    """A campaign over district 4601; the volunteer gets the households of their village."""
    from khm.accounts.models import User
    from khm.accounts.scoping import scope_for
    from khm.assessment import instruments as inst
    from khm.assessment.services import instruments_install_defaults
    from khm.fieldwork.services import campaign_assign, campaign_create
    from khm.registry.models import Household, HouseholdStatus

    if inst.current_of_kind("capitals") is None:
        instruments_install_defaults()
    admin, volunteer = User.objects.get(username="admin"), User.objects.get(username="volunteer")
    scope = scope_for(volunteer, "verification.submit")
    villages = sorted(v for v in scope.villages | scope.prefixes if len(v) == 8)
    assert len(villages) == 1 and villages[0] in demo.local_villages
    campaign = campaign_create(actor=admin, name="ตรวจสอบครัวเรือนยากจน", area_code="4601", round="2568", selection="all")
    assigned = campaign_assign(actor=admin, campaign=campaign, assignee=volunteer, villages=villages)
    households = list(
        Household.objects.filter(area_code=villages[0], status=HouseholdStatus.ACTIVE)
        .prefetch_related("people")
        .order_by("code")
    )
    assert assigned == len(households) >= 2
    return campaign, sorted(households, key=lambda h: -h.people.count())


def _jpeg(tmp_path) -> Any:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1600, 1200), "#8fbc8f")
    ImageDraw.Draw(img).rectangle([200, 200, 1400, 1000], fill="#704214")
    path = tmp_path / "house.jpg"
    img.save(path, "JPEG", quality=85)
    return path


def _ready(page: Page) -> None:
    page.wait_for_function("() => document.body.dataset.ready === '1'")


def _drafts_saved(page: Page) -> None:
    """Wait until the form has written every change to IndexedDB."""
    page.wait_for_function(
        "() => { const s = document.querySelector('#draft-state'); return s && s.dataset.pending === '0'; }"
    )


def _small_things(page: Page) -> dict[str, list[str]]:
    """Visible touch targets under 48 px tall and text under 17 px."""
    return page.evaluate("""() => {
        const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
        const name = (e) => e.outerHTML.slice(0, 90);
        const targets = [...document.querySelectorAll(
            "button, a.button, a.hh, summary, label.choice, input:not([type=radio]):not([type=checkbox]):not([type=file]), select, textarea")]
            .filter(shown).filter((e) => e.getBoundingClientRect().height < 47.5).map(name);
        const text = [...document.querySelectorAll("body *")].filter(shown)
            .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
            .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 17).map(name);
        return {targets, text};
    }""")


def _row(page: Page, code: str):
    return page.locator(f"li[data-code='{code}']")


def _screenshot(parts: list[bytes]) -> None:
    """Household list and form side by side, in one PNG for the README."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)) for p in parts]
    gap = 24
    out = Image.new(
        "RGB",
        (sum(i.width for i in images) + gap * (len(images) + 1), max(i.height for i in images) + 2 * gap),
        "#d9d9d9",
    )
    x = gap
    for i in images:
        out.paste(i, (x, gap))
        x += i.width + gap
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    out.save(SCREENSHOT, optimize=True)


def test_volunteer_verifies_offline_then_syncs(demo: Demo, live_server, page_factory, tmp_path):
    from django.utils import translation

    from khm.accounts.models import User
    from khm.fieldwork.models import Conflict, ConflictStatus, Outcome, Photo, Verification
    from khm.registry.services import household_update

    _campaign, households = _assign(demo)
    first, second = households[0], households[1]
    member = first.people.order_by("pk").first()
    assert member is not None
    base = live_server.url
    page = page_factory(**PHONE)
    context = page.context
    context.grant_permissions(["geolocation"], origin=base)
    context.set_geolocation({"latitude": 16.43, "longitude": 103.5, "accuracy": 8})
    sent_bodies: list[str] = []
    page.on(
        "request",
        lambda r: sent_bodies.append(r.post_data or "") if r.method == "POST" and r.url.endswith(SUBMISSIONS) else None,
    )
    shots: list[bytes] = []

    # a. Log in once; the app installs its service worker and downloads the assignments.
    page.goto(f"{base}/m/")
    assert page.url.startswith(f"{base}/accounts/login/")
    _log_in(page, "volunteer", demo.password)
    page.wait_for_url(f"{base}/m/")
    _ready(page)
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    sw = page.request.get(f"{base}/m/sw.js")
    assert sw.ok and sw.headers["content-type"].startswith("application/javascript")
    assert "no-cache" in sw.headers["cache-control"]
    manifest = page.request.get(f"{base}/m/manifest.webmanifest").json()
    assert (manifest["start_url"], manifest["display"], manifest["theme_color"]) == ("/m/", "standalone", "#0b5d3b")
    html = page.evaluate("fetch('/m/').then(r => r.text())")
    assert first.people.first().last_name not in html and first.code not in html  # the shell holds no personal data
    with page.expect_response(lambda r: r.url.endswith("/api/v1/fieldwork/download")) as info:
        page.get_by_role("button", name="ดาวน์โหลดงาน").click()
    bundle = info.value.json()
    bundle_bytes = len(info.value.body())
    assert {h["code"] for h in bundle["households"]} == {h.code for h in households}
    expect(page.locator("#msg")).to_contain_text("ดาวน์โหลดแล้ว")
    expect(page.locator("#households li[data-code]")).to_have_count(len(households))
    expect(_row(page, first.code).locator(".state")).to_have_text("ยังไม่ตรวจ")
    assert _fits_width(page), "the household list scrolls sideways on a phone"
    if os.environ.get("KHM_SCREENSHOT"):
        shots.append(page.screenshot(animations="disabled"))

    # b. Offline: fill in the first household.
    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("ออฟไลน์")
    _row(page, first.code).locator("a.hh").click()
    expect(page.locator("#hh-form")).to_be_visible()
    page.get_by_role("radio", name="ยืนยันว่ายากจน").check()
    page.locator("#consent").check()
    questionnaire = page.locator("#questionnaire")
    expect(questionnaire).to_be_visible()
    questionnaire.locator("details[data-capital=human] > summary").click()
    questionnaire.locator("[data-item=h_work]").get_by_role("radio", name="ทุกคน").check()
    questionnaire.locator("[data-item=h_literacy]").get_by_role("radio", name="บางคน").check()
    questionnaire.locator("#n-h_income_month").fill("1500")
    questionnaire.locator("details[data-capital=physical] > summary").click()
    hygiene = questionnaire.locator("[data-item=p_hygiene]")
    hygiene.get_by_role("checkbox", name="มีส้วมถูกสุขลักษณะ").check()
    hygiene.get_by_role("checkbox", name="จัดการขยะ").check()
    page.locator(f"#w-{member.ref}").check()
    page.locator("#house_no").fill(NEW_HOUSE_NO)
    page.locator("#gps-btn").click()
    expect(page.locator("#gps-out")).to_contain_text("16.430000, 103.500000")
    page.locator("#photo-input").set_input_files(_jpeg(tmp_path))
    expect(page.locator("#thumbs img")).to_have_count(1)
    _drafts_saved(page)
    expect(_row(page, first.code)).to_have_count(0)  # on the form, not the list
    assert _fits_width(page), "the form scrolls sideways on a phone"
    if os.environ.get("KHM_SCREENSHOT"):
        page.evaluate("window.scrollTo(0, 0)")
        shots.append(page.screenshot(animations="disabled"))
        _screenshot(shots)

    # c. Reload while offline: the service worker opens the app, the draft is still there.
    page.reload()
    _ready(page)
    expect(page.locator("#hh-form")).to_be_visible()
    expect(page.get_by_role("radio", name="ยืนยันว่ายากจน")).to_be_checked()
    expect(page.locator("#consent")).to_be_checked()
    expect(page.locator("input[name='q.h_work'][value=all]")).to_be_checked()  # in a closed <details>
    expect(page.locator("input[name='q.p_hygiene']:checked")).to_have_count(2)
    expect(page.locator("#n-h_income_month")).to_have_value("1500")
    expect(page.locator(f"#w-{member.ref}")).to_be_checked()
    expect(page.locator("#house_no")).to_have_value(NEW_HOUSE_NO)
    expect(page.locator("#gps-out")).to_contain_text("16.430000, 103.500000")
    expect(page.locator("#thumbs img")).to_have_count(1)
    assert page.evaluate("document.querySelector('#thumbs img').naturalWidth") == 1280  # resized on the phone

    # d. Save: waiting to send; back online, the phone sends it.
    page.locator("#save").click()
    expect(page.locator("#waiting")).to_have_text("รอส่ง 1 รายการ")
    expect(_row(page, first.code).locator(".state")).to_have_text("รอส่ง")
    assert Verification.objects.count() == 0
    # Logging out now would lose it: the app warns first (and stays when the volunteer says no).
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.locator("#logout").click()
    expect(page.locator("#waiting")).to_have_text("รอส่ง 1 รายการ")
    assert dialogs and "ยังมีข้อมูลที่ยังไม่ได้ส่ง" in dialogs[0]
    # Back online the app sends at once; the connection drops after the photo went up.
    photo_posts: list[str] = []
    page.on(
        "request", lambda r: photo_posts.append(r.url) if r.method == "POST" and r.url.endswith("/photos") else None
    )
    page.route(f"**{SUBMISSIONS}", lambda route: route.abort("internetdisconnected"))
    context.set_offline(False)  # the `online` event starts the sync
    expect(page.locator("#msg")).to_contain_text("เชื่อมต่อเซิร์ฟเวอร์ไม่ได้")
    expect(page.locator("#waiting")).to_have_text("รอส่ง 1 รายการ")
    assert len(photo_posts) == 1 and Photo.objects.count() == 1 and Verification.objects.count() == 0
    page.unroute(f"**{SUBMISSIONS}")
    page.get_by_role("button", name="ส่งข้อมูล").click()  # resumes: the submission only
    expect(_row(page, first.code).locator(".state")).to_have_text("ส่งแล้ว", timeout=20_000)
    expect(page.locator("#waiting")).to_have_text("รอส่ง 0 รายการ")
    assert len(photo_posts) == 1

    cached = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
        return urls;
    }""")
    assert f"{base}/m/" in cached and not [u for u in cached if "/api/" in u]

    # e. On the server: the verification, its photo, the assessment, the new house number.
    v = Verification.objects.get(household=first)
    assert v.outcome == Outcome.CONFIRMED_POOR and v.consent and v.method == "field"
    assert Photo.objects.filter(verification=v).count() == 1
    assert v.assessment is not None and v.assessment.household_id == first.pk
    assert v.payload["answers"]["capitals"]["h_work"] == "all"
    assert v.payload["answers"]["welfare_cards"] == [member.ref]
    assert v.latitude is not None and v.longitude is not None
    assert float(v.latitude) == pytest.approx(16.43) and float(v.longitude) == pytest.approx(103.5)
    first.refresh_from_db()
    assert first.house_no == NEW_HOUSE_NO
    officer = page_factory(**DESKTOP)
    officer.goto(f"{base}/accounts/login/")
    _log_in(officer, "local", demo.password)
    officer.goto(f"{base}/households/{first.code}/")
    with translation.override("th"):
        shown = str(Outcome.CONFIRMED_POOR.label)
    expect(officer.locator("#verification")).to_contain_text(shown)

    # f. The same submission again (a retry after a lost answer) is stored once.
    bodies = [b for b in sent_bodies if json.loads(b)["household"] == first.code]
    assert bodies
    again = page.evaluate(
        """async (body) => {
            const token = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/)[1];
            const r = await fetch('/api/v1/fieldwork/submissions', {
                method: 'POST', body, headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
            return {status: r.status, data: await r.json()};
        }""",
        bodies[0],
    )
    assert again["status"] == 200 and again["data"]["duplicate"] is True
    assert again["data"]["ref"] == v.ref
    assert Verification.objects.filter(household=first).count() == 1

    # g. A field the registry changed after the phone downloaded it comes back as a conflict.
    old_no = second.house_no
    _row(page, second.code).locator("a.hh").click()
    page.locator("#notes").fill("เริ่มตรวจ")
    _drafts_saved(page)
    admin = User.objects.get(username="admin")
    household_update(actor=admin, household=second, house_no="777")
    page.locator("#back").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/fieldwork/download")):
        page.get_by_role("button", name="ดาวน์โหลดงาน").click()
    expect(_row(page, second.code).locator(".no")).to_have_text("777")
    expect(_row(page, second.code).locator(".state")).to_have_text("ร่าง")
    _row(page, second.code).locator("a.hh").click()
    expect(page.locator("#house_no")).to_have_value(old_no)  # what the volunteer started from
    expect(page.locator("#address")).to_contain_text("777")  # … and what the registry says now
    expect(page.locator("#notes")).to_have_value("เริ่มตรวจ")
    page.locator("#house_no").fill("888")
    page.get_by_role("radio", name="ซ้ำกับครัวเรือนอื่น").check()
    page.locator("#duplicate_of").fill("HH0000000000000")
    page.locator("#consent").check()
    # The server refuses it (no such household): the item stays, with the Thai error, for correction.
    with page.expect_response(lambda r: r.url.endswith(SUBMISSIONS) and r.request.method == "POST") as info:
        page.locator("#save").click()
    assert info.value.status == 422
    expect(_row(page, second.code).locator(".state")).to_have_text("ต้องแก้ไข")
    expect(_row(page, second.code).locator(".alert")).to_contain_text("ระบุรหัสครัวเรือนที่ซ้ำ")
    expect(page.locator("#waiting")).to_have_text("รอส่ง 1 รายการ")
    assert not Verification.objects.filter(household=second).exists()
    _row(page, second.code).locator("a.hh").click()
    expect(page.locator("#banner")).to_contain_text("ระบุรหัสครัวเรือนที่ซ้ำ")
    page.locator("#reopen").click()
    expect(page.locator("#house_no")).to_have_value("888")
    page.get_by_role("radio", name="ไม่ยากจน").check()
    with page.expect_response(lambda r: r.url.endswith(SUBMISSIONS) and r.request.method == "POST") as info:
        page.locator("#save").click()
    answer = info.value.json()
    assert info.value.status == 201
    assert [(c["field"], c["server"], c["device"]) for c in answer["conflicts"]] == [("house_no", "777", "888")]
    expect(_row(page, second.code).locator(".conflict")).to_contain_text("มีข้อมูลขัดแย้ง รอเจ้าหน้าที่ตรวจ")
    second.refresh_from_db()
    assert second.house_no == "777"  # nothing overwritten
    assert Conflict.objects.filter(household=second, field="house_no", status=ConflictStatus.OPEN).count() == 1
    officer.goto(f"{base}/fieldwork/conflicts/")
    expect(officer.locator("table.conflicts")).to_contain_text(second.code)
    expect(officer.locator("table.conflicts")).to_contain_text("888")

    # h. No sideways scroll, at 390 px and at 360 × 640; big touch targets, readable text.
    assert _fits_width(page)
    assert _small_things(page) == {"targets": [], "text": []}
    page.set_viewport_size({"width": 360, "height": 640})
    assert _fits_width(page)
    if len(households) > 2:
        _row(page, households[-1].code).locator("a.hh").click()
        expect(page.locator("#hh-form")).to_be_visible()
        assert _fits_width(page)
        assert _small_things(page) == {"targets": [], "text": []}

    # Log out: the phone forgets everything.
    page.goto(f"{base}/m/")
    _ready(page)
    page.locator("#logout").click()
    page.wait_for_url(f"{base}/accounts/login/**")
    assert not page.evaluate("indexedDB.databases().then(d => d.some(x => x.name === 'khm-fieldwork'))")
    assert not page.evaluate("caches.keys().then(k => k.some(n => n.startsWith('khm-m-')))")
    per_household = len(json.dumps(bundle["households"], ensure_ascii=False).encode()) // len(households)
    print(
        f"\nshell {len(html.encode())} B; bundle {bundle_bytes} B for {len(households)} households (~{per_household} B each)"
    )
