"""Staged imports through the real pipeline: formats, encodings, validation, idempotency,
rollback and area scoping."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from openpyxl import Workbook, load_workbook

from khm.audit.models import AuditEvent
from khm.registry.models import Household, Person
from khm.sources import errors, services
from khm.sources.models import ImportBatch, MappingProfile, PersonSource, Source
from khm.sources.profiles import install_profiles

pytestmark = pytest.mark.django_db

TPMAP_HEADER = [
    "record_id",
    "เลขประจำตัวประชาชน",
    "คำนำหน้า",
    "ชื่อ",
    "นามสกุล",
    "เพศ",
    "วันเกิด",
    "บ้านเลขที่",
    "หมู่",
    "ตำบล",
    "อำเภอ",
    "จังหวัด",
    "รหัสตำบล",
]
GOOD = [
    [
        "T1",
        "3460100123458",
        "นาย",
        "บุญมี",
        "ศรีสุข",
        "ชาย",
        "13/04/2503",
        "99/1",
        "1",
        "กาฬสินธุ์",
        "เมือง",
        "กาฬสินธุ์",
        "460101",
    ],  # already in the registry
    [
        "T2",
        "1460100000015",
        "นาง",
        "มะลิ",
        "ดอกไม้",
        "หญิง",
        "๐๒/๐๓/๒๕๒๐",
        "12",
        "2",
        "กาฬสินธุ์",
        "เมือง",
        "กาฬสินธุ์",
        "460101",
    ],
    ["T3", "", "ด.ช.", "ต้นกล้า", "ดอกไม้", "", "01/06/2560", "12", "2", "กาฬสินธุ์", "เมือง", "กาฬสินธุ์", "460101"],
]
BAD = [
    ["T4", "1460100000016", "นาย", "ผิด", "เลข", "ชาย", "01/01/2500", "3", "1", "", "", "", "460101"],  # check digit
    ["T5", "12345", "นาย", "สั้น", "ไป", "ชาย", "01/01/2500", "3", "1", "", "", "", "460101"],  # too short
    ["T6", "", "นาย", "", "ไม่มีชื่อ", "ชาย", "01/01/2500", "3", "1", "", "", "", "460101"],  # no first name
    ["T7", "", "นาย", "วัน", "เกิดผิด", "ชาย", "31/02/2500", "3", "1", "", "", "", "460101"],  # no such date
    ["T8", "", "", "เพศ", "ไม่รู้", "?", "01/01/2500", "3", "1", "", "", "", "460101"],  # sex
    ["T9", "", "นาย", "พื้นที่", "ผิด", "ชาย", "01/01/2500", "3", "1", "", "", "", "999999"],  # unknown area
    ["T10", "", "นาย", "นอก", "เขต", "ชาย", "01/01/2500", "7", "1", "", "", "", "460501"],  # Somchai's village
]
# The same person as T2 again further down the file (same ID, surname mistyped).
DUP = [["T11", "1460100000015", "นาง", "มะลิ", "ดอกไม", "หญิง", "02/03/2520", "12", "2", "", "", "", "460101"]]


def csv_bytes(rows, encoding="cp874"):
    text = "\r\n".join(",".join(r) for r in [TPMAP_HEADER, *rows]) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows):
    wb = Workbook()
    ws = wb.active
    for r in [TPMAP_HEADER, *rows]:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes(rows):
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("tpmap")
    for i, r in enumerate([TPMAP_HEADER, *rows]):
        for j, v in enumerate(r):
            # Old exports store IDs and codes as numbers: they must keep every digit.
            ws.write(i, j, int(v) if i and v.isdigit() and len(v) >= 6 else v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def setup(cast, tmp_path, settings):
    from khm.accounts.models import Organisation, OrganisationKind

    settings.KHM_IMPORT_DIR = str(tmp_path)
    # The villages the test rows use must exist: the cast has 46010101/02 and 46050101.
    install_profiles()
    Organisation.objects.get_or_create(code="x", defaults={"kind": OrganisationKind.OTHER, "name_th": "x"})
    source = Source.objects.create(code="tpmap-2566", kind="tpmap", name_th="TPMAP", round_label="2566")
    return source, MappingProfile.objects.get(kind="tpmap")


def stage(cast, setup, content, name="tpmap.csv", actor=None):
    source, profile = setup
    batch = services.batch_upload(
        actor=actor or cast.ploy, source=source, profile=profile, file_name=name, content=content
    )
    return services.batch_stage(actor=actor or cast.ploy, batch=batch)


@pytest.mark.parametrize(("name", "content"), [
    ("tpmap.csv", csv_bytes(GOOD, "cp874")),
    ("tpmap-tis620.csv", csv_bytes(GOOD, "tis-620")),
    ("tpmap-utf8.csv", csv_bytes(GOOD, "utf-8-sig")),
    ("tpmap-plain-utf8.csv", csv_bytes(GOOD, "utf-8")),
    ("tpmap.xlsx", xlsx_bytes(GOOD)),
    ("tpmap.xls", xls_bytes(GOOD)),
])  # fmt: skip
def test_each_format_and_encoding_stages_the_same(cast, setup, name, content):
    batch = stage(cast, setup, content, name)
    assert batch.status == "preview", batch.error
    assert batch.counts == {"new": 2, "matched": 1, "uncertain": 0, "duplicate": 0, "rejected": 0, "rows": 3}
    rows = {r.clean["record_id"]: r for r in batch.rows.all()}
    assert rows["T2"].clean["first_name"] == "มะลิ" and rows["T2"].clean["birth_date"] == "1977-03-02"
    assert rows["T3"].clean["sex"] == "M"  # from the title ด.ช.
    assert rows["T1"].person_id == cast.head.pk


def test_each_validation_error_names_row_and_field_in_thai_and_english(cast, setup):
    batch = stage(cast, setup, csv_bytes(GOOD + BAD))
    assert batch.counts["rejected"] == len(BAD)
    by_id = {r.clean["record_id"]: r for r in batch.rows.all()}
    expected = {
        "T4": ("id_number", errors.NID_CHECKSUM), "T5": ("id_number", errors.NID_FORMAT),
        "T6": ("first_name", errors.NAME_REQUIRED), "T7": ("birth_date", errors.DATE_UNREADABLE),
        "T8": ("sex", errors.SEX_UNKNOWN), "T9": ("area_code", errors.AREA_UNKNOWN),
        "T10": ("area_code", errors.AREA_OUTSIDE),
    }  # fmt: skip
    from django.utils import translation

    for rid, (field, message) in expected.items():
        errs = by_id[rid].errors
        assert [e["field"] for e in errs] == [field], (rid, errs)
        with translation.override("en"):
            assert errs[0]["message_en"] == str(message)
        with translation.override("th"):
            assert errs[0]["message_th"] == str(message)
        assert errs[0]["message_th"] != errs[0]["message_en"]
    assert by_id["T4"].row_no == 5  # the spreadsheet row: header is row 1


def test_commit_writes_people_households_and_provenance_once(cast, setup):
    batch = stage(cast, setup, csv_bytes(GOOD + BAD + DUP))
    dup = batch.rows.get(clean__record_id="T11")
    assert dup.outcome == "duplicate" and dup.duplicate_of == 3 and dup.match_rule == "national_id"
    people_before = Person.objects.count()
    batch = services.batch_commit(actor=cast.ploy, batch=batch)
    assert batch.status == "committed"
    assert Person.objects.count() == people_before + 2
    new = Person.objects.get(first_name="มะลิ")
    assert new.household.area_code == "46010102" and new.national_id() == "1460100000015"
    assert Person.objects.get(first_name="ต้นกล้า").household_id == new.household_id  # same house 12, moo 2
    assert set(PersonSource.objects.filter(batch=batch).values_list("person__first_name", flat=True)) == {
        "บุญมี",
        "มะลิ",
        "ต้นกล้า",
    }
    assert AuditEvent.objects.filter(action="import_batch.commit", object_ref=batch.code).count() == 1
    # The same file again changes nothing, whether uploaded or committed twice.
    dup.refresh_from_db()
    assert dup.person_id == new.pk  # the duplicate points at the one person, who is there once
    with pytest.raises(ValidationError) as exc:
        stage(cast, setup, csv_bytes(GOOD + BAD + DUP))
    assert str(errors.FILE_ALREADY) in str(exc.value)
    with pytest.raises(ValidationError):
        services.batch_commit(actor=cast.ploy, batch=batch)
    assert Person.objects.count() == people_before + 2


def test_a_failure_during_commit_leaves_nothing_half_written(cast, setup, monkeypatch):
    batch = stage(cast, setup, csv_bytes(GOOD))
    people, households = Person.objects.count(), Household.objects.count()

    real = services.insert_rows

    def flaky(model, *args, **kw):  # the last write of the commit, after people and households
        if model is PersonSource:
            raise RuntimeError("disk full")
        return real(model, *args, **kw)

    monkeypatch.setattr(services, "insert_rows", flaky)
    with pytest.raises(RuntimeError):
        services.batch_commit(actor=cast.ploy, batch=batch)
    batch.refresh_from_db()
    assert batch.status == "preview"
    assert (Person.objects.count(), Household.objects.count()) == (people, households)
    assert not PersonSource.objects.exists()


def test_unreadable_file_fails_with_a_reason(cast, setup):
    batch = stage(cast, setup, b"record_id,foo\r\n1,2\r\n")
    assert batch.status == "failed"
    assert "does not have" in batch.error and "foo, record_id" in batch.error  # names what is missing and what is there
    assert "ไฟล์" in batch.error  # and says so in Thai too


def test_batches_are_scoped_and_the_error_sheet_downloads(cast, setup):
    batch = stage(cast, setup, csv_bytes(GOOD + BAD))
    ploy, somchai, dara = Client(), Client(), Client()
    ploy.force_login(cast.ploy)
    somchai.force_login(cast.somchai)
    dara.force_login(cast.dara)
    assert somchai.get(f"/imports/{batch.code}/").status_code == 404
    assert batch.code not in somchai.get("/imports/").content.decode()
    assert dara.get(f"/imports/{batch.code}/").status_code == 200  # the district sees its local governments' imports
    page = ploy.get(f"/imports/{batch.code}/").content.decode()
    assert "<td data-label" in page and page.count('class="error"') >= len(BAD)  # every rejected row says why
    r = ploy.get(f"/imports/{batch.code}/errors.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("row", "ข้อผิดพลาด", "error") and len(rows) == 1 + len(BAD)
    assert somchai.post(f"/imports/{batch.code}/commit/").status_code in (403, 404)
    with pytest.raises(PermissionDenied):
        services.batch_commit(actor=cast.vee, batch=batch)


def test_upload_page_and_commit_through_the_browser_path(cast, setup):
    from django.core.files.uploadedfile import SimpleUploadedFile

    source, profile = setup
    c = Client()
    c.force_login(cast.ploy)
    r = c.post(
        "/imports/", {"source": source.pk, "profile": profile.pk, "file": SimpleUploadedFile("t.csv", csv_bytes(GOOD))}
    )
    batch = ImportBatch.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/imports/{batch.code}/")
    c.post(f"/imports/{batch.code}/commit/")
    batch.refresh_from_db()
    assert batch.status == "committed" and batch.counts["people_created"] == 2
    bad = c.post(
        "/imports/", {"source": source.pk, "profile": profile.pk, "file": SimpleUploadedFile("t.pdf", b"%PDF")}
    )
    assert bad.status_code == 200 and ImportBatch.objects.count() == 1


def test_household_page_shows_which_lists_each_member_is_on(cast, setup):
    batch = services.batch_commit(actor=cast.ploy, batch=stage(cast, setup, csv_bytes(GOOD)))
    c = Client()
    c.force_login(cast.ploy)
    html = c.get(f"/households/{cast.household.code}/").content.decode()
    assert "TPMAP 2566" in html and batch.code in html


# Without IDs: the head again (same name, birth date and house) is the same person;
# the same full names born 30 years later in another village may or may not be.
SAME = [["T20", "", "นาย", "บุญมี", "ศรีสุข", "ชาย", "13/04/2503", "99/1", "1", "", "", "", "460101"]]
UNCERTAIN = [
    ["T21", "", "นาย", "บุญมี", "ศรีสุข", "ชาย", "01/01/2530", "5", "2", "", "", "", "460101"],
    ["T22", "", "นาง", "คำปุน", "ศรีสุข", "หญิง", "01/06/2531", "6", "2", "", "", "", "460101"],
]


def strict(setup):
    """This list's pairs need near-certainty to match; the rest wait for review."""
    source = setup[0]
    source.match_threshold, source.review_threshold = 0.9999, 0.5
    source.save()
    return setup


