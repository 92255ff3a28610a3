"""Enterprises, links and matching as users meet them: the directory, an enterprise's needs
and the households suggested for one (with their reasons), linking a household (which
counts as help), ending a link — and Local Data Ownership: an officer of another district
sees the enterprise (an organisation) but none of the households."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from khm.livelihoods import services
from khm.livelihoods.models import Link
from khm.livelihoods.tests.conftest import World, assess, client_for, new_household
from khm.referrals import services as referral_services
from khm.referrals.models import Assistance

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def village(world: World) -> dict[str, Any]:
    """Households of 46010101/02 around the weaving group, assessed in June 2024."""
    ploy = world.cast.ploy
    fit = new_household(ploy, "46010101", "5", [(1990, "unemployed", "primary"), (1985, "", "primary")])
    assess(fit, D(2024, 6, 1), level=2, human=3.2)
    casual = new_household(ploy, "46010102", "8", [(1980, "general_labourer", "primary")])
    assess(casual, D(2024, 6, 1), level=3, human=2.5)
    weak = new_household(ploy, "46010101", "9", [(1995, "unemployed", "primary")])
    assess(weak, D(2024, 6, 1), level=1, human=2.0)  # human capital below 2.5
    assess(world.cast.household, D(2024, 6, 1), level=2, human=3.5)  # only members over 59
    return {"fit": fit, "casual": casual, "weak": weak}


def test_suggested_households_for_a_need_with_reasons(world: World, village: dict[str, Any]):
    page = client_for(world.cast.ploy).get(f"/livelihoods/e/{world.weavers.code}/needs/{world.need.pk}/matches/")
    body = page.content.decode()
    assert page.status_code == 200
    order = [village["fit"].code, village["casual"].code]
    assert body.index(order[0]) < body.index(order[1])
    assert village["weak"].code not in body and world.cast.household.code not in body
    # Reasons in the page's language (Thai by default).
    assert "ทุนมนุษย์ 3.2 ≥ 2.5 ที่ต้องการสำหรับงานแปรรูป" in body
    assert "สมาชิกวัยทำงานที่ไม่มีงานทำ 2 คน" in body and "อยู่หมู่บ้านเดียวกัน" in body
    english = client_for(world.cast.ploy)
    english.cookies["django_language"] = "en"
    body_en = english.get(
        f"/livelihoods/e/{world.weavers.code}/needs/{world.need.pk}/matches/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "human capital 3.2 ≥ 2.5 needed for processing work" in body_en
    assert "1 casual labourer" in body_en and "in the same subdistrict" in body_en


def test_officer_of_another_district_sees_the_enterprise_but_no_household(world: World, village: dict[str, Any]):
    ploy = client_for(world.cast.ploy)
    services.link_create(
        actor=world.cast.ploy, enterprise=world.weavers, household=village["fit"], role="worker",
        started_on=D(2025, 1, 1),
    )  # fmt: skip
    assert village["fit"].code in ploy.get(f"/livelihoods/e/{world.weavers.code}/").content.decode()
    somchai = client_for(world.cast.somchai)
    page = somchai.get(f"/livelihoods/e/{world.weavers.code}/")
    body = page.content.decode()
    assert page.status_code == 200 and world.weavers.name_th in body  # an organisation: public directory
    assert village["fit"].code not in body  # its linked household is not his
    matches = somchai.get(f"/livelihoods/e/{world.weavers.code}/needs/{world.need.pk}/matches/").content.decode()
    assert all(h.code not in matches for h in village.values())
    assert somchai.get(f"/livelihoods/households/{village['fit'].code}/").status_code == 404
    assert somchai.get(f"/livelihoods/households/{village['fit'].code}/link/").status_code == 404
    link = Link.objects.get()
    assert somchai.post(f"/livelihoods/links/{link.ref}/end/", {"ended_on": "1/6/2568"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.link_create(
            actor=world.cast.somchai, enterprise=world.weavers, household=village["casual"], role="worker",
            started_on=D(2025, 1, 1),
        )  # fmt: skip


def test_a_link_from_the_page_counts_as_enterprise_support(world: World, village: dict[str, Any]):
    c = client_for(world.cast.ploy)
    url = f"/livelihoods/households/{village['fit'].code}/link/"
    page = c.get(url, {"enterprise": world.weavers.code, "role": "worker"})
    assert page.status_code == 200 and world.weavers.name_th in page.content.decode()
    r = c.post(
        url,
        {"enterprise": world.weavers.code, "role": "worker", "started_on": "1/1/2568", "person": "", "referral": "",
         "programme": "3 ใน 1 กาฬสินธุ์"},
    )  # fmt: skip
    assert r.status_code == 302
    link = Link.objects.get()
    help_record = Assistance.objects.get()
    assert (link.started_on, link.role, link.assistance_id) == (D(2025, 1, 1), "worker", help_record.pk)
    assert (help_record.kind, help_record.agency, help_record.value_baht) == ("enterprise_support", world.pso, 0)
    # The same link again is refused, naming the field in Thai and English.
    again = c.post(url, {"enterprise": world.weavers.code, "role": "worker", "started_on": "1/1/2568"})
    body = again.content.decode()
    assert again.status_code == 200 and "already linked to this enterprise in this role" in body
    assert "เชื่อมโยงกับวิสาหกิจนี้ในบทบาทนี้อยู่แล้ว" in body and Link.objects.count() == 1
    # The household page lists it; the suggestion for that need no longer names the household.
    assert world.weavers.name_th in c.get(f"/livelihoods/households/{village['fit'].code}/").content.decode()
    matches = c.get(f"/livelihoods/e/{world.weavers.code}/needs/{world.need.pk}/matches/").content.decode()
    assert village["fit"].code not in matches
    # Ending it.
    done = c.post(f"/livelihoods/links/{link.ref}/end/", {"ended_on": "1/6/2568", "reason": "ย้ายไปทำงานในเมือง"})
    link.refresh_from_db()
    assert done.status_code == 302 and link.ended_on == D(2025, 6, 1)


def test_link_from_a_referral_or_a_forum_resolution(world: World, village: dict[str, Any]):
    from khm.areas.models import Area

    cast = world.cast
    referral = referral_services.referral_create(
        actor=cast.ploy, household=village["casual"], need="income_support", need_label="รายได้", agency=world.pso
    )
    link = services.link_create(
        actor=cast.ploy, enterprise=world.weavers, household=village["casual"], role="member",
        started_on=D(2025, 2, 1), referral=referral,
    )  # fmt: skip
    assert link.source == f"referral:{referral.ref}" and link.assistance is not None
    assert link.assistance.referral_id == referral.pk
    # The forums app calls the same service with the resolution as the source.
    orphan = services.enterprise_create(
        actor=cast.admin, name_th="กลุ่มเลี้ยงโค", village=Area.objects.get(code="46010102"), stages=["production"]
    )
    link2 = services.link_create(
        actor=cast.dara, enterprise=orphan, household=village["fit"], role="supplier", started_on=D(2025, 2, 1),
        source="forum:F123",
    )  # fmt: skip
    # No agency supports that group: the link stands without a help record.
    assert link2.source == "forum:F123" and link2.assistance is None
    with pytest.raises(services.LivelihoodInvalid) as bad:
        services.link_create(
            actor=cast.ploy, enterprise=world.weavers, household=village["fit"], role="boss",
            started_on=dt.date.today() + dt.timedelta(days=3), source="facebook",
        )  # fmt: skip
    assert {p.field for p in bad.value.problems} == {"role", "started_on", "source"}
    assert all(p.th and p.en for p in bad.value.problems)


def test_enterprise_directory_forms_and_support(world: World):
    cast = world.cast
    agency = client_for(cast.agency)  # agency workers manage enterprises (province scope here)
    r = agency.post(
        "/livelihoods/new/",
        {"name_th": "กลุ่มแปรรูปปลาร้า", "kind": "community_enterprise", "village": "46010201",
         "stages": ["processing", "marketing"], "registration_no": "4-46-01-01/1-0012", "products": "ปลาร้าบอง"},
    )  # fmt: skip
    body = r.content.decode()
    assert r.status_code == 200 and "this registration number is already used" in body  # the weavers have it
    r = agency.post(
        "/livelihoods/new/",
        {"name_th": "กลุ่มแปรรูปปลาร้า", "kind": "community_enterprise", "village": "46010201",
         "stages": ["processing", "marketing"], "registration_no": "4-46-01-02/1-0003", "products": "ปลาร้าบอง"},
    )  # fmt: skip
    assert r.status_code == 302
    code = r["Location"].rstrip("/").split("/")[-1]
    r = agency.post(
        f"/livelihoods/e/{code}/support/new/",
        {"kind": "marketing", "agency": "pso", "started_on": "1/2/2568", "value_baht": "15,000", "programme": "OTOP"},
    )
    assert r.status_code == 302
    detail = client_for(cast.analyst).get(f"/livelihoods/e/{code}/").content.decode()
    assert "ปลาร้าบอง" in detail and "15,000" in detail and "OTOP" in detail
    listing = client_for(cast.vee).get("/livelihoods/", {"stage": "marketing"}).content.decode()
    assert "กลุ่มแปรรูปปลาร้า" in listing and world.weavers.name_th not in listing
    # Ploy (villages 46010101/02 only) may not put an enterprise in 46010201.
    r = client_for(cast.ploy).post(
        "/livelihoods/new/",
        {"name_th": "กลุ่มนอกพื้นที่", "kind": "community_enterprise", "village": "46010201", "stages": ["production"]},
    )
    assert r.status_code == 200 and "this village is outside your area" in r.content.decode()
    assert client_for(cast.ploy).get(f"/livelihoods/e/{code}/edit/").status_code == 404
