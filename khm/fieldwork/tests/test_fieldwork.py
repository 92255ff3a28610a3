"""Fieldwork end to end on the server: campaigns, assignments, the phone's download, photos,
idempotent submissions, conflicts, desk verification and Local Data Ownership."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from PIL import Image

from khm.fieldwork import selectors, services
from khm.fieldwork.models import Assignment, Conflict, ConflictStatus, Method, Photo, Verification
from khm.registry import services as registry
from khm.registry.models import PersonStatus

pytestmark = pytest.mark.django_db


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(buf, "JPEG", quality=70)
    return buf.getvalue()


@pytest.fixture
def field(cast: Any) -> Any:
    """A campaign over district 4601 with the memorable household given to volunteer Vee."""
    c = services.campaign_create(actor=cast.dara, name="ตรวจสอบ 2568", area_code="4601", round="2568", selection="all")
    services.campaign_assign(actor=cast.dara, campaign=c, assignee=cast.vee, villages=["46010101"])
    cast.campaign = c
    return cast


def payload(cast: Any, **kw: Any) -> dict[str, Any]:
    base = {
        "outcome": "confirmed_poor",
        "verified_on": "2025-06-01",
        "consent": True,
        "notes": "บ้านทรุดโทรม",
        "gps": {"lat": 16.43, "lon": 103.50, "accuracy": 8},
    }
    return {**base, **kw}


def submit(cast: Any, key: str = "k-1", **kw: Any) -> tuple[Verification, bool]:
    return services.verification_submit(
        actor=cast.vee, key=key, household=cast.household, payload=payload(cast, **kw), campaign=cast.campaign
    )


def test_campaign_selects_the_area_and_assignment_respects_the_assignees_area(field):
    # Two households exist in 4601? Only the memorable one (46010101); the other is in 4605.
    assert Assignment.objects.filter(campaign=field.campaign).count() == 1
    a = Assignment.objects.get(campaign=field.campaign)
    assert a.assignee == field.vee and a.household == field.household
    with pytest.raises(services.SubmissionInvalid) as exc:
        services.campaign_assign(
            actor=field.dara, campaign=field.campaign, assignee=field.somchai, villages=["46010101"]
        )
    assert "46010101" in exc.value.problems[0].en and exc.value.problems[0].th


def test_the_phone_downloads_only_its_own_assignments(field):
    bundle = selectors.bundle_for(field.vee)
    assert [h["code"] for h in bundle["households"]] == [field.household.code]
    assert {m["first_name"] for m in bundle["households"][0]["members"]} == {"บุญมี", "คำปุน"}
    assert bundle["questionnaire"]["definition"]["code"] == "five-capitals"
    assert selectors.bundle_for(field.somchai)["households"] == []
    assert selectors.bundle_for(field.ploy)["households"] == []  # in her area, but not given to her
    # Given to someone else: it leaves Vee's phone at the next download.
    services.campaign_assign(actor=field.dara, campaign=field.campaign, assignee=field.ploy, villages=["46010101"])
    assert selectors.bundle_for(field.vee)["households"] == []
    services.campaign_close(actor=field.dara, campaign=field.campaign)
    assert selectors.bundle_for(field.ploy)["households"] == []


def test_sending_the_same_submission_twice_stores_it_once(field):
    v1, created1 = submit(field)
    v2, created2 = submit(field)
    assert created1 and not created2 and v1.pk == v2.pk
    assert Verification.objects.count() == 1
    assert Assignment.objects.get(campaign=field.campaign).status == "done"
    field.household.refresh_from_db()
    assert str(field.household.latitude) == "16.430000"  # the first GPS point is kept on the household


def test_a_submission_with_problems_names_them_and_writes_nothing(field):
    with pytest.raises(services.SubmissionInvalid) as exc:
        submit(field, outcome="moved", consent=False, photos=["nope"], gps={"lat": 51.5, "lon": -0.1})
    fields = {p.field for p in exc.value.problems}
    assert {"consent", "moved_to", "photos", "gps"} <= fields
    assert all(p.th and p.en for p in exc.value.problems)
    assert Verification.objects.count() == 0


def test_only_the_assignee_may_send_from_the_phone(field):
    with pytest.raises(PermissionDenied):
        services.verification_submit(
            actor=field.ploy, key="x", household=field.household, payload=payload(field), campaign=field.campaign
        )
    with pytest.raises(PermissionDenied):
        services.verification_submit(
            actor=field.somchai, key="y", household=field.household, payload=payload(field), method=Method.DESK
        )


def test_photos_are_real_images_stored_once(field):
    p1, created = services.photo_store(actor=field.vee, key="ph-1", household=field.household, content=jpeg())
    p2, again = services.photo_store(actor=field.vee, key="ph-1", household=field.household, content=jpeg())
    assert created and not again and p1.pk == p2.pk and (p1.width, p1.height) == (64, 48)
    assert "ph-1" not in p1.image.name  # no device data in file names
    with pytest.raises(services.SubmissionInvalid):
        services.photo_store(actor=field.vee, key="ph-2", household=field.household, content=b"not an image")
    v, _ = submit(field, photos=["ph-1"])
    assert list(v.photos.all()) == [p1]


def test_changes_apply_field_by_field_and_a_conflict_waits_for_an_officer(field):
    _head, spouse = sorted(field.household.people.all(), key=lambda p: p.pk)
    # After the phone downloaded "99/1", the office corrects it to "99/9".
    registry.household_update(actor=field.ploy, household=field.household, house_no="99/9")
    submit(
        field,
        base={"household": {"house_no": "99/1"}, "members": {spouse.ref: {"status": "member"}}},
        changes={"household": {"house_no": "99/2"}, "members": {spouse.ref: {"status": "moved_out"}}},
    )
    field.household.refresh_from_db()
    spouse.refresh_from_db()
    assert field.household.house_no == "99/9"  # not overwritten
    assert spouse.status == PersonStatus.MOVED_OUT  # no conflict there: applied
    c = Conflict.objects.get()
    assert (c.field, c.base_value, c.server_value, c.device_value) == ("house_no", "99/1", "99/9", "99/2")
    assert list(selectors.conflicts_open(field.somchai)) == []
    assert list(selectors.conflicts_open(field.ploy)) == [c]
    services.conflict_resolve(actor=field.ploy, conflict=c, take="device", note="checked on the phone photo")
    field.household.refresh_from_db()
    assert field.household.house_no == "99/2"
    assert Conflict.objects.get().status == ConflictStatus.TOOK_DEVICE


def test_the_questionnaire_becomes_an_assessment(field):
    v, _ = submit(
        field,
        # Half of the physical items answered, all at 0 points → 0 % → score 1.0.
        answers={
            "capitals": {"p_tenure": "none", "p_house_condition": "poor", "p_electricity": "none", "p_water": "no"}
        },
    )
    assert v.assessment is not None
    assert v.assessment.round == "2568" and v.assessment.method == "field"
    assert v.assessment.results.get(current=True).physical == pytest.approx(1.0)


def test_phone_api_download_submit_twice_and_scoping(field):
    c = Client()
    c.force_login(field.vee)
    bundle = c.post("/api/v1/fieldwork/download").json()
    assert [h["code"] for h in bundle["households"]] == [field.household.code]
    assert Assignment.objects.get(campaign=field.campaign).status == "downloaded"
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = c.post(
        "/api/v1/fieldwork/photos",
        {"key": "p9", "household": field.household.code, "file": SimpleUploadedFile("a.jpg", jpeg())},
    )
    assert r.status_code == 201
    r = c.post(
        "/api/v1/fieldwork/photos",
        {"key": "p9", "household": field.household.code, "file": SimpleUploadedFile("a.jpg", jpeg())},
    )
    assert r.status_code == 200 and r.json()["duplicate"] is True
    body = {
        "key": "s-1",
        "household": field.household.code,
        "campaign": field.campaign.code,
        "photos": ["p9"],
        **payload(field),
    }
    r1 = c.post("/api/v1/fieldwork/submissions", json.dumps(body), content_type="application/json")
    r2 = c.post("/api/v1/fieldwork/submissions", json.dumps(body), content_type="application/json")
    assert r1.status_code == 201 and r2.status_code == 200 and r2.json()["duplicate"] is True
    assert Verification.objects.count() == 1 and Photo.objects.count() == 1
    bad = {**body, "key": "s-2", "outcome": "maybe"}
    r = c.post("/api/v1/fieldwork/submissions", json.dumps(bad), content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"
    c.force_login(field.somchai)
    r = c.post("/api/v1/fieldwork/submissions", json.dumps({**body, "key": "s-3"}), content_type="application/json")
    assert r.status_code == 404
    assert "บุญมี" not in r.content.decode()


def test_desk_verification_and_the_household_page(field):
    c = Client()
    c.force_login(field.ploy)
    url = f"/fieldwork/households/{field.household.code}/verify/"
    assert "ยืนยันว่ายากจน" in c.get(url).content.decode()
    r = c.post(
        url,
        {
            "v-outcome": "not_poor",
            "v-verified_on": "1/6/2568",
            "v-notes": "มีรายได้พอ",
            "cap__p_tenure": "own_house_land",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    v = Verification.objects.get()
    assert v.method == "desk" and v.outcome == "not_poor" and v.assessment is not None
    page = c.get(f"/households/{field.household.code}/").content.decode()
    assert "ไม่ยากจน" in page and "มีรายได้พอ" in page
    c.force_login(field.somchai)
    assert c.get(url).status_code == 404
    assert c.get(f"/fieldwork/verifications/{v.ref}/").status_code == 404


def test_campaign_pages_show_progress(field):
    submit(field)
    c = Client()
    c.force_login(field.dara)
    page = c.get(f"/fieldwork/c/{field.campaign.code}/").content.decode()
    assert "46010101" in page and "ยืนยันว่ายากจน" in page
    r = c.post("/fieldwork/new/", {"name": "รอบใหม่", "area": "4601", "round": "2569", "selection": "listed_unverified"})
    assert r.status_code == 302
    c.force_login(field.somchai)
    assert c.get(f"/fieldwork/c/{field.campaign.code}/").status_code == 404