def test_probabilistic_link_without_ids_matches_and_explains(cast, setup):
    batch = stage(cast, setup, csv_bytes(SAME))
    row = batch.rows.get()
    assert row.outcome == "matched" and row.person_id == cast.head.pk and row.match_rule == "model"
    assert row.match_probability >= setup[0].match_threshold
    # Every comparison's weight is kept for the review page; name and address speak for it.
    assert row.explain["name"] > 0 and row.explain["address"] > 0 and row.explain["birth_date"] > 0
    assert batch.link_info["registry_people"] >= 2 and batch.link_info["match_threshold"] == 0.95


def test_review_queue_is_scoped_side_by_side_and_audited(cast, setup):
    batch = stage(cast, strict(setup), csv_bytes(GOOD + UNCERTAIN))
    assert batch.counts["uncertain"] == 2, [
        (r.clean["record_id"], r.outcome, r.match_probability) for r in batch.rows.all()
    ]
    services.batch_commit(actor=cast.ploy, batch=batch)
    people = Person.objects.count()
    ploy, somchai = Client(), Client()
    ploy.force_login(cast.ploy)
    somchai.force_login(cast.somchai)
    page = ploy.get("/imports/review/").content.decode()
    assert page.count('class="card review"') == 2 and "ศรีสุข" in page and 'class="differs"' in page
    assert "ศรีสุข" not in somchai.get("/imports/review/").content.decode()
    head_row = next(r for r in batch.rows.all() if r.clean["record_id"] == "T21")
    spouse_row = next(r for r in batch.rows.all() if r.clean["record_id"] == "T22")
    assert somchai.post(f"/imports/review/{head_row.pk}/decide/", {"decision": "same"}).status_code == 404
    ploy.post(f"/imports/review/{head_row.pk}/decide/", {"decision": "same"})
    ploy.post(f"/imports/review/{spouse_row.pk}/decide/", {"decision": "different"})
    assert PersonSource.objects.filter(person=cast.head, source=setup[0]).exists()
    assert Person.objects.count() == people + 1  # "different" registered a new person
    assert AuditEvent.objects.filter(action="review.update", actor=cast.ploy).count() == 2
    with pytest.raises(ValidationError):
        head_row.refresh_from_db()
        services.review_decide(actor=cast.ploy, row=head_row, same=False)
    assert "card review" not in ploy.get("/imports/review/").content.decode()


