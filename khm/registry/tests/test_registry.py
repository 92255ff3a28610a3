from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import translation

from khm.audit.models import AuditError, AuditEvent
from khm.registry import errors, selectors, services
from khm.registry.models import Household, Person

pytestmark = pytest.mark.django_db


def test_national_id_is_encrypted_at_rest_and_masked_on_screen(cast):
    with connection.cursor() as cur:
        cur.execute("SELECT national_id_enc, national_id_hash FROM registry_person WHERE id = %s", [cast.head.pk])
        enc, digest = cur.fetchone()
    assert cast.head_nid not in enc and cast.head_nid not in digest
    c = Client()
    c.force_login(cast.vee)  # volunteers see masked IDs only
    html = c.get(f"/households/{cast.household.code}/").content.decode()
    assert "3-4601-xxxxx-xx-8" in html and cast.head_nid not in html and "00123" not in html


def test_reveal_full_id_is_audited(cast):
    c = Client()
    c.force_login(cast.ploy)
    r = c.post(f"/households/{cast.household.code}/people/{cast.head.ref}/national-id/")
    assert "3-4601-00123-45-8" in r.content.decode()
    assert AuditEvent.objects.filter(action="person.reveal_id", actor=cast.ploy, object_ref=cast.head.ref).exists()


def test_viewing_a_household_is_audited(cast):
    c = Client()
    c.force_login(cast.dara)
    c.get(f"/households/{cast.household.code}/")
    e = AuditEvent.objects.get(action="household.view", actor=cast.dara)
    assert e.area_code == "46010101" and e.object_ref == cast.household.code


def test_every_write_has_its_audit_event_with_old_and_new_values(cast):
    services.person_update(actor=cast.ploy, person=cast.head, income_year=36000)
    e = AuditEvent.objects.filter(action="person.update", object_ref=cast.head.ref).latest("id")
    assert e.changes == {"income_year": [24000, 36000]}
    assert e.actor == cast.ploy and e.area_code == "46010101"


def test_audit_is_append_only(cast):
    e = AuditEvent.objects.first()
    e.note = "tampered"
    with pytest.raises(AuditError):
        e.save()
    with pytest.raises(AuditError):
        e.delete()
    with pytest.raises(AuditError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditError):
        AuditEvent.objects.update(note="x")


