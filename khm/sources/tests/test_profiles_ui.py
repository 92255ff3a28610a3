"""Source lists and mapping profiles through their pages: create and edit a source, build a
profile by picking columns from a real sample file (CSV in TIS-620, XLSX, XLS), bilingual
errors, history kept for profiles that imports used, copy for next year, and access."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from khm.audit.models import AuditEvent
from khm.sources import profile_services as svc
from khm.sources import services
from khm.sources.models import BatchStatus, ImportBatch, MappingProfile, Source
from khm.sources.profiles import PROFILES

pytestmark = pytest.mark.django_db

TPMAP_HEADER = ["record_id", "เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด",
                "บ้านเลขที่", "หมู่", "ตำบล", "อำเภอ", "จังหวัด", "รหัสตำบล"]  # fmt: skip
TPMAP_ROWS = [
    ["T1", "1460100000015", "นาง", "มะลิ", "ดอกไม้", "หญิง", "02/03/2520", "12", "2", "กาฬสินธุ์", "เมือง", "กาฬสินธุ์", "460101"],
    ["T2", "", "ด.ช.", "ต้นกล้า", "ดอกไม้", "ชาย", "01/06/2560", "12", "2", "กาฬสินธุ์", "เมือง", "กาฬสินธุ์", "460101"],
    ["T3", "", "นาย", "สมศักดิ์", "ใจดี", "ชาย", "15/08/2501", "4", "1", "กาฬสินธุ์", "เมือง", "กาฬสินธุ์", "460101"],
    ["T4", "", "นาง", "สมใจ", "ใจดี", "หญิง", "20/01/2505", "4", "1", "กาฬสินธุ์", "เมือง", "กาฬสินธุ์", "460101"],
]  # fmt: skip
KHM_HEADER = ["record_id", "household_code", "cid", "prefix", "full_name", "gender", "birth_date", "relation",
              "house_no", "moo", "village_code", "subdistrict", "district", "postcode"]  # fmt: skip
KHM_ROWS = [
    ["K1", "HH1", "1460100000015", "นาง", "มะลิ ดอกไม้", "F", "2/3/2520", "หัวหน้าครัวเรือน", "12", "2", "46010102", "กาฬสินธุ์", "เมือง", "46000"],
    ["K2", "HH1", "", "ด.ช.", "ต้นกล้า ดอกไม้", "M", "๐๑/๐๖/๒๕๖๐", "บุตร", "12", "2", "46010102", "กาฬสินธุ์", "เมือง", "46000"],
]  # fmt: skip
B20_HEADER = ["record_id", "Citizen ID", "Title", "Name", "Surname", "Sex", "Birth date", "Address",
              "Subdistrict code", "Household size", "Income per capita (THB/yr)"]  # fmt: skip
B20_ROWS = [
    ["B1", "1460100000015", "นาง", "มะลิ", "ดอกไม้", "2", "1977-03-02", "12 หมู่ 2 ต.กาฬสินธุ์ อ.เมือง จ.กาฬสินธุ์ 46000", "460101", "2", "30400"],
    ["B2", "", "Master", "Tonkla", "Dokmai", "1", "2017-06-01", "12 ม.2 ต.กาฬสินธุ์ อ.เมือง จ.กาฬสินธุ์", "460101", "2", "30400"],
]  # fmt: skip


def csv_bytes(header, rows, encoding="cp874"):
    return ("\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n").encode(encoding)


def xlsx_bytes(header, rows):
    wb = Workbook()
    ws = wb.active
    for r in [header, *rows]:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes(header, rows):
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("bottom20")
    for i, r in enumerate([header, *rows]):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def en(message, **params):
    """The English half of a bilingual message."""
    with translation.override("en"):
        return str(message) % params if params else str(message)


def login(user):
    c = Client()
    c.force_login(user)
    return c


def post_back(response, **changes):
    """What the officer submits when they accept the page as it is (plus ``changes``)."""
    form = response.context["form"]
    data = dict(response.context["hidden"])
    for bf in form:
        value = bf.value()
        if value not in (None, "", []):
            data[bf.name] = value
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def read_sample(client, url, file_name, content, **fields):
    data = {"action": "sample", "sample": SimpleUploadedFile(file_name, content), **fields}
    r = client.post(url, data)
    assert r.status_code == 200
    return r


@pytest.fixture
def imports(settings, tmp_path):
    settings.KHM_IMPORT_DIR = str(tmp_path)


def tpmap_source(**kw):
    defaults = {"code": "tpmap-2566", "kind": "tpmap", "name_th": "TPMAP", "round_label": "2566"}
    return Source.objects.create(**(defaults | kw))


# --------------------------------------------------------------------------- sources


def test_create_and_edit_a_source_through_the_pages(cast):
    client = login(cast.admin)
    r = client.post(
        reverse("sources:source_create"),
        {
            "code": "tpmap-2567", "kind": "tpmap", "name_th": "บัญชี TPMAP", "name_en": "TPMAP list",
            "owner": cast.orgs["province"].pk, "round_label": "2567", "match_threshold": "0.9", "review_threshold": "0.4",
        },
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == reverse("sources:profile_index")
    s = Source.objects.get(code="tpmap-2567")
    assert (s.kind, s.name_th, s.owner, s.round_label) == ("tpmap", "บัญชี TPMAP", cast.orgs["province"], "2567")
    assert (s.match_threshold, s.review_threshold) == (0.9, 0.4)
    assert AuditEvent.objects.filter(action="source.create", object_ref="tpmap-2567", actor=cast.admin).exists()

    page = client.get(reverse("sources:profile_index")).content.decode()
    assert "tpmap-2567" in page and "บัญชี TPMAP" in page

    r = client.post(
        reverse("sources:source_edit", args=[s.pk]),
        {"code": "tpmap-2567", "kind": "tpmap", "name_th": "บัญชี TPMAP (แก้)", "round_label": "2567",
         "match_threshold": "0.92", "review_threshold": "0.4"},
    )  # fmt: skip
    assert r.status_code == 302
    s.refresh_from_db()
    assert (s.name_th, s.match_threshold, s.owner) == ("บัญชี TPMAP (แก้)", 0.92, None)
    event = AuditEvent.objects.get(action="source.update", object_ref="tpmap-2567")
    assert event.changes["match_threshold"] == [0.9, 0.92]


@pytest.mark.parametrize(
    ("match", "review"), [("0.8", "0.9"), ("0.8", "0.8"), ("0.9", "0"), ("1", "-0.1")]
)  # fmt: skip
def test_thresholds_must_be_ordered_and_the_error_names_the_field(cast, match, review):
    client = login(cast.dara)
    r = client.post(
        reverse("sources:source_create"),
        {"code": "x-1", "kind": "khm", "name_th": "x", "round_label": "1", "match_threshold": match,
         "review_threshold": review},
    )  # fmt: skip
    assert r.status_code == 200
    assert not Source.objects.filter(code="x-1").exists()
    errs = r.context["form"].errors["review_threshold"]
    assert any("Review threshold:" in e for e in errs)
    if review != "-0.1":
        assert any(en(svc.THRESHOLDS) in e for e in errs)


def test_a_django_field_error_is_bilingual_too(cast):
    r = login(cast.admin).post(
        reverse("sources:source_create"),
        {"code": "x", "kind": "khm", "name_th": "x", "round_label": "1", "match_threshold": "1.5",
         "review_threshold": "0.5"},
    )  # fmt: skip
    [e] = r.context["form"].errors["match_threshold"]
    # Thai (Django's own catalogue) first, then English; each names the field.
    assert "ค่านี้ต้องน้อยกว่าหรือเท่ากับ 1" in e and "Match threshold: Ensure this value is less than or equal to 1" in e
    assert e.index("ค่านี้") < e.index("Ensure")


def test_a_used_source_keeps_code_kind_and_round(cast, imports):
    source = tpmap_source()
    profile = MappingProfile.objects.create(name="p", kind="tpmap", fields=PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]["fields"])
    services.batch_upload(
        actor=cast.ploy, source=source, profile=profile, file_name="a.csv", content=csv_bytes(TPMAP_HEADER, TPMAP_ROWS)
    )
    page = login(cast.ploy).get(reverse("sources:source_edit", args=[source.pk]))
    assert page.context["form"].fields["round_label"].disabled
    with pytest.raises(ValidationError) as exc:
        svc.source_update(
            actor=cast.ploy, source=source, code="tpmap-2566", kind="tpmap", name_th="TPMAP", name_en="", owner=None,
            round_label="2567", match_threshold=0.95, review_threshold=0.5,
        )  # fmt: skip
    assert en(svc.CODE_LOCKED) in exc.value.message_dict["round_label"][0]
    # The names and thresholds may still change.
    svc.source_update(
        actor=cast.ploy, source=source, code="tpmap-2566", kind="tpmap", name_th="TPMAP จังหวัด", name_en="",
        owner=None, round_label="2566", match_threshold=0.9, review_threshold=0.5,
    )  # fmt: skip
    source.refresh_from_db()
    assert (source.name_th, source.match_threshold) == ("TPMAP จังหวัด", 0.9)


def test_copy_for_next_year(cast, imports):
    source = tpmap_source(owner=cast.orgs["province"], match_threshold=0.9, review_threshold=0.3)
    profile = MappingProfile.objects.create(
        name="TPMAP ของเรา", kind="tpmap", fields=PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]["fields"],
        extra=PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]["extra"],
    )  # fmt: skip
    services.batch_upload(
        actor=cast.ploy, source=source, profile=profile, file_name="a.csv", content=csv_bytes(TPMAP_HEADER, TPMAP_ROWS)
    )
    client = login(cast.ploy)
    r = client.post(reverse("sources:source_copy_next_round", args=[source.pk]), follow=True)
    nxt = Source.objects.get(code="tpmap-2567")
    assert (nxt.kind, nxt.owner, nxt.round_label, nxt.name_th) == ("tpmap", cast.orgs["province"], "2567", "TPMAP")
    assert (nxt.match_threshold, nxt.review_threshold) == (0.9, 0.3)
    page = r.content.decode()
    assert "TPMAP ของเรา" in page  # the message and the list say which profile to use
    rows = {s.code: p for s, _n, p in r.context["sources"]}
    assert rows["tpmap-2567"] == profile
    assert AuditEvent.objects.filter(action="source.create", object_ref="tpmap-2567", note__contains="tpmap-2566")

    # Twice is refused, with the reason.
    r = client.post(reverse("sources:source_copy_next_round", args=[source.pk]), follow=True)
    assert Source.objects.filter(kind="tpmap").count() == 2
    assert "tpmap-2567" in r.content.decode() and en(svc.NEXT_ROUND_EXISTS, code="tpmap-2567") in str(
        [str(m) for m in r.context["messages"]]
    )

    # Next year's file goes into the new source with the saved profile.
    batch = services.batch_upload(
        actor=cast.ploy, source=nxt, profile=profile, file_name="b.csv",
        content=csv_bytes(TPMAP_HEADER, TPMAP_ROWS[:2]),
    )  # fmt: skip
    services.batch_stage(actor=cast.ploy, batch=batch)
    assert batch.status == BatchStatus.PREVIEW and batch.counts["rows"] == 2 and batch.counts["rejected"] == 0


@pytest.mark.parametrize(
    ("old", "new"), [("2566", "2567"), ("2566/1", "2566/2"), ("รอบ 09", "รอบ 10"), ("๒๕๖๖", "2567"), ("ปีนี้", None)]
)  # fmt: skip
def test_next_round_label(old, new):
    assert svc.next_round_label(old) == new


# --------------------------------------------------------------------------- profiles


def test_profile_from_a_tis620_csv_sample(cast, imports):
    client = login(cast.ploy)
    url = reverse("sources:profile_create")
    assert client.get(url).status_code == 200
    content = csv_bytes(TPMAP_HEADER, TPMAP_ROWS, "cp874")
    assert "ชื่อ".encode("cp874") in content  # really TIS-620, not UTF-8
    r = read_sample(client, url, "tpmap-2567.csv", content, name="TPMAP ของอำเภอ", kind="tpmap")
    html = r.content.decode()
    # Columns of the header are the choices; the obvious ones are chosen; three rows previewed.
    assert '<option value="ชื่อ" selected>' in html and '<option value="เลขประจำตัวประชาชน" selected>' in html
    assert "มะลิ" in html and "ต้นกล้า" in html and "สมศักดิ์" in html and "สมใจ" not in html
    assert r.context["guessed"] >= {"id_number", "first_name", "last_name", "birth_date", "area_code", "title"}
    assert not MappingProfile.objects.exists()  # reading a sample writes nothing

    r = client.post(url, post_back(r, action="save"))
    assert r.status_code == 302, r.context["form"].errors
    p = MappingProfile.objects.get(name="TPMAP ของอำเภอ")
    expected = PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]
    assert (p.kind, p.fields, p.extra) == ("tpmap", expected["fields"], expected["extra"])
    assert AuditEvent.objects.filter(action="mapping_profile.create", object_ref=str(p.pk), actor=cast.ploy).exists()

    # The profile imports the file it was made from.
    source = tpmap_source()
    batch = services.batch_upload(actor=cast.ploy, source=source, profile=p, file_name="t.csv", content=content)
    services.batch_stage(actor=cast.ploy, batch=batch)
    assert batch.status == BatchStatus.PREVIEW and batch.counts["rejected"] == 0 and batch.counts["rows"] == 4


def test_profile_from_an_xlsx_sample(cast):
    client = login(cast.dara)
    url = reverse("sources:profile_create")
    r = read_sample(client, url, "khm.xlsx", xlsx_bytes(KHM_HEADER, KHM_ROWS), name="KHM 2567", kind="khm")
    assert r.context["sample"].columns == KHM_HEADER
    assert r.context["sample"].rows[1][6] == "๐๑/๐๖/๒๕๖๐"
    r = client.post(url, post_back(r, action="save"))
    assert r.status_code == 302, r.context["form"].errors
    p = MappingProfile.objects.get(name="KHM 2567")
    expected = PROFILES["KHM (บัญชีจังหวัดกาฬสินธุ์)"]
    assert (p.fields, p.extra) == (expected["fields"], expected["extra"])


def test_profile_from_an_xls_sample_with_english_headers(cast):
    client = login(cast.admin)
    url = reverse("sources:profile_create")
    r = read_sample(client, url, "bottom20.xls", xls_bytes(B20_HEADER, B20_ROWS), name="ล่าง 20", kind="bottom20")
    r = client.post(url, post_back(r, action="save"))
    assert r.status_code == 302, r.context["form"].errors
    p = MappingProfile.objects.get(name="ล่าง 20")
    expected = PROFILES["Bottom 20 % (รายได้ต่ำสุดร้อยละ 20)"]
    assert (p.fields, p.extra) == (expected["fields"], expected["extra"])


@pytest.mark.parametrize("name", list(PROFILES))
def test_the_header_alone_gives_every_shipped_layout(name):
    """Guessing from the header reproduces each shipped profile, whatever the column order."""
    spec = PROFILES[name]
    columns = {
        c for v in [*spec["fields"].values(), *spec["extra"].values()] for c in (v if isinstance(v, list) else [v])
    }
    options = {"id_scheme", "date_format"}
    header = [*sorted(columns - {spec["fields"].get(o) for o in options}, reverse=True), "อายุ", "true_person_id"]
    guess = svc.guess_roles(header)
    assert {k: v for k, v in guess.items() if k in svc.EXTRA_ROLES} == spec["extra"]
    fields = {k: v for k, v in guess.items() if k not in svc.EXTRA_ROLES}
    assert fields == {k: v for k, v in spec["fields"].items() if k != "date_format"}


@pytest.mark.parametrize(
    ("values", "fmt"),
    [(["12/03/2522", "5/3/2510", "๑๒/๐๓/๒๕๒๒"], "%d/%m/%Y BE"), (["1979-03-12", "1979"], "%Y-%m-%d"),
     (["12-03-1979"], "%d-%m-%Y"), (["12 มี.ค. 2522"], "")],
)  # fmt: skip
def test_date_format_guess(values, fmt):
    assert svc.guess_date_format(values) == fmt


def test_typed_columns_without_a_sample(cast):
    client = login(cast.ploy)
    r = client.post(
        reverse("sources:profile_create"),
        {"action": "save", "name": "พิมพ์เอง", "kind": "other", "first_name": "ชื่อ", "last_name": "สกุล",
         "sex": "เพศ", "area_code": "รหัสหมู่บ้าน", "address": "บ้านเลขที่, หมู่ ,ตำบล", "id_number": "เลขบัตร",
         "id_scheme": "none", "relation": "ความสัมพันธ์"},
    )  # fmt: skip
    assert r.status_code == 302
    p = MappingProfile.objects.get(name="พิมพ์เอง")
    assert p.fields["address"] == ["บ้านเลขที่", "หมู่", "ตำบล"]
    assert (p.fields["id_scheme"], p.extra) == ("none", {"relation": "ความสัมพันธ์"})


def test_a_bad_mapping_shows_a_bilingual_error_naming_the_field(cast):
    client = login(cast.ploy)
    url = reverse("sources:profile_create")
    r = client.post(url, {"action": "save", "name": "ผิด", "kind": "tpmap", "last_name": "นามสกุล", "sex": "เพศ"})
    assert r.status_code == 200
    errors = r.context["form"].errors
    [first] = errors["first_name"]
    assert first.startswith("ชื่อ: ") and "First name: " + en(svc.FIRST_NAME_MISSING) in first
    [area] = errors["area_code"]
    assert area.startswith("รหัสพื้นที่: ") and "Area code: " + en(svc.AREA_MISSING) in area
    html = r.content.decode()
    assert "First name: Choose the first name column" in html
    assert not MappingProfile.objects.exists()

    r = client.post(
        url,
        {"action": "save", "name": "ผิด", "kind": "khm", "full_name": "ชื่อเต็ม", "first_name": "ชื่อ",
         "area_code": "รหัส"},
    )  # fmt: skip
    errors = r.context["form"].errors
    assert en(svc.FULL_AND_SPLIT) in errors["full_name"][0] and "Full name (one column): " in errors["full_name"][0]
    assert "Sex: " + en(svc.SEX_MISSING) in errors["sex"][0] and errors["sex"][0].startswith("เพศ: ")


def test_a_bad_sample_file_gets_a_bilingual_error(cast):
    client = login(cast.ploy)
    url = reverse("sources:profile_create")
    r = read_sample(client, url, "list.pdf", b"%PDF-1.4", name="keep me")
    [e] = r.context["sample_form"].errors["sample"]
    assert "Sample file: " + en(svc.SAMPLE_TYPE) in e
    assert r.context["form"]["name"].value() == "keep me"  # what was typed survives
    r = client.post(url, {"action": "sample", "name": "x"})
    [e] = r.context["sample_form"].errors["sample"]
    assert "Sample file: Choose the file first" in e
    r = read_sample(client, url, "broken.xlsx", b"not a zip file")
    [e] = r.context["sample_form"].errors["sample"]
    assert "อ่านไฟล์ไม่ได้" in e and "The file could not be read" in e


def test_next_years_file_on_the_edit_page_shows_renamed_columns(cast):
    spec = PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]
    p = MappingProfile.objects.create(name="TPMAP", kind="tpmap", fields=spec["fields"], extra=spec["extra"])
    header = ["เลขบัตรประชาชน" if h == "เลขประจำตัวประชาชน" else h for h in TPMAP_HEADER]
    client = login(cast.ploy)
    client.cookies["django_language"] = "en"
    url = reverse("sources:profile_edit", args=[p.pk])
    # As a browser sends it: the values on the page, plus the file.
    data = post_back(
        client.get(url), action="sample", sample=SimpleUploadedFile("2568.csv", csv_bytes(header, TPMAP_ROWS))
    )
    r = client.post(url, data)
    form = r.context["form"]
    assert form["id_number"].value() == "เลขบัตรประชาชน"  # guessed anew
    assert form.fields["id_number"].saved_missing == "เลขประจำตัวประชาชน"
    assert form["first_name"].value() == "ชื่อ"  # kept
    assert form["address"].value() == spec["fields"]["address"]
    assert "Saved column not in this file: เลขประจำตัวประชาชน" in r.content.decode()
    # Saving now writes the renamed column into the profile (unused: in place).
    r = client.post(url, post_back(r, action="save"))
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.fields["id_number"] == "เลขบัตรประชาชน" and p.fields["first_name"] == "ชื่อ"


def test_editing_a_used_profile_saves_a_new_one_and_keeps_the_old(cast, imports):
    spec = PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]
    old = MappingProfile.objects.create(
        name="TPMAP อำเภอเมือง", kind="tpmap", fields=spec["fields"], extra=spec["extra"]
    )
    batch = services.batch_upload(
        actor=cast.ploy, source=tpmap_source(), profile=old, file_name="a.csv",
        content=csv_bytes(TPMAP_HEADER, TPMAP_ROWS),
    )  # fmt: skip
    client = login(cast.ploy)
    url = reverse("sources:profile_edit", args=[old.pk])
    page = client.get(url)
    html = page.content.decode()
    assert 'id="used-notice"' in html and "TPMAP อำเภอเมือง (v2)" in html

    # Saving without a change changes nothing.
    assert client.post(url, post_back(page, action="save")).status_code == 302
    assert MappingProfile.objects.count() == 1

    r = client.post(url, post_back(page, action="save", date_format="%d/%m/%Y", postcode="รหัสไปรษณีย์"))
    assert r.status_code == 302
    new = MappingProfile.objects.get(name="TPMAP อำเภอเมือง (v2)")
    assert new.fields["date_format"] == "%d/%m/%Y" and new.fields["postcode"] == "รหัสไปรษณีย์"
    old.refresh_from_db()
    batch.refresh_from_db()
    assert (old.name, old.fields, old.extra) == ("TPMAP อำเภอเมือง", spec["fields"], spec["extra"])
    assert batch.profile_id == old.pk
    event = AuditEvent.objects.get(action="mapping_profile.create", object_ref=str(new.pk))
    assert "which import batches used" in event.note and "date_format" in event.changes["fields"][1]

    # The old one again: the next free version; a given name is used as it is.
    client.post(url, post_back(page, action="save", sex=""))
    assert MappingProfile.objects.filter(name="TPMAP อำเภอเมือง (v3)").exists()
    client.post(url, post_back(page, action="save", name="TPMAP 2568", sex=""))
    assert MappingProfile.objects.filter(name="TPMAP 2568").exists()
    assert MappingProfile.objects.filter(name="TPMAP อำเภอเมือง").count() == 1

    # An unused profile is changed in place.
    r = client.post(
        reverse("sources:profile_edit", args=[new.pk]),
        post_back(client.get(reverse("sources:profile_edit", args=[new.pk])), action="save", record_id=""),
    )
    assert r.status_code == 302
    new.refresh_from_db()
    assert "record_id" not in new.fields and new.name == "TPMAP อำเภอเมือง (v2)"
    assert AuditEvent.objects.filter(action="mapping_profile.update", object_ref=str(new.pk)).exists()


def test_editing_keeps_keys_the_editor_does_not_manage(cast):
    fields = dict(PROFILES["KHM (บัญชีจังหวัดกาฬสินธุ์)"]["fields"]) | {"source": "khm", "threshold": 0.9}
    p = MappingProfile.objects.create(name="k", kind="khm", fields=fields)
    client = login(cast.ploy)
    url = reverse("sources:profile_edit", args=[p.pk])
    client.post(url, post_back(client.get(url), action="save", nickname="ชื่อเล่น"))
    p.refresh_from_db()
    assert (p.fields["source"], p.fields["threshold"], p.fields["nickname"]) == ("khm", 0.9, "ชื่อเล่น")


def test_a_profile_name_is_unique(cast):
    MappingProfile.objects.create(name="ซ้ำ", kind="khm", fields={"full_name": "n", "sex": "s", "area_code": "a"})
    r = login(cast.ploy).post(
        reverse("sources:profile_create"),
        {"action": "save", "name": "ซ้ำ", "kind": "khm", "full_name": "n", "sex": "s", "area_code": "a"},
    )
    assert r.status_code == 200 and en(svc.NAME_TAKEN) in r.context["form"].errors["name"][0]


def test_new_profile_from_an_existing_one_and_fields_json(cast):
    spec = PROFILES["KHM (บัญชีจังหวัดกาฬสินธุ์)"]
    p = MappingProfile.objects.create(name="KHM", kind="khm", fields=spec["fields"], extra=spec["extra"])
    client = login(cast.dara)
    r = client.get(reverse("sources:profile_create") + f"?from={p.pk}")
    assert r.context["form"]["name"].value() == "KHM (v2)" and r.context["form"]["full_name"].value() == "full_name"
    r = client.get(reverse("sources:profile_fields_json", args=[p.pk]))
    assert r.json() == spec["fields"]


def test_index_lists_profiles_with_their_use(cast, imports):
    spec = PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]
    p = MappingProfile.objects.create(name="ใช้แล้ว", kind="tpmap", fields=spec["fields"], extra=spec["extra"])
    services.batch_upload(
        actor=cast.ploy,
        source=tpmap_source(),
        profile=p,
        file_name="a.csv",
        content=csv_bytes(TPMAP_HEADER, TPMAP_ROWS),
    )
    r = login(cast.admin).get(reverse("sources:profile_index"))
    assert [(q.name, n) for q, n, _s in r.context["profiles"]] == [("ใช้แล้ว", 1)]
    assert "เลขประจำตัวประชาชน" in r.content.decode()


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("who", ["vee", "agency", "analyst", "sysadmin", "nobody", "expired"])
def test_roles_without_source_import_get_403(cast, who):
    source = tpmap_source()
    p = MappingProfile.objects.create(name="p", kind="khm", fields={"full_name": "n", "sex": "s", "area_code": "a"})
    client = login(getattr(cast, who))
    for url in (
        reverse("sources:profile_index"),
        reverse("sources:profile_create"),
        reverse("sources:profile_edit", args=[p.pk]),
        reverse("sources:source_create"),
        reverse("sources:source_edit", args=[source.pk]),
    ):
        assert client.get(url).status_code == 403, url
    r = client.post(
        reverse("sources:source_create"),
        {
            "code": "z",
            "kind": "khm",
            "name_th": "z",
            "round_label": "1",
            "match_threshold": "0.9",
            "review_threshold": "0.5",
        },
    )
    assert r.status_code == 403
    assert client.post(reverse("sources:source_copy_next_round", args=[source.pk])).status_code == 403
    assert client.post(reverse("sources:profile_edit", args=[p.pk]), {"action": "save", "name": "x"}).status_code == 403
    assert Source.objects.count() == 1 and MappingProfile.objects.get().name == "p"
    with pytest.raises(PermissionDenied):
        svc.source_copy_next_round(actor=getattr(cast, who), source=source)


def test_anonymous_is_sent_to_log_in(cast):
    r = Client().get(reverse("sources:profile_index"))
    assert r.status_code == 302 and "login" in r["Location"]


def test_forms_are_csrf_protected(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin)
    page = client.get(reverse("sources:source_create")).content.decode()
    assert "csrfmiddlewaretoken" in page
    assert "csrfmiddlewaretoken" in client.get(reverse("sources:profile_create")).content.decode()
    r = client.post(
        reverse("sources:source_create"),
        {
            "code": "z",
            "kind": "khm",
            "name_th": "z",
            "round_label": "1",
            "match_threshold": "0.9",
            "review_threshold": "0.5",
        },
    )
    assert r.status_code == 403 and not Source.objects.filter(code="z").exists()


def test_batches_keep_their_profile(cast, imports):
    """The database backs the history rule: a used profile cannot be deleted."""
    from django.db.models import ProtectedError

    spec = PROFILES["TPMAP (ไฟล์ส่งออก TPMAP)"]
    p = MappingProfile.objects.create(name="p", kind="tpmap", fields=spec["fields"], extra=spec["extra"])
    services.batch_upload(
        actor=cast.ploy,
        source=tpmap_source(),
        profile=p,
        file_name="a.csv",
        content=csv_bytes(TPMAP_HEADER, TPMAP_ROWS),
    )
    with pytest.raises(ProtectedError):
        p.delete()
    assert ImportBatch.objects.get().profile == p
