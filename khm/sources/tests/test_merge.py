"""Merging two registry records of one person and splitting them again, through the real
import pipeline, services and pages (issue 3, point 4)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import translation

from khm.audit.models import AuditEvent
from khm.registry import services as registry_services
from khm.registry.models import Membership, Person
from khm.sources import merge, services
from khm.sources.models import MappingProfile, PersonMerge, PersonSource, ReviewStatus, RowOutcome, Source
from khm.sources.profiles import install_profiles

pytestmark = pytest.mark.django_db

HEADER = "record_id,เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,เพศ,วันเกิด,บ้านเลขที่,หมู่,ตำบล,อำเภอ,จังหวัด,รหัสตำบล"
DUP_NID = "1460100000015"  # valid check digit
PLACE = "กาฬสินธุ์,เมือง,กาฬสินธุ์,460101"
# The lists link by national ID (a deterministic rule): the head, and the duplicate record.
TPMAP_ROWS = [
    f"T1,3460100123458,นาย,บุญมี,ศรีสุข,ชาย,13/04/2503,99/1,1,{PLACE}",
    f"T2,{DUP_NID},นาง,คำปุน,ศรีสุก,หญิง,03/01/2506,5,2,{PLACE}",
]
KHM_ID_ROWS = [f"K2,{DUP_NID},นาง,คำปุน,ศรีสุก,หญิง,03/01/2506,5,2,{PLACE}"]
# The spouse without an ID: the test makes it an uncertain match that a reviewer decides.
KHM_NO_ID_ROWS = [f"K1,,นาง,คำปุน,ศรีสุข,หญิง,02/01/2506,99/1,1,{PLACE}"]


def _import(cast, source, rows, name, *, uncertain_for=None):
    profile = MappingProfile.objects.get(kind="tpmap")
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")
    batch = services.batch_upload(actor=cast.ploy, source=source, profile=profile, file_name=name, content=content)
    batch = services.batch_stage(actor=cast.ploy, batch=batch)
    assert batch.status == "preview", batch.error
    if uncertain_for is not None:
        # Whatever the linkage model made of this row, make it the uncertain match the
        # review queue shows, so the real review service decides it.
        batch.rows.update(
            outcome=RowOutcome.UNCERTAIN, person=uncertain_for, review=ReviewStatus.PENDING, duplicate_of=None
        )
    return services.batch_commit(actor=cast.ploy, batch=batch)


@pytest.fixture
def world(cast, tmp_path, settings):
    """The spouse คำปุน twice in the registry: the cast's record (no ID; on the KHM list
    because a reviewer said "same person") and a duplicate in another house of Ploy's area
    (with an ID, a misspelt surname and a birth-date typo; on TPMAP and on the KHM list)."""
    settings.KHM_IMPORT_DIR = str(tmp_path)
    install_profiles()
    hh = registry_services.household_create(actor=cast.ploy, village_code="46010102", house_no="5")
    duplicate = registry_services.person_create(
        actor=cast.ploy, household=hh, national_id=DUP_NID, title="นาง", first_name="คำปุน", last_name="ศรีสุก",
        sex="F", birth_date=dt.date(1963, 1, 3), relation="head",
    )  # fmt: skip
    spouse = Person.objects.get(household=cast.household, first_name="คำปุน")
    tpmap = Source.objects.create(code="tpmap-2566", kind="tpmap", name_th="TPMAP", round_label="2566")
    khm = Source.objects.create(code="khm-2566", kind="khm", name_th="KHM", round_label="2566")
    b1 = _import(cast, tpmap, TPMAP_ROWS, "tpmap.csv")
    b2 = _import(cast, khm, KHM_ID_ROWS, "khm-a.csv")
    b3 = _import(cast, khm, KHM_NO_ID_ROWS, "khm-b.csv", uncertain_for=spouse)
    row = b3.rows.get(row_no=2)
    services.review_decide(actor=cast.ploy, row=row, same=True)
    row.refresh_from_db()
    assert row.review == ReviewStatus.SAME and row.person_id == spouse.pk
    return {
        "spouse": spouse,
        "duplicate": duplicate,
        "tpmap": tpmap,
        "khm": khm,
        "b1": b1,
        "b2": b2,
        "b3": b3,
        "row": row,
    }


def lists(person):
    return set(PersonSource.objects.filter(person=person).values_list("source__code", "batch__code", "row_no"))


def state(person):
    """What a user can see of a record: lists, national ID, status, current household."""
    p = Person.objects.get(pk=person.pk)
    open_stays = set(Membership.objects.filter(person=p, end_event="").values_list("household__code", "relation"))
    return {"lists": lists(p), "nid": p.national_id(), "status": p.status, "stays": open_stays}


def en_client(user):
    c = Client()
    c.force_login(user)
    c.cookies["django_language"] = "en"
    return c


# --- services ---------------------------------------------------------------------------


def test_merge_moves_lists_and_id_to_the_kept_record_and_ends_the_membership(cast, world):
    spouse, dup, b1, b2, b3 = world["spouse"], world["duplicate"], world["b1"], world["b2"], world["b3"]
    assert lists(spouse) == {("khm-2566", b3.code, 2)}
    assert lists(dup) == {("tpmap-2566", b1.code, 3), ("khm-2566", b2.code, 2)}

    m = merge.merge_people(actor=cast.ploy, survivor=spouse, absorbed=dup, reason="same woman, birth date typo")

    # The kept record is now on both lists (its own KHM entry stays; TPMAP came over) and has
    # the ID only the duplicate had; the duplicate is on no list, has no ID, and is merged.
    assert lists(spouse) == {("khm-2566", b3.code, 2), ("tpmap-2566", b1.code, 3)}
    assert Person.objects.get(pk=spouse.pk).national_id() == DUP_NID
    dup.refresh_from_db()
    assert lists(dup) == set() and dup.national_id() == "" and dup.status == "merged"
    stay = Membership.objects.get(person=dup)
    assert stay.end_event == "merged" and stay.ended_on is not None
    # What a split needs is recorded: the KHM entry of the duplicate could not move (the
    # kept record is already on that list), so it is kept in ``moved``.
    assert m.moved["kept"] == [{"source": world["khm"].pk, "batch": b2.pk, "row_no": 2}]
    assert m.moved["status"] == "member" and m.moved["national_id"] == "to_survivor"
    assert m.area_code == "46010101" and m.merged_by == cast.ploy
    # Audited on both records, with refs and codes only: no names, no national ID.
    events = AuditEvent.objects.filter(action="person.merge")
    assert set(events.values_list("object_ref", flat=True)) == {spouse.ref, dup.ref}
    dumped = json.dumps([e.changes for e in events], ensure_ascii=False)
    assert dup.ref in dumped and "คำปุน" not in dumped and DUP_NID not in dumped


def test_split_puts_back_exactly_what_the_merge_moved(cast, world):
    spouse, dup = world["spouse"], world["duplicate"]
    before = {"spouse": state(spouse), "dup": state(dup)}
    m = merge.merge_people(actor=cast.ploy, survivor=spouse, absorbed=dup, reason="looked alike")
    assert state(dup) != before["dup"]

    m = merge.split_merge(actor=cast.dara, merge=m, reason="two sisters with the same name")

    assert {"spouse": state(spouse), "dup": state(dup)} == before
    # History is kept: the stay ended by the merge stays ended; a new one starts with "split".
    stays = list(Membership.objects.filter(person=dup).order_by("pk").values_list("start_event", "end_event"))
    assert stays == [("registered", "merged"), ("split", "")]
    m.refresh_from_db()
    assert m.undone_by == cast.dara and m.undone_at is not None and m.undo_reason == "two sisters with the same name"
    assert AuditEvent.objects.filter(action="person.split", actor=cast.dara).count() == 2


def test_a_split_merge_cannot_be_split_again(cast, world):
    m = merge.merge_people(actor=cast.ploy, survivor=world["spouse"], absorbed=world["duplicate"], reason="x")
    merge.split_merge(actor=cast.ploy, merge=m, reason="wrong")
    with pytest.raises(ValidationError) as exc:
        merge.split_merge(actor=cast.ploy, merge=m, reason="again")
    assert str(merge.ALREADY_SPLIT) in exc.value.messages
    assert Membership.objects.filter(person=world["duplicate"], start_event="split").count() == 1


def test_merge_refuses_bad_requests_and_changes_nothing(cast, world):
    spouse, dup = world["spouse"], world["duplicate"]
    before = (state(spouse), state(dup))

    def refused(exc_type, **kw):
        args = {"actor": cast.ploy, "survivor": spouse, "absorbed": dup, "reason": "r"} | kw
        with pytest.raises(exc_type) as exc:
            merge.merge_people(**args)
        return exc.value

    assert str(merge.SAME_RECORD) in refused(ValidationError, absorbed=spouse).messages
    assert str(merge.REASON_REQUIRED) in refused(ValidationError, reason="  ").messages
    # Another district's officer, a volunteer (no import right) and someone whose role ended.
    for outsider in (cast.somchai, cast.vee, cast.expired):
        refused(PermissionDenied, actor=outsider)
    # Ploy cannot pull a person of Somchai's district into her records.
    other = cast.other_household.people.get()
    refused(PermissionDenied, absorbed=other)
    assert (state(spouse), state(dup)) == before
    assert not PersonMerge.objects.exists()

    merge.merge_people(actor=cast.ploy, survivor=spouse, absorbed=dup, reason="r")
    assert str(merge.ALREADY_MERGED) in refused(ValidationError, survivor=cast.head).messages
    assert str(merge.ALREADY_MERGED) in refused(ValidationError, survivor=dup, absorbed=cast.head).messages


def test_split_out_of_area_is_refused(cast, world):
    m = merge.merge_people(actor=cast.ploy, survivor=world["spouse"], absorbed=world["duplicate"], reason="r")
    with pytest.raises(PermissionDenied):
        merge.split_merge(actor=cast.somchai, merge=m, reason="not mine")
    m.refresh_from_db()
    assert m.undone_at is None and Person.objects.get(pk=world["duplicate"].pk).status == "merged"


def test_a_chain_of_merges_splits_last_first(cast, world):
    spouse, dup, head = world["spouse"], world["duplicate"], cast.head
    first = merge.merge_people(actor=cast.ploy, survivor=spouse, absorbed=dup, reason="one")
    second = merge.merge_people(actor=cast.ploy, survivor=head, absorbed=spouse, reason="two")
    with pytest.raises(ValidationError) as exc:
        merge.split_merge(actor=cast.ploy, merge=first, reason="undo one")
    assert str(merge.SURVIVOR_MERGED) in exc.value.messages
    merge.split_merge(actor=cast.ploy, merge=second, reason="undo two")
    merge.split_merge(actor=cast.ploy, merge=first, reason="undo one")
    assert state(dup)["lists"] == {("tpmap-2566", world["b1"].code, 3), ("khm-2566", world["b2"].code, 2)}
    assert state(spouse)["lists"] == {("khm-2566", world["b3"].code, 2)}
    assert state(head)["nid"] == cast.head_nid and state(dup)["nid"] == DUP_NID


def test_split_review_takes_the_row_off_the_candidate_and_registers_it(cast, world):
    spouse, row = world["spouse"], world["row"]
    people = Person.objects.count()

    m = merge.split_review(actor=cast.dara, row=row, reason="the list means her sister-in-law")

    assert lists(spouse) == set()  # the KHM entry of row 2 is no longer on her
    row.refresh_from_db()
    assert row.review == ReviewStatus.DIFFERENT and row.person_id not in (None, spouse.pk)
    new = row.person
    assert Person.objects.count() == people + 1
    assert (new.first_name, new.household.area_code, new.status) == ("คำปุน", "46010101", "member")
    assert lists(new) == {("khm-2566", world["b3"].code, 2)}
    # Kept as history: the original decision (who said "same person") and its correction.
    assert (m.survivor, m.absorbed, m.staged_row) == (spouse, new, row)
    assert m.merged_by == cast.ploy and m.undone_by == cast.dara and m.moved["kind"] == "review"
    assert AuditEvent.objects.filter(action="review.update", actor=cast.dara, object_ref__endswith=":2").exists()
    with pytest.raises(ValidationError) as exc:
        merge.split_review(actor=cast.dara, row=row, reason="again")
    assert str(merge.REVIEW_NOT_SAME) in exc.value.messages
    with pytest.raises(ValidationError):
        merge.split_merge(actor=cast.dara, merge=m, reason="again")


def test_split_review_out_of_area_is_refused(cast, world):
    with pytest.raises(PermissionDenied):
        merge.split_review(actor=cast.somchai, row=world["row"], reason="x")
    world["row"].refresh_from_db()
    assert world["row"].review == ReviewStatus.SAME and lists(world["spouse"]) != set()


# --- pages ------------------------------------------------------------------------------


def test_merge_through_the_pages(cast, world):
    spouse, dup = world["spouse"], world["duplicate"]
    c = en_client(cast.ploy)
    # Start from a household: its records are offered; a search (by POST) finds the other.
    page = c.get(f"/imports/merges/new/?household={cast.household.code}").content.decode()
    assert f'value="{spouse.ref}"' in page and f'value="{cast.head.ref}"' in page
    page = c.post(f"/imports/merges/new/?household={cast.household.code}", {"q": "คำปุน ศรี"}).content.decode()
    assert f'value="{dup.ref}"' in page
    # Side by side: the differing birth date is highlighted, the national ID only masked.
    r = c.post("/imports/merges/compare/", {"ref": [spouse.ref, dup.ref]})
    html = r.content.decode()
    assert r.status_code == 200 and '<tr class="differs"><th>Birth date</th>' in html
    assert DUP_NID not in html and "1-4601-xxxxx-xx-5" in html
    assert AuditEvent.objects.filter(action="merge.compare", object_ref=f"{spouse.ref}+{dup.ref}").exists()
    # No reason: refused on the page, nothing merged.
    data = {"ref": [spouse.ref, dup.ref], "survivor": spouse.ref, "reason": "", "confirm": "1"}
    html = c.post("/imports/merges/compare/", data).content.decode()
    with translation.override("en"):
        assert str(merge.REASON_REQUIRED) in html
    assert not PersonMerge.objects.exists()
    r = c.post("/imports/merges/compare/", data | {"reason": "same ID card seen at the visit"})
    assert r.status_code == 302 and r["Location"] == "/imports/merges/"
    m = PersonMerge.objects.get()
    assert (m.survivor, m.absorbed, m.reason) == (spouse, dup, "same ID card seen at the visit")
    listing = c.get("/imports/merges/").content.decode()
    assert "same ID card seen at the visit" in listing and f"/imports/merges/{m.pk}/split/" in listing


def test_split_through_the_page_needs_a_reason(cast, world):
    m = merge.merge_people(actor=cast.ploy, survivor=world["spouse"], absorbed=world["duplicate"], reason="r")
    c = en_client(cast.ploy)
    r = c.post(f"/imports/merges/{m.pk}/split/", {"reason": ""}, follow=True)
    with translation.override("en"):
        assert str(merge.REASON_REQUIRED) in r.content.decode()
    m.refresh_from_db()
    assert m.undone_at is None
    c.post(f"/imports/merges/{m.pk}/split/", {"reason": "different mothers"})
    m.refresh_from_db()
    assert m.undo_reason == "different mothers" and Person.objects.get(pk=world["duplicate"].pk).status == "member"
    listing = c.get("/imports/merges/").content.decode()
    assert "Split again" in listing and f"/imports/merges/{m.pk}/split/" not in listing


def test_merged_person_is_no_longer_a_member_on_the_household_page(cast, world):
    spouse, dup = world["spouse"], world["duplicate"]
    c = en_client(cast.ploy)
    url = f"/households/{dup.household.code}/"
    edit = f"/households/{dup.household.code}/people/{dup.ref}/edit/"
    assert edit in c.get(url).content.decode()  # a current member can be edited
    merge.merge_people(actor=cast.ploy, survivor=spouse, absorbed=dup, reason="one person")
    html = c.get(url).content.decode()
    assert edit not in html  # no longer a member: struck through, not editable
    row = html.split(f'id="nid-{dup.ref}"')[0].rsplit("<tr", 1)[1]
    assert 'class="past"' in row
    assert "Merged into another record" in html


def test_household_page_shows_merge_and_split_history(cast, world):
    m = merge.merge_people(
        actor=cast.ploy, survivor=world["spouse"], absorbed=world["duplicate"], reason="typo in birth date"
    )
    merge.split_merge(actor=cast.dara, merge=m, reason="two people after all")
    html = en_client(cast.ploy).get(f"/households/{cast.household.code}/").content.decode()
    panel = html.split("Merged and split records")[1]
    assert "นางคำปุน ศรีสุก merged into นางคำปุน ศรีสุข" in panel and "split off again from" in panel
    assert "typo in birth date" in panel and "two people after all" in panel
    assert ">ploy<" in panel and ">dara<" in panel
    assert 'href="/imports/merges/"' in panel
    # A volunteer sees the history but gets no merge buttons (she may not merge).
    html = en_client(cast.vee).get(f"/households/{cast.household.code}/").content.decode()
    assert "typo in birth date" in html and "/imports/merges/" not in html


def test_review_split_through_the_page(cast, world):
    row = world["row"]
    c = en_client(cast.ploy)
    assert f"/imports/merges/review/{row.pk}/split/" in c.get("/imports/merges/").content.decode()
    assert en_client(cast.somchai).post(f"/imports/merges/review/{row.pk}/split/", {"reason": "x"}).status_code == 404
    c.post(f"/imports/merges/review/{row.pk}/split/", {"reason": "not her"})
    row.refresh_from_db()
    assert row.review == ReviewStatus.DIFFERENT
    listing = c.get("/imports/merges/").content.decode()
    assert "Review decision: same person" in listing and "not her" in listing
    assert f"/imports/merges/review/{row.pk}/split/" not in listing


def test_other_areas_get_404_and_roles_without_import_403(cast, world):
    spouse, dup = world["spouse"], world["duplicate"]
    m = merge.merge_people(actor=cast.ploy, survivor=spouse, absorbed=dup, reason="r")
    somchai = en_client(cast.somchai)
    # Another district's officer: the people and the merge answer like missing ones.
    assert somchai.post("/imports/merges/compare/", {"ref": [spouse.ref, dup.ref]}).status_code == 404
    assert somchai.post("/imports/merges/compare/", {"ref": [spouse.ref, "PNOSUCHREF"]}).status_code == 404
    assert somchai.post(f"/imports/merges/{m.pk}/split/", {"reason": "x"}).status_code == 404
    assert somchai.get(f"/imports/merges/new/?household={cast.household.code}").status_code == 404
    listing = somchai.get("/imports/merges/").content.decode()
    assert "คำปุน" not in listing and f"/imports/merges/{m.pk}/split/" not in listing
    page = somchai.post("/imports/merges/new/", {"q": "คำปุน"}).content.decode()
    assert spouse.ref not in page and dup.ref not in page
    # A volunteer may edit households but not merge records; nobody signed in goes to login.
    for url in ("/imports/merges/", "/imports/merges/new/"):
        assert en_client(cast.vee).get(url).status_code == 403
        assert Client().get(url).status_code == 302
    assert en_client(cast.vee).post(f"/imports/merges/{m.pk}/split/", {"reason": "x"}).status_code == 403
    m.refresh_from_db()
    assert m.undone_at is None
    # The district officer above Ploy sees and may split it.
    assert f"/imports/merges/{m.pk}/split/" in en_client(cast.dara).get("/imports/merges/").content.decode()