def test_coverage_counts_lists_overlaps_and_pending_work_in_scope(cast, setup):
    services.batch_commit(actor=cast.ploy, batch=stage(cast, strict(setup), csv_bytes(GOOD + UNCERTAIN + BAD)))
    khm = Source.objects.create(code="khm-2566", kind="khm", name_th="KHM", round_label="2566")
    tp = MappingProfile.objects.get(kind="tpmap")
    b2 = services.batch_upload(actor=cast.ploy, source=khm, profile=tp, file_name="k.csv", content=csv_bytes(GOOD[:1]))
    services.batch_commit(actor=cast.ploy, batch=services.batch_stage(actor=cast.ploy, batch=b2))
    c = Client()
    c.force_login(cast.ploy)
    html = c.get("/imports/coverage/").content.decode()
    from khm.sources import selectors

    data = selectors.coverage(cast.ploy)
    assert data["people"] == 3 and dict(data["sources"]) == {"tpmap 2566": 3, "khm 2566": 1}
    assert dict(data["combos"]) == {"khm 2566 + tpmap 2566": 1, "tpmap 2566": 2}
    # T9 has no known village and T10 lies in another district: neither counts in her area.
    assert data["pending_review"] == 2 and data["rejected"] == len(BAD) - 2
    assert "khm 2566 + tpmap 2566" in html
    assert selectors.coverage(cast.somchai)["people"] == 0