def test_failed_write_leaves_no_audit_and_no_change(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.person_create(
            actor=cast.ploy, household=cast.household, national_id="3460100123458",
            first_name="ซ้ำ", last_name="ซ้อน", sex="M", relation="child",
        )  # fmt: skip
    assert AuditEvent.objects.count() == before
    assert cast.household.people.count() == 2


@pytest.mark.parametrize(
    ("nid", "message"),
    [("12345", errors.NID_FORMAT), ("3460100123459", errors.NID_CHECKSUM), ("3460100123458", errors.NID_DUPLICATE)],
)
def test_person_form_names_the_field_in_thai_and_english(cast, nid, message):
    c = Client()
    c.force_login(cast.ploy)
    data = {
        "national_id": nid,
        "first_name": "ทดสอบ",
        "last_name": "ระบบ",
        "sex": "M",
        "relation": "child",
        "birth_date": "1/1/2550",
    }
    html_th = c.post(f"/households/{cast.household.code}/people/new/", data).content.decode()
    with translation.override("th"):
        assert str(message) in html_th
    c.post("/i18n/setlang/", {"language": "en"})
    html_en = c.post(f"/households/{cast.household.code}/people/new/", data).content.decode()
    with translation.override("en"):
        assert f"National ID: {message}" in html_en
    assert cast.household.people.count() == 2


def test_birth_date_in_buddhist_era_is_stored_as_a_date_and_shown_back(cast):
    c = Client()
    c.force_login(cast.ploy)
    data = {
        "national_id": "",
        "first_name": "ใหม่",
        "last_name": "ศรีสุข",
        "sex": "F",
        "relation": "grandchild",
        "birth_date": "๑๕/๐๖/๒๕๖๕",
    }
    assert c.post(f"/households/{cast.household.code}/people/new/", data).status_code == 302
    p = Person.objects.get(first_name="ใหม่")
    assert p.birth_date == dt.date(2022, 6, 15)
    assert "15 มิ.ย. 2565" in c.get(f"/households/{cast.household.code}/").content.decode()
    bad = c.post(
        f"/households/{cast.household.code}/people/new/", data | {"first_name": "อนาคต", "birth_date": "1/1/2600"}
    )
    with translation.override("th"):
        assert str(errors.DATE_FUTURE) in bad.content.decode()


def test_only_one_head_per_household(cast):
    with pytest.raises(ValidationError) as e:
        services.person_create(
            actor=cast.ploy,
            household=cast.household,
            national_id=None,
            first_name="ก",
            last_name="ข",
            sex="M",
            relation="head",
        )
    assert e.value.message_dict["relation"] == [str(errors.HEAD_EXISTS)]


def test_member_leaving_keeps_history(cast):
    spouse = cast.household.people.get(relation="spouse")
    services.person_leave(actor=cast.ploy, person=spouse, event="died", on=dt.date(2026, 1, 5))
    spouse.refresh_from_db()
    assert spouse.status == "deceased"
    m = spouse.memberships.get()
    assert m.end_event == "died" and m.ended_on == dt.date(2026, 1, 5)


def test_transfer_is_a_recorded_act_and_moves_scope(cast):
    with pytest.raises(PermissionDenied):
        services.household_transfer(actor=cast.ploy, household=cast.household, village_code="46010201", reason="x")
    services.household_transfer(
        actor=cast.dara, household=cast.household, village_code="46010201", reason="ย้ายตามทะเบียนบ้าน"
    )
    e = AuditEvent.objects.get(action="household.transfer")
    assert e.changes == {"village": ["46010101", "46010201"]} and e.note == "ย้ายตามทะเบียนบ้าน"
    # Ploy's SAO does not own village 46010201: the household leaves her scope.
    assert not selectors.household_list(cast.ploy).rows


def test_services_refuse_writes_outside_the_actor_area(cast):
    with pytest.raises(PermissionDenied):
        services.household_create(actor=cast.somchai, village_code="46010101", house_no="1")
    with pytest.raises(PermissionDenied):
        services.household_update(actor=cast.somchai, household=cast.household, house_no="1")


def test_keyset_pages_cover_everything_once(cast):
    for i in range(1, 26):
        services.household_create(actor=cast.ploy, village_code="46010101" if i % 2 else "46010102", house_no=str(i))
    seen, after = [], None
    while True:
        page = selectors.household_list(cast.ploy, after=after, limit=7)
        seen += [h.code for h in page.rows]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert len(seen) == len(set(seen)) == 26
    assert set(seen) == set(Household.objects.filter(area_code__startswith="460101").values_list("code", flat=True))


def test_api_errors_name_the_field_in_thai_and_english(cast):
    c = Client()
    c.force_login(cast.ploy)
    r = c.post(
        f"/api/v1/households/{cast.household.code}/people",
        {"national_id": "3460100123459", "first_name": "ก", "last_name": "ข", "sex": "M", "relation": "child"},
        content_type="application/json",
    )
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "national_id"
    assert "check digit" in err["message_en"] and err["message_th"] != err["message_en"]
    r = c.post("/api/v1/households", {"village_code": "46050101", "house_no": "1"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "village_code"
    r = c.post("/api/v1/households", {"village_code": "46010101", "house_no": "บ้าน"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "house_no"


def test_audit_history_cannot_be_rewritten_with_raw_sql_on_postgresql(cast):
    from django.db import DatabaseError, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL; SQLite relies on the ORM guard")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET note = 'x'")


def test_timeline_tells_what_happened_in_words(cast):
    spouse = cast.household.people.get(relation="spouse")
    services.person_leave(
        actor=cast.ploy, person=spouse, event="moved_out", on=dt.date(2026, 3, 1), note="ไปทำงานกรุงเทพ"
    )
    c = Client()
    c.force_login(cast.ploy)
    html = c.get(f"/households/{cast.household.code}/").content.decode()
    with translation.override("th"):
        from khm.registry.timeline import ACTION_LABELS

        assert str(ACTION_LABELS["household.create"]) in html
        assert str(ACTION_LABELS["membership.moved_out"]) in html
    assert "ไปทำงานกรุงเทพ" in html and "1 มี.ค. 2569" in html


def test_common_name_prefix_search_pages_correctly(cast, monkeypatch):
    # Above the "common prefix" threshold the search switches strategy; results must agree.
    for i in range(12):
        hh = services.household_create(actor=cast.ploy, village_code="46010102", house_no=str(100 + i))
        services.person_create(
            actor=cast.ploy,
            household=hh,
            national_id=None,
            first_name=f"สุดา{i}",
            last_name="ทอง",
            sex="F",
            relation="head",
        )
    rare = {h.code for h in selectors.household_list(cast.ploy, query="สุดา", limit=100).rows}
    monkeypatch.setattr(selectors, "COMMON_PREFIX", 5)
    seen, after = [], None
    while True:
        page = selectors.household_list(cast.ploy, query="สุดา", limit=5, after=after)
        seen += [h.code for h in page.rows]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert len(rare) == 12 and seen == sorted(seen, key=lambda c: (Household.objects.get(code=c).area_code, c))
    assert set(seen) == rare and len(seen) == 12
