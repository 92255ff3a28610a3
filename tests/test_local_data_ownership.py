"""Local Data Ownership, end to end through pages and the API, with the fixed cast."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def list_codes(client: Client, **post) -> set[str]:
    r = client.post("/households/", post) if post else client.get("/households/")
    assert r.status_code == 200
    return set(re.findall(r"/households/(HH\w+)/", r.content.decode()))


def test_owner_sees_own_household_and_not_the_other_district(cast):
    codes = list_codes(client_for(cast.ploy))
    assert cast.household.code in codes
    assert cast.other_household.code not in codes


def test_other_area_gets_404_exactly_like_missing(cast):
    c = client_for(cast.somchai)
    theirs = c.get(f"/households/{cast.household.code}/")
    missing = c.get("/households/HHNOSUCHCODE/")
    assert theirs.status_code == missing.status_code == 404
    assert "บุญมี" not in theirs.content.decode()
    assert c.get(f"/api/v1/households/{cast.household.code}").status_code == 404


def test_supervisor_above_both_sees_own_district_only(cast):
    dara = list_codes(client_for(cast.dara))
    assert cast.household.code in dara and cast.other_household.code not in dara
    admin = list_codes(client_for(cast.admin))
    assert {cast.household.code, cast.other_household.code} <= admin


def test_volunteer_sees_only_their_village(cast):
    from khm.registry import services

    other_village = services.household_create(actor=cast.ploy, village_code="46010102", house_no="5")
    codes = list_codes(client_for(cast.vee))
    assert cast.household.code in codes
    assert other_village.code not in codes


@pytest.mark.parametrize("who", ["agency", "analyst", "sysadmin", "nobody", "expired"])
def test_roles_without_household_access_see_nothing(cast, who):
    c = client_for(getattr(cast, who))
    assert c.get("/households/").status_code == 403
    assert c.get(f"/households/{cast.household.code}/").status_code in (403, 404)
    assert c.get("/api/v1/households").status_code == 403


def test_anonymous_is_sent_to_login_and_api_says_401(cast):
    c = Client()
    r = c.get(f"/households/{cast.household.code}/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert c.get("/api/v1/households").status_code == 401


def test_read_only_role_write_is_403(cast):
    from khm.accounts.models import RoleAssignment
    from khm.accounts.roles import Role

    # A forum secretary may read households of their subdistrict but not write.
    RoleAssignment.objects.create(
        user=cast.nobody, role=Role.FORUM_SECRETARY, organisation=cast.orgs["d4601"], area=cast.areas["460101"]
    )
    c = client_for(cast.nobody)
    assert c.get(f"/households/{cast.household.code}/").status_code == 200
    r = c.post(f"/households/{cast.household.code}/edit/", {"house_no": "1"})
    assert r.status_code == 403
    cast.household.refresh_from_db()
    assert cast.household.house_no == "99/1"


def test_search_by_name_id_and_house_number_is_scoped(cast):
    ploy, somchai = client_for(cast.ploy), client_for(cast.somchai)
    for q in ["บุญมี", "ศรีสุข", "บุญมี ศรีสุข", "3-4601-00123-45-8", "๓๔๖๐๑๐๐๑๒๓๔๕๘", "99/1", "99"]:
        assert list_codes(ploy, q=q) == {cast.household.code}, q
        assert list_codes(somchai, q=q) == set(), q
    assert list_codes(ploy, q="3460100123459") == set()  # wrong check digit finds nothing


def test_search_terms_never_appear_in_urls(cast):
    r = client_for(cast.ploy).post("/households/", {"q": "บุญมี"})
    html = r.content.decode()
    hrefs = re.findall(r'(?:href|hx-get|action|hx-post)="([^"]*)"', html)
    assert hrefs and not any("บุญมี" in h or "q=" in h for h in hrefs)


def test_api_list_and_detail_are_scoped(cast):
    body = client_for(cast.ploy).get("/api/v1/households").json()
    assert [i["code"] for i in body["items"]] == [cast.household.code]
    detail = client_for(cast.ploy).get(f"/api/v1/households/{cast.household.code}").json()
    assert {m["first_name"] for m in detail["members"]} == {"บุญมี", "คำปุน"}
    assert detail["members"][0]["national_id_masked"] in ("3-4601-xxxxx-xx-8", "")
    assert cast.head_nid not in str(detail)
    r = client_for(cast.somchai).post("/api/v1/households/search", {"q": "บุญมี"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["items"] == []


def test_api_bearer_token(cast):
    from khm.accounts.services import api_token_create

    token = api_token_create(actor=None, user=cast.ploy, name="test")
    c = Client()
    ok = c.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["items"][0]["code"] == cast.household.code
    assert c.get("/api/v1/households", headers={"Authorization": "Bearer khm_wrong"}).status_code == 401


def test_export_contains_only_scope_and_is_audited(cast):
    from khm.audit.models import AuditEvent

    r = client_for(cast.ploy).get("/households/export.csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "บุญมี" in text and "สมหมาย" not in text
    assert "3460100123458" in text  # local officers may see full IDs (role matrix)
    assert AuditEvent.objects.filter(action="export.personal", actor=cast.ploy).count() == 1


def test_thai_is_the_default_even_when_the_browser_asks_for_english(cast):
    c = client_for(cast.ploy)
    html = c.get("/households/", headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert 'lang="th"' in html and "ครัวเรือน" in html
    c.post("/i18n/setlang/", {"language": "en"})
    assert 'lang="en"' in c.get("/households/").content.decode()


@pytest.mark.parametrize(("who", "lands_on"), [("ploy", "/households/"), ("agency", "/start/"), ("analyst", "/start/")])
def test_login_lands_each_role_on_a_page_it_may_see(cast, who, lands_on):
    c = Client()
    r = c.post(
        "/accounts/login/", {"username": getattr(cast, who).username, "password": "correct-horse-battery"}, follow=True
    )
    assert r.redirect_chain[-1][0] == lands_on and r.status_code == 200
