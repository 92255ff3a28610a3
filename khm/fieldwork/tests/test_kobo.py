"""Importing KoboToolbox / ODK Central exports: every row checked first (row, column, Thai and
English), then the valid rows through the phone's own service, once per submission."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client

from khm.assessment import instruments as inst
from khm.assessment.models import Assessment
from khm.fieldwork import kobo
from khm.fieldwork.models import Method, Verification

pytestmark = pytest.mark.django_db

UUID = "0f3b9c1e-6a2d-4b8e-9d1a-3c5e7f9a1b2c"


def items() -> list[tuple[str, dict[str, Any]]]:
    definition = inst.definition(inst.current_of_kind("capitals"))
    return [(cap["code"], it) for cap in definition["capitals"] for it in cap["items"]]


def answer(item: dict[str, Any]) -> Any:
    if item["type"] == "number":
        return 1500
    options = [o["value"] for o in item["options"] if not o.get("none")]
    return options[-1] if item["type"] == "choice" else options[:2]


def submission(code: str, **kw: Any) -> dict[str, Any]:
    """One submission by KHM field name (multi answers as lists)."""
    row: dict[str, Any] = {
        "household_code": code,
        "outcome": "confirmed_poor",
        "moved_to": "",
        "duplicate_of": "",
        "consent": "yes",
        "verified_on": "2025-06-01",
        "gps": "16.43 103.5 150 8",
        "photo": "1717000000000.jpg",
        "notes": "หลังคารั่ว",
        "uuid": UUID,
        **{it["code"]: answer(it) for _g, it in items()},
    }
    row.update(kw)
    return row


def kobo_csv(rows: list[dict[str, Any]], encoding: str = "utf-8-sig", drop: tuple[str, ...] = ()) -> bytes:
    """A KoboToolbox CSV export: ';'-separated, group prefixes with '/', the 0/1 columns of
    select_multiple options, _gps_* and _uuid metadata."""
    header = ["start", "end", "household_code", "outcome", "moved_to", "duplicate_of", "consent", "verified_on",
              "gps", "_gps_latitude", "_gps_longitude", "_gps_altitude", "_gps_precision", "photo", "photo_URL", "notes"]  # fmt: skip
    for group, it in items():
        header.append(f"{group}/{it['code']}")
        if it["type"] == "multi":
            header += [f"{group}/{it['code']}/{o['value']}" for o in it["options"]]
    header += ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "_index"]
    header = [h for h in header if h.split("/")[-1] not in drop]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(header)
    for i, s in enumerate(rows, start=1):
        gps = [*s["gps"].split(), "", "", "", ""][:4]
        values = {
            "start": "2025-06-01T09:00:00.000+07:00", "end": "2025-06-01T09:20:00.000+07:00",
            "_gps_latitude": gps[0], "_gps_longitude": gps[1], "_gps_altitude": gps[2], "_gps_precision": gps[3],
            "photo_URL": f"https://kc.kobotoolbox.org/media/small?media_file=x/{s['photo']}",
            "_id": str(1000 + i), "_uuid": s["uuid"], "_submission_time": "2025-06-01T02:30:00",
            "_validation_status": "", "_notes": "", "_status": "submitted_via_web", "_submitted_by": "", "_index": str(i),
        }  # fmt: skip
        out = []
        for h in header:
            name = h.split("/")
            if h in values:
                out.append(values[h])
            elif len(name) == 3:  # a 0/1 column of a select_multiple option
                out.append("1" if name[2] in (s.get(name[1]) or []) else "0")
            else:
                v = s.get(name[-1], "")
                out.append(" ".join(v) if isinstance(v, list) else str(v))
        w.writerow(out)
    return buf.getvalue().encode(encoding)


def odk_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """An ODK Central style export as XLSX: '-' group prefixes, the geopoint in four columns,
    meta-instanceID and KEY, dates and numbers as typed cells."""
    header = ["SubmissionDate", "start", "end", "household_code", "outcome", "moved_to", "duplicate_of", "consent",
              "verified_on", "gps-Latitude", "gps-Longitude", "gps-Altitude", "gps-Accuracy", "photo", "notes"]  # fmt: skip
    header += [f"{g}-{it['code']}" for g, it in items()]
    header += ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
               "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]  # fmt: skip
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for s in rows:
        lat, lon, alt, acc = (float(x) for x in s["gps"].split())
        out: list[Any] = [dt.datetime(2025, 6, 1, 2, 30), dt.datetime(2025, 6, 1, 9), dt.datetime(2025, 6, 1, 9, 20)]
        out += [s["household_code"], s["outcome"], s["moved_to"], s["duplicate_of"], s["consent"]]
        out += [dt.date.fromisoformat(s["verified_on"]), lat, lon, alt, acc, s["photo"], s["notes"]]
        for _g, it in items():
            v = s.get(it["code"])
            out.append(" ".join(v) if isinstance(v, list) else v)
        out += [f"uuid:{s['uuid']}", f"uuid:{s['uuid']}", 5, "ploy-phone", 0, 1, "", "", "collect:abc", 0, "1"]
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(cast: Any, content: bytes, name: str = "export.csv", commit: bool = False, actor: Any = None) -> Any:
    return kobo.import_submissions(actor=actor or cast.ploy, file_name=name, content=content, commit=commit)


@pytest.mark.parametrize("style", ["kobo_csv", "odk_xlsx"])
def test_round_trip_imports_once(cast, style):
    content = (
        kobo_csv([submission(cast.household.code)])
        if style == "kobo_csv"
        else odk_xlsx([submission(cast.household.code)])
    )
    name = "khm.csv" if style == "kobo_csv" else "khm.xlsx"
    preview = run(cast, content, name)
    assert (preview.rows, preview.valid, preview.already, preview.error_rows) == (1, 1, 0, 0), preview.problems
    assert preview.tool == ("KoboToolbox" if style == "kobo_csv" else "ODK")
    assert Verification.objects.count() == 0 and Assessment.objects.count() == 0  # a preview writes nothing

    done = run(cast, content, name, commit=True)
    assert (done.created, done.already, done.error_rows) == (1, 0, 0), done.problems
    v = Verification.objects.get()
    assert v.method == Method.IMPORT and v.key == f"kobo-{UUID}"
    assert v.household == cast.household and v.verified_by == cast.ploy
    assert v.outcome == "confirmed_poor" and v.verified_on == dt.date(2025, 6, 1) and v.consent
    assert float(v.latitude) == pytest.approx(16.43) and v.accuracy_m == 8
    assert "หลังคารั่ว" in v.notes and "1717000000000.jpg" in v.notes  # the photo stays in Kobo/ODK
    a = Assessment.objects.get(household=cast.household)
    assert v.assessment == a and a.method == "import" and a.round == "2568"
    expected = {it["code"]: answer(it) for _g, it in items()}
    assert a.data["capitals"] == expected

    again = run(cast, content, name)
    assert (again.valid, again.already, again.error_rows) == (0, 1, 0)
    again = run(cast, content, name, commit=True)
    assert (again.created, again.already) == (0, 1)
    assert Verification.objects.count() == 1 and Assessment.objects.count() == 1


def test_kobo_and_odk_exports_of_the_same_submission_are_one(cast):
    run(cast, kobo_csv([submission(cast.household.code)]), commit=True)
    report = run(cast, odk_xlsx([submission(cast.household.code)]), "odk.xlsx", commit=True)
    assert (report.created, report.already) == (0, 1)
    assert Verification.objects.count() == 1


def test_bad_rows_are_each_reported_and_nothing_of_them_is_written(cast):
    code = cast.household.code
    rows = [
        submission(code, uuid="u-ok"),  # row 2
        submission("HHZZZZZZZZ", uuid="u-unknown"),  # row 3
        submission(cast.other_household.code, uuid="u-somchai"),  # row 4: exists, but not in Ploy's area
        submission(code, uuid="u-maybe", outcome="maybe"),  # row 5
        submission(code, uuid="u-date", verified_on="31/02/2568"),  # row 6
        submission(code, uuid="u-castle", h_education="castle"),  # row 7
        submission(code, uuid="u-consent", consent="no"),  # row 8
        submission(code, uuid=""),  # row 9
        submission(code, uuid="u-negative", h_income_month="-5"),  # row 10
        submission(code, uuid="u-multi", h_skills=["farming", "flying"]),  # row 11
    ]
    content = kobo_csv(rows)
    report = run(cast, content)
    assert (report.rows, report.valid, report.error_rows) == (10, 1, 9)
    by_row = {p.row: p for p in report.problems}
    assert len(report.problems) == 9  # one problem per bad row, nothing more
    expected = {
        3: "household_code", 4: "household_code", 5: "outcome", 6: "verified_on", 7: "human/h_education",
        8: "consent", 9: "_uuid", 10: "human/h_income_month", 11: "human/h_skills",
    }  # fmt: skip
    assert {r: p.field for r, p in by_row.items()} == expected
    assert all(p.th and p.en for p in report.problems)
    # Someone else's household reads exactly like one that does not exist.
    assert by_row[3].en == "household HHZZZZZZZZ not found in your area"
    assert by_row[4].en == f"household {cast.other_household.code} not found in your area"
    assert by_row[4].th.replace(cast.other_household.code, "X") == by_row[3].th.replace("HHZZZZZZZZ", "X")
    assert "maybe" in by_row[5].en
    assert "no such date" in by_row[6].en
    assert "castle" in by_row[7].en and "castle" in by_row[7].th
    assert "consent" in by_row[8].en
    assert "uuid" in by_row[9].en
    assert "0 or more" in by_row[10].en
    assert "flying" in by_row[11].en
    assert Verification.objects.count() == 0

    done = run(cast, content, commit=True)
    assert (done.created, done.error_rows) == (1, 9)
    assert list(Verification.objects.values_list("key", flat=True)) == ["kobo-u-ok"]
    assert not Verification.objects.filter(household=cast.other_household).exists()
    assert Assessment.objects.count() == 1


def test_a_submission_twice_in_one_file_is_reported(cast):
    s = submission(cast.household.code)
    report = run(cast, kobo_csv([s, s]))
    assert report.valid == 1 and [(p.row, p.field) for p in report.problems] == [(3, "_uuid")]
    assert "row 2" in report.problems[0].en


def test_outcomes_without_questionnaire_and_other_checks_of_the_service(cast):
    code = cast.household.code
    rows = [
        submission(code, uuid="u-moved", outcome="moved", moved_to="กรุงเทพฯ"),
        submission(code, uuid="u-moved-where", outcome="moved"),  # moved where?
        submission(code, uuid="u-far", gps="48.85 2.35 0 5"),  # outside Thailand
        submission(code, uuid="u-future", verified_on=(dt.date.today() + dt.timedelta(days=30)).isoformat()),
    ]
    report = run(cast, kobo_csv(rows))
    assert report.valid == 1
    assert [(p.row, p.field) for p in report.row_problems] == [(3, "moved_to"), (4, "gps"), (5, "verified_on")]
    done = run(cast, kobo_csv(rows), commit=True)
    v = Verification.objects.get()
    assert done.created == 1 and v.outcome == "moved" and v.moved_to == "กรุงเทพฯ" and v.assessment is None
    assert Assessment.objects.count() == 0


def test_cp874_csv_with_thai_notes(cast):
    notes = "ครัวเรือนผู้สูงอายุ อยู่ลำพัง"
    content = kobo_csv([submission(cast.household.code, notes=notes)], encoding="cp874")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    report = run(cast, content, commit=True)
    assert report.created == 1, report.problems
    assert Verification.objects.get().notes.startswith(notes)


def test_odk_csv_with_single_gps_column_and_no_photo(cast):
    s = submission(cast.household.code, photo="")
    header = ["SubmissionDate", "household_code", "outcome", "consent", "verified_on", "gps", "notes", "KEY"]
    header += [f"{g}-{it['code']}" for g, it in items()]
    values = [
        "2025-06-01T02:30:00.000Z",
        s["household_code"],
        "not_poor",
        "yes",
        "01/06/2568",
        s["gps"],
        "",
        f"uuid:{UUID}",
    ]
    values += [" ".join(v) if isinstance(v, list) else str(v) for v in (s[it["code"]] for _g, it in items())]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, values])
    report = run(cast, buf.getvalue().encode(), commit=True)
    assert report.created == 1, report.problems
    v = Verification.objects.get()
    assert v.key == f"kobo-{UUID}" and v.outcome == "not_poor" and v.verified_on == dt.date(2025, 6, 1)
    assert v.notes == "" and v.assessment is not None


def test_files_that_are_not_exports(cast):
    assert run(cast, b"").problems[0].row == 0
    report = run(cast, "รหัสครัวเรือน;ผลการตรวจสอบ\nHH1;x\n".encode())
    assert report.file_problems[0].field == "household_code" and "XML values" in report.file_problems[0].en
    assert run(cast, b"PK\x03\x04 not really a zip", "x.xlsx").file_problems[0].field == "file"


def test_survey_tools_page_preview_and_import(cast, settings, tmp_path):
    settings.KHM_IMPORT_DIR = str(tmp_path)
    content = kobo_csv([submission(cast.household.code), submission("HHZZZZZZZZ", uuid="u-unknown")])
    digest = hashlib.sha256(content).hexdigest()
    client = Client()
    client.force_login(cast.ploy)
    page = client.get("/fieldwork/survey-tools/")
    assert page.status_code == 200 and "/fieldwork/survey-tools/xlsform.xlsx" in page.content.decode()

    r = client.post("/fieldwork/survey-tools/upload/", {"file": _upload(content, "export.csv")})
    body = r.content.decode()
    assert r.status_code == 200 and "HHZZZZZZZZ" in body and "not found in your area" in body
    assert (tmp_path / "kobo" / digest).read_bytes() == content  # kept by its hash
    assert Verification.objects.count() == 0

    # Another officer cannot import someone else's upload, even knowing its hash.
    other = Client()
    other.force_login(cast.somchai)
    r = other.post("/fieldwork/survey-tools/import/", {"token": digest})
    assert r.status_code == 302 and Verification.objects.count() == 0

    r = client.post("/fieldwork/survey-tools/import/", {"token": digest, "campaign": ""})
    assert r.status_code == 200, r.content[:500]
    assert Verification.objects.filter(household=cast.household, method=Method.IMPORT).count() == 1
    assert not (tmp_path / "kobo" / digest).exists()
    # The token is spent: a second click changes nothing.
    r = client.post("/fieldwork/survey-tools/import/", {"token": digest})
    assert r.status_code == 302 and Verification.objects.count() == 1


def test_upload_form_errors_and_access(cast, settings, tmp_path):
    settings.KHM_IMPORT_DIR = str(tmp_path)
    client = Client()
    client.force_login(cast.ploy)
    r = client.post("/fieldwork/survey-tools/upload/", {"file": _upload(b"x", "photo.jpg")})
    assert r.status_code == 200 and not Path(tmp_path / "kobo").exists()
    r = client.post("/fieldwork/survey-tools/upload/", {})
    assert r.status_code == 200
    client.force_login(cast.agency)
    assert client.get("/fieldwork/survey-tools/").status_code == 403


def _upload(content: bytes, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.mark.parametrize("who", ["somchai", "anonymous", "agency", "analyst", "sysadmin", "nobody", "expired"])
def test_outsiders_get_nothing_from_the_survey_tools_pages(cast, settings, tmp_path, who):
    settings.KHM_IMPORT_DIR = str(tmp_path)
    owner = Client()
    owner.force_login(cast.ploy)
    content = kobo_csv([submission(cast.household.code)])
    owner.post("/fieldwork/survey-tools/upload/", {"file": _upload(content, "export.csv")})
    client = Client()
    if who != "anonymous":
        client.force_login(getattr(cast, who))
    token = hashlib.sha256(content).hexdigest()
    for url in ("", "xlsform.xlsx", "upload/", "import/"):
        for r in (
            client.get(f"/fieldwork/survey-tools/{url}"),
            client.post(f"/fieldwork/survey-tools/{url}", {"token": token, "q": "บุญมี"}),
        ):
            assert r.status_code in (200, 302, 403, 405)
            assert cast.household.code not in r.content.decode("utf-8", "replace")
    assert Verification.objects.count() == 0


def test_an_imported_row_completes_the_households_open_campaign(cast):
    from khm.fieldwork import services
    from khm.fieldwork.models import Assignment, AssignmentStatus

    c = services.campaign_create(actor=cast.dara, name="ตรวจสอบ 2569", area_code="4601", round="2569", selection="all")
    assert [x.code for x in kobo.campaigns_open_for(cast.ploy)] == [c.code]
    assert kobo.campaigns_open_for(cast.somchai) == []
    report = run(cast, kobo_csv([submission(cast.household.code)]), commit=True)
    assert report.created == 1
    v = Verification.objects.get()
    assert v.campaign == c and v.assignment.status == AssignmentStatus.DONE
    assert Assessment.objects.get().round == "2569"
    assert Assignment.objects.get(campaign=c).status == AssignmentStatus.DONE


def test_select_multiple_from_the_0_1_columns_only(cast):
    multis = [it["code"] for _g, it in items() if it["type"] == "multi"]
    content = kobo_csv([submission(cast.household.code)], drop=tuple(multis))
    assert b"/h_skills;" not in content and b"/h_skills/farming" in content
    report = run(cast, content, commit=True)
    assert report.created == 1, report.problems
    skills = next(it for _g, it in items() if it["code"] == "h_skills")
    assert Assessment.objects.get().data["capitals"]["h_skills"] == answer(skills)