def test_api_upload_stage_read_and_commit(cast, setup):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from khm.accounts.services import api_token_create

    source, profile = setup
    token = api_token_create(actor=None, user=cast.ploy, name="t")
    c = Client(headers={"Authorization": f"Bearer {token}"})
    r = c.post(
        "/api/v1/imports",
        {
            "source": source.code,
            "profile": profile.name,
            "file": SimpleUploadedFile("t.csv", csv_bytes(GOOD + BAD[:1])),
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "preview" and body["counts"]["rejected"] == 1
    assert body["rejected_rows"][0]["row"] == 5 and body["rejected_rows"][0]["errors"][0]["field"] == "id_number"
    assert c.get(f"/api/v1/imports/{body['code']}").json()["code"] == body["code"]
    done = c.post(f"/api/v1/imports/{body['code']}/commit")
    assert done.status_code == 200 and done.json()["status"] == "committed"
    again = c.post(
        "/api/v1/imports",
        {
            "source": source.code,
            "profile": profile.name,
            "file": SimpleUploadedFile("t.csv", csv_bytes(GOOD + BAD[:1])),
        },
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "file"
    bad = c.post(
        "/api/v1/imports", {"source": "nope", "profile": profile.name, "file": SimpleUploadedFile("t.csv", b"x")}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "source"
    other = Client()
    other.force_login(cast.somchai)
    assert other.get(f"/api/v1/imports/{body['code']}").status_code == 404


def test_review_page_shows_probability_and_evidence(cast, setup):
    services.batch_commit(actor=cast.ploy, batch=stage(cast, strict(setup), csv_bytes(GOOD + UNCERTAIN)))
    c = Client()
    c.force_login(cast.ploy)
    page = c.get("/imports/review/").content.decode()
    # The same full name speaks for, a birth date 30 years apart against.
    assert page.count('class="why"') == 2
    assert 'class="weight for">ชื่อ' in page and 'class="weight against">วันเกิด' in page
    assert "Address" not in page  # every comparison is named in Thai


@pytest.mark.django_db(transaction=True)
def test_a_big_file_is_checked_in_the_background_with_progress(cast, setup, settings):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from khm.core import progress

    settings.KHM_BACKGROUND_JOBS, settings.KHM_BACKGROUND_MIN_BYTES = True, 1
    source, profile = setup
    c = Client()
    c.force_login(cast.ploy)
    r = c.post(
        "/imports/", {"source": source.pk, "profile": profile.pk, "file": SimpleUploadedFile("t.csv", csv_bytes(GOOD))}
    )
    batch = ImportBatch.objects.get()
    assert r.status_code == 302  # the request does not wait for the work
    for _ in range(300):
        batch.refresh_from_db()
        if batch.status != "uploaded":
            break
        time.sleep(0.1)
    assert batch.status == "preview" and batch.counts["new"] == 2
    assert progress.read(batch.code) is None  # finished jobs leave no progress behind
    done = c.get(f"/imports/{batch.code}/progress/")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"  # the polling page reloads
    c.post(f"/imports/{batch.code}/commit/")
    for _ in range(300):
        batch.refresh_from_db()
        if batch.status == "committed":
            break
        time.sleep(0.1)
    assert batch.status == "committed" and Person.objects.filter(first_name="มะลิ").exists()


def test_progress_shows_while_running_and_a_stopped_check_can_run_again(cast, setup):
    from khm.core import progress

    source, profile = setup
    batch = services.batch_upload(
        actor=cast.ploy, source=source, profile=profile, file_name="t.csv", content=csv_bytes(GOOD)
    )
    c = Client()
    c.force_login(cast.ploy)
    progress.report(batch.code, "validate", 500, 2000)
    page = c.get(f"/imports/{batch.code}/").content.decode()
    assert "<progress" in page and 'value="25"' in page and "500 / 2000" in page
    assert "ตรวจทุกแถว" in page  # the step in words, in Thai
    progress.report(batch.code, "failed")  # the server restarted in the middle
    page = c.get(f"/imports/{batch.code}/").content.decode()
    assert "<progress" not in page and "/stage/" in page
    assert Client().post(f"/imports/{batch.code}/stage/").status_code in (302, 403)  # anonymous: login
    c.post(f"/imports/{batch.code}/stage/")
    batch.refresh_from_db()
    assert batch.status == "preview" and progress.read(batch.code) is None


def test_household_checks_waiting_show_on_the_review_and_coverage_pages(cast, setup):
    from khm.sources.models import CompositionFlag

    CompositionFlag.objects.create(kind="implausible_age", key="t:1", area_code="46010101", person=cast.head)
    CompositionFlag.objects.create(kind="implausible_age", key="t:2", area_code="46050101")  # Somchai's area
    ploy, somchai = Client(), Client()
    ploy.force_login(cast.ploy)
    somchai.force_login(cast.somchai)
    assert "/imports/checks/" in ploy.get("/imports/review/").content.decode()
    assert selectors_pending(ploy) == 1 and selectors_pending(somchai) == 1


def selectors_pending(client):
    import re

    html = client.get("/imports/coverage/").content.decode()
    m = re.search(r"ผลตรวจองค์ประกอบครัวเรือนที่รอพิจารณา</dt><dd>(\d+)", html)
    return int(m.group(1)) if m else None


def test_cached_linkage_keys_equal_a_fresh_normalisation():
    """Registry people take their normalised keys from the rows that created them: the
    linker must see exactly what a fresh pass would give."""
    import polars as pl

    from khm.sources import linking

    raw = linking._frame([
        ("n2", "h1", "นายบุญมี", "ศรีสุข", "1960-04-13", "M", "๙๙/1", "46010101"),
        ("n3", None, "มะลิ", "ดอกไม้", None, "F", "12", "46010102"),
        ("n4", "h2", "Boonmee", "Srisuk", "1960-04-13", "M", "99/1", "46010101"),
    ])  # fmt: skip
    linking.KEY_CACHE.clear()
    fresh = linking._prepared(raw, "list")
    assert linking.KEY_CACHE.frame is not None and linking.KEY_CACHE.frame.height == 3
    again = linking._prepared(raw.with_columns(pl.Series("uid", ["p7", "p8", "p9"])), "registry")  # all cached
    assert again.get_column("unique_id").to_list() == ["p7", "p8", "p9"]
    assert again.get_column("source").unique().to_list() == ["registry"]
    same = ["unique_id", "record_id", "source"]
    assert again.drop(same).equals(fresh.drop(same))
    assert fresh.get_column("nid").to_list() == ["h1", None, "h2"]
    # Half cached, half new, in the original order.
    mixed = linking._frame([raw.row(1), ("n9", None, "สมหมาย", "ใจงาม", "1980-05-05", "M", "7", "46050101")])
    out = linking._prepared(mixed, "list")
    assert out.get_column("unique_id").to_list() == ["n3", "n9"] and out.get_column("fn").to_list()[1]
    linking.KEY_CACHE.clear()


def test_an_equal_id_matches_even_after_a_move_and_a_new_surname(cast, setup):
    # Regression: small files read only the registry people of their subdistricts and
    # surnames, so a person who moved to another subdistrict and changed surname was staged
    # as new, and the commit then failed on the unique national ID.
    row = ["T20", "3460100123458", "นาย", "บุญมี", "ทองดี", "ชาย", "13/04/2503", "7", "1", "", "", "", "460501"]
    batch = stage(cast, setup, csv_bytes([row]), actor=cast.admin)
    staged = batch.rows.get()
    assert staged.outcome == "matched" and staged.person == cast.head
    services.batch_commit(actor=cast.admin, batch=batch)
    assert Person.objects.filter(national_id_hash=cast.head.national_id_hash).count() == 1
