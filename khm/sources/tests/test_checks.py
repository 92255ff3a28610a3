"""Household composition checks: each check finds its constructed case and leaves a normal
household alone; re-running files nothing twice; the queue is scoped; deciding is audited."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from khm.audit.models import AuditEvent
from khm.registry.models import Household, Membership, MembershipEvent, Person, new_code
from khm.sources import checks
from khm.sources.models import (
    BatchStatus,
    CompositionFlag,
    FlagKind,
    FlagStatus,
    ImportBatch,
    MappingProfile,
    RowOutcome,
    Source,
    StagedRow,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 25)
ZERO = dict.fromkeys(FlagKind.values, 0)


def household(cast: Any, village: str, house_no: str, *members: tuple[str, str, dt.date | None, str]) -> Household:
    """A household with members (first name, last name, birth date, relation), written
    directly: the checks exist because real data arrives like this."""
    hh = Household.objects.create(
        code=new_code("HH"), village=cast.areas[village], area_code=village, house_no=house_no
    )
    for first, last, birth, relation in members:
        p = Person.objects.create(
            ref=new_code("P", 10), household=hh, first_name=first, last_name=last, sex="F", birth_date=birth,
            relation=relation,
        )  # fmt: skip
        Membership.objects.create(person=p, household=hh, relation=relation, start_event=MembershipEvent.REGISTERED)
    return hh


def flags(kind: str | None = None) -> list[CompositionFlag]:
    qs = CompositionFlag.objects.all()
    return list(qs.filter(kind=kind) if kind else qs)


def no_flag_on_memorable(cast: Any) -> bool:
    return not CompositionFlag.objects.filter(household=cast.household).exists()


def test_a_clean_registry_has_no_flags(cast):
    assert checks.run_checks(today=TODAY) == ZERO
    assert flags() == []


def test_shared_address_of_one_person_households(cast):
    a = household(cast, "46010102", "12", ("กานดา", "หนึ่ง", dt.date(1970, 1, 1), "head"))
    b = household(cast, "46010102", " ๑๒ ", ("ขวัญ", "สอง", dt.date(1971, 1, 1), "head"))
    household(cast, "46010102", "12/1", ("คำ", "สาม", dt.date(1972, 1, 1), "head"))  # another house
    household(cast, "46010101", "12", ("งาม", "สี่", dt.date(1973, 1, 1), "head"))  # another village
    household(cast, "46010102", "-", ("จันทร์", "ห้า", dt.date(1974, 1, 1), "head"))  # no house number:
    household(cast, "46010102", "-", ("ฉวี", "หก", dt.date(1975, 1, 1), "head"))  # not an address
    counts = checks.run_checks(today=TODAY)
    assert counts[FlagKind.SHARED_ADDRESS] == 1
    [flag] = flags(FlagKind.SHARED_ADDRESS)
    assert {flag.household_id, flag.other_household_id} == {a.pk, b.pk}
    assert flag.area_code == "46010102"
    assert flag.details == {"reason": "shared_address", "count": 2, "households": [a.code, b.code]}
    assert no_flag_on_memorable(cast)


def test_person_with_two_open_memberships(cast):
    other = household(cast, "46010102", "5", ("ดวง", "ดี", dt.date(1980, 1, 1), "head"))
    Membership.objects.create(person=cast.head, household=other, relation="other", start_event=MembershipEvent.MOVED_IN)
    # A membership that has ended is history, not a second household.
    gone = household(cast, "46010102", "6", ("เดือน", "ดี", dt.date(1981, 1, 1), "head"))
    Membership.objects.create(
        person=cast.household.people.get(relation="spouse"), household=gone, relation="other",
        start_event=MembershipEvent.MOVED_IN, ended_on=dt.date(2020, 1, 1), end_event=MembershipEvent.MOVED_OUT,
    )  # fmt: skip
    assert checks.run_checks(today=TODAY)[FlagKind.TWO_HOUSEHOLDS] == 1
    [flag] = flags(FlagKind.TWO_HOUSEHOLDS)
    assert flag.person_id == cast.head.pk
    assert (flag.household_id, flag.other_household_id) == (cast.household.pk, other.pk)
    assert flag.area_code == "46010101"
    assert flag.details["reason"] == "open_memberships" and flag.details["count"] == 2


def test_same_person_in_two_households_of_one_subdistrict(cast):
    born = dt.date(1975, 3, 3)
    a = household(cast, "46010101", "20", ("สมศรี", "ดีใจ", born, "head"))
    b = household(cast, "46010102", "21", ("สมศรี", "ดีใจ", born, "head"))
    household(cast, "46010102", "22", ("สมศรี", "ดีใจ", dt.date(1976, 3, 3), "head"))  # other birth date
    household(cast, "46010201", "23", ("สมศรี", "ดีใจ", born, "head"))  # other subdistrict
    assert checks.run_checks(today=TODAY)[FlagKind.TWO_HOUSEHOLDS] == 1
    [flag] = flags(FlagKind.TWO_HOUSEHOLDS)
    first = a.people.get()
    assert (flag.person_id, flag.household_id, flag.other_household_id) == (first.pk, a.pk, b.pk)
    assert flag.details == {
        "reason": "same_person",
        "households": [a.code, b.code],
        "other_person": b.people.get().ref,
    }
    assert no_flag_on_memorable(cast)


def _round(cast: Any, kind: str, label: str, keys: dict[Person, str]) -> ImportBatch:
    profile, _ = MappingProfile.objects.get_or_create(name="t", defaults={"kind": kind, "fields": {}})
    source = Source.objects.create(code=f"{kind}-{label}", kind=kind, name_th=kind, round_label=label)
    batch = ImportBatch.objects.create(
        code=new_code("B"), source=source, profile=profile, file_name="x.csv", file_sha256=label, file_path="-",
        uploaded_by=cast.ploy, status=BatchStatus.COMMITTED,
    )  # fmt: skip
    for i, (person, key) in enumerate(keys.items(), start=2):
        StagedRow.objects.create(
            batch=batch, row_no=i, raw={}, clean={"household_key": key}, outcome=RowOutcome.MATCHED,
            area_code=person.household.area_code, person=person,
        )  # fmt: skip
    return batch


def test_households_split_and_merged_between_the_latest_two_rounds(cast):
    hh1 = household(cast, "46010101", "31", ("อา", "หนึ่ง", dt.date(1970, 1, 1), "head"),
                    ("บี", "หนึ่ง", dt.date(1972, 1, 1), "spouse"))  # fmt: skip
    hh2 = household(cast, "46010101", "32", ("ซี", "สอง", dt.date(1970, 1, 1), "head"))
    hh3 = household(cast, "46010101", "33", ("ดี", "สาม", dt.date(1970, 1, 1), "head"))
    a, b = hh1.people.order_by("pk")
    c, d = hh2.people.get(), hh3.people.get()
    e, f = cast.household.people.order_by("pk")  # the memorable household: unchanged between rounds
    # An older round with unrelated keys is not compared: only the latest two are.
    _round(cast, "tpmap", "2565", {a: "Z1", b: "Z2", c: "Z3", d: "Z3", e: "Z4", f: "Z5"})
    _round(cast, "tpmap", "2566", {a: "K1", b: "K1", c: "K2", d: "K3", e: "K4", f: "K4"})
    later = _round(cast, "tpmap", "2567", {a: "N1", b: "N2", c: "N3", d: "N3", e: "N4", f: "N4"})
    # A list with keys in one round only says nothing about households.
    _round(cast, "bmn", "2566", {a: "", b: "", c: "", d: ""})
    _round(cast, "bmn", "2567", {a: "M1", b: "M2", c: "M3", d: "M3"})
    counts = checks.run_checks(today=TODAY)
    assert (counts[FlagKind.HOUSEHOLD_SPLIT], counts[FlagKind.HOUSEHOLD_MERGED]) == (1, 1)
    [split] = flags(FlagKind.HOUSEHOLD_SPLIT)
    assert split.household_id == hh1.pk and split.batch_id == later.pk
    assert split.details == {
        "reason": "split", "source_kind": "tpmap", "old": "2566", "new": "2567", "people": 2, "groups": 2,
        "households": [hh1.code],
    }  # fmt: skip
    [merged] = flags(FlagKind.HOUSEHOLD_MERGED)
    assert {merged.household_id, merged.other_household_id} == {hh2.pk, hh3.pk}
    assert merged.details["people"] == 2 and merged.details["groups"] == 2
    with translation.override("en"):
        assert checks.describe(split) == (
            "In the TPMAP list, the 2 people of one household of round 2566 are in 2 households in round 2567."
        )
    assert no_flag_on_memorable(cast)


def test_implausible_ages(cast):
    hh = household(
        cast, "46010102", "40",
        ("หัว", "หน้า", dt.date(1980, 6, 1), "head"),
        ("ลูก", "แก่", dt.date(1979, 1, 1), "child"),  # older than the head
        ("พ่อ", "หนุ่ม", dt.date(1985, 1, 1), "parent"),  # younger than the head
        ("ปู่", "ทวด", dt.date(1900, 1, 1), "relative"),  # 126 years old
        ("ยัง", "ไม่เกิด", dt.date(2027, 1, 1), "grandchild"),  # born after today
        ("ลูก", "เล็ก", dt.date(2010, 1, 1), "child"),  # plausible
        ("แม่", "แท้", dt.date(1955, 1, 1), "parent"),  # plausible: 25 years older
    )  # fmt: skip
    household(cast, "46010102", "41", ("เด็ก", "หัวหน้า", dt.date(2016, 1, 1), "head"))  # head aged 10
    checks.run_checks(today=TODAY)
    found = {
        (f.details["reason"], Person.objects.get(pk=f.person_id).first_name) for f in flags(FlagKind.IMPLAUSIBLE_AGE)
    }
    assert found == {
        ("child_older", "ลูก"),
        ("parent_young", "พ่อ"),
        ("over_max_age", "ปู่"),
        ("future_birth", "ยัง"),
        ("young_head", "เด็ก"),
    }
    child = CompositionFlag.objects.get(key__contains="child_older")
    assert child.household_id == hh.pk and child.details == {"reason": "child_older", "age": 47, "head_age": 46}
    with translation.override("en"):
        assert checks.describe(child) == (
            "Recorded as a child of the head but older than the head (child 47, head 46)."
        )
    assert no_flag_on_memorable(cast)


def test_implausible_relations(cast):
    two = household(cast, "46010102", "50", ("หนึ่ง", "หัว", dt.date(1970, 1, 1), "head"),
                    ("สอง", "หัว", dt.date(1972, 1, 1), "head"))  # fmt: skip
    none = household(cast, "46010102", "51", ("ไม่มี", "หัว", dt.date(1970, 1, 1), "spouse"),
                     ("ลูก", "คน", dt.date(2000, 1, 1), "child"))  # fmt: skip
    young = household(cast, "46010102", "52", ("สามี", "ใหญ่", dt.date(1990, 1, 1), "head"),
                      ("ภรรยา", "เด็ก", dt.date(2013, 1, 1), "spouse"))  # fmt: skip
    checks.run_checks(today=TODAY)
    found = {(f.details["reason"], f.household_id) for f in flags(FlagKind.IMPLAUSIBLE_RELATION)}
    assert found == {("many_heads", two.pk), ("no_head", none.pk), ("young_spouse", young.pk)}
    assert CompositionFlag.objects.get(key__contains="young_spouse").person_id == young.people.get(relation="spouse").pk
    assert no_flag_on_memorable(cast)


def test_rerunning_files_nothing_twice_and_area_limits_the_run(cast):
    household(cast, "46010102", "60", ("หนึ่ง", "หัว", dt.date(1970, 1, 1), "head"),
              ("สอง", "หัว", dt.date(1972, 1, 1), "head"))  # fmt: skip
    other = household(cast, "46050101", "61", ("ไม่มี", "หัว", dt.date(1970, 1, 1), "spouse"))
    assert checks.run_checks(area_codes=["4605"], today=TODAY)[FlagKind.IMPLAUSIBLE_RELATION] == 1
    assert [f.household_id for f in flags()] == [other.pk]
    first = checks.run_checks(today=TODAY)
    assert first[FlagKind.IMPLAUSIBLE_RELATION] == 1  # the one in 4601; 4605's is already filed
    assert checks.run_checks(today=TODAY) == ZERO
    assert len(flags()) == 2
    # A dismissed flag stays dismissed: the same case is not filed again.
    CompositionFlag.objects.update(status=FlagStatus.DISMISSED)
    assert checks.run_checks(today=TODAY) == ZERO
    with pytest.raises(ValidationError):
        checks.run_checks(area_codes=["46x"])


def test_the_command_prints_counts_per_kind(cast):
    household(cast, "46010102", "70", ("ไม่มี", "หัว", dt.date(1970, 1, 1), "spouse"))
    out = io.StringIO()
    call_command("check_households", "--area", "4601", stdout=out)
    text = out.getvalue()
    assert "implausible_relation" in text and "shared_address" in text
    line = next(x for x in text.splitlines() if x.startswith("implausible_relation"))
    assert line.split()[1] == "1"
    assert "ไม่มี" not in text


@pytest.fixture
def two_areas(cast):
    """A flag in Ploy's village and one in Somchai's."""
    mine = household(cast, "46010101", "80", ("มณี", "เด็กหัว", dt.date(2016, 1, 1), "head"))
    theirs = household(cast, "46050101", "81", ("ทองดี", "เด็กหัว", dt.date(2015, 1, 1), "head"))
    checks.run_checks(today=TODAY)
    return (
        CompositionFlag.objects.get(household=mine),
        CompositionFlag.objects.get(household=theirs),
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_queue_shows_the_flag_to_an_officer_of_the_area(cast, two_areas):
    mine, theirs = two_areas
    r = _client(cast.ploy).get("/imports/checks/")
    assert r.status_code == 200
    body = r.content.decode()
    assert mine.household.code in body and f"/households/{mine.household.code}/" in body
    assert "มณี" in body  # the flagged person's name: the reviewer may see it
    assert checks.describe(mine) in body
    assert f"/imports/checks/{mine.pk}/decide/" in body
    assert theirs.household.code not in body and "ทองดี" not in body
    # Dara, district officer above Ploy, sees it too; Somchai, another district, does not.
    assert mine.household.code in _client(cast.dara).get("/imports/checks/").content.decode()
    body = _client(cast.somchai).get("/imports/checks/").content.decode()
    assert mine.household.code not in body and "มณี" not in body
    assert theirs.household.code in body
    # One kind at a time.
    body = _client(cast.ploy).get("/imports/checks/", {"kind": FlagKind.HOUSEHOLD_SPLIT}).content.decode()
    assert mine.household.code not in body


def test_roles_without_import_rights_get_no_queue(cast, two_areas):
    for user in (cast.vee, cast.agency, cast.analyst, cast.nobody):
        assert _client(user).get("/imports/checks/").status_code == 403


def test_another_areas_flag_answers_404_and_stays_pending(cast, two_areas):
    mine, _theirs = two_areas
    r = _client(cast.somchai).post(f"/imports/checks/{mine.pk}/decide/", {"status": "dismissed"})
    assert r.status_code == 404
    mine.refresh_from_db()
    assert mine.status == FlagStatus.PENDING
    with pytest.raises(PermissionDenied):
        checks.decide_flag(actor=cast.somchai, flag=mine, status=FlagStatus.DISMISSED)


def test_deciding_is_audited_without_personal_data(cast, two_areas):
    mine, _theirs = two_areas
    client = _client(cast.ploy)
    r = client.post(f"/imports/checks/{mine.pk}/decide/", {"status": "confirmed", "note": "มณี อายุไม่ถูก"})
    assert r.status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.decided_by, mine.note) == (FlagStatus.CONFIRMED, cast.ploy, "มณี อายุไม่ถูก")
    event = AuditEvent.objects.get(action="composition_flag.update")
    assert (event.actor, event.area_code, event.object_ref) == (cast.ploy, "46010101", str(mine.pk))
    assert event.changes["status"] == ["pending", "confirmed"]
    assert "มณี" not in f"{event.changes} {event.note}"
    # Decided once only; the page no longer lists it.
    with pytest.raises(ValidationError) as exc:
        checks.decide_flag(actor=cast.ploy, flag=mine, status=FlagStatus.DISMISSED)
    assert exc.value.message_dict["status"] == [str(checks.FLAG_DONE)]
    assert f"/imports/checks/{mine.pk}/decide/" not in client.get("/imports/checks/").content.decode()
    with pytest.raises(ValidationError):
        checks.decide_flag(actor=cast.ploy, flag=mine, status="maybe")


def test_deciding_with_htmx_answers_the_card_only(cast, two_areas):
    mine, _theirs = two_areas
    r = _client(cast.dara).post(f"/imports/checks/{mine.pk}/decide/", {"status": "dismissed"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert f'id="flag-{mine.pk}"' in body and "<html" not in body
    mine.refresh_from_db()
    assert mine.status == FlagStatus.DISMISSED


def test_the_run_is_audited_with_counts_only(cast, two_areas):
    event = AuditEvent.objects.filter(action="composition_flag.create").latest("id")
    assert event.changes["new_flags"][FlagKind.IMPLAUSIBLE_AGE] == 2
    assert "มณี" not in str(event.changes)
