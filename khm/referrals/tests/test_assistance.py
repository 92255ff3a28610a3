"""Recording help: one household or one referral, the list, and bulk entry of a distribution
event (every row checked first, Thai and English per row, all or nothing, never twice)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from khm.audit.models import AuditEvent
from khm.referrals import bulk
from khm.referrals.models import Assistance
from khm.referrals.tests.test_tracking import Aid, make_aid, new_household, refer

pytestmark = pytest.mark.django_db


@pytest.fixture
def aid(cast: Any) -> Aid:
    return make_aid(cast)


D = dt.date
YESTERDAY = timezone.localdate() - dt.timedelta(days=1)


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def header(agency: Any, **kw: Any) -> bulk.Header:
    values: dict[str, Any] = {
        "agency": agency, "kind": "cash", "given_on": YESTERDAY, "programme": "เงินช่วยเหลือภัยแล้ง 2568",
        "default_value": Decimal("1000"),
    }  # fmt: skip
    values.update(kw)
    return bulk.Header(**values)


# --------------------------------------------------------------------------- one household


def test_an_officer_records_help_for_a_household(aid: Aid):
    c = aid.cast
    client = login(c.ploy)
    url = f"/referrals/assistance/new/?household={c.household.code}"
    page = client.get(url)
    assert page.status_code == 200 and "บุญมี" in page.content.decode()  # the member choice
    r = client.post(
        url,
        {"kind": "cash", "programme": "ทุนประกอบอาชีพ", "agency": "pso", "given_on": "5/3/2568",
         "value_baht": "15,000", "person": c.head.ref, "note": ""},
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"].endswith(f"/households/{c.household.code}/#timeline")
    a = Assistance.objects.get()
    assert (a.household_id, a.agency, a.given_on, a.value_baht, a.person_id) == (
        c.household.pk, aid.pso, D(2025, 3, 5), Decimal("15000.00"), c.head.pk,
    )  # fmt: skip
    # Wrong values are named in Thai and English; nothing is written.
    future = timezone.localdate() + dt.timedelta(days=5)
    r = client.post(
        url,
        {
            "kind": "cash",
            "agency": "pso",
            "given_on": f"{future.day}/{future.month}/{future.year + 543}",
            "value_baht": "-1",
        },
    )
    body = r.content.decode()
    assert r.status_code == 200 and "the value must be baht" in body and "มูลค่าต้องเป็นจำนวนบาท" in body
    r = client.post(
        url,
        {
            "kind": "cash",
            "agency": "pso",
            "given_on": f"{future.day}/{future.month}/{future.year + 543}",
            "value_baht": "1",
        },
    )
    assert "the date is in the future" in r.content.decode() and "วันที่อยู่ในอนาคต" in r.content.decode()
    assert Assistance.objects.count() == 1


def test_no_household_lookup_outside_the_area_or_for_an_agency_worker(aid: Aid):
    c = aid.cast
    assert login(c.somchai).get(f"/referrals/assistance/new/?household={c.household.code}").status_code == 404
    # The agency worker may record help, but never looks a household up by its code.
    assert login(c.agency).get(f"/referrals/assistance/new/?household={c.household.code}").status_code == 404
    assert login(c.agency).get("/referrals/assistance/new/").status_code == 404


def test_an_agency_worker_records_help_for_a_referral_sent_to_their_agency(aid: Aid):
    c = aid.cast
    referral = refer(c.ploy, c.household, aid.pso, D(2025, 3, 1))
    other = refer(c.ploy, c.household, aid.cdd, D(2025, 3, 1))
    worker = login(c.agency)
    assert worker.get(f"/referrals/assistance/new/?referral={other.ref}").status_code == 404  # not their agency
    url = f"/referrals/assistance/new/?referral={referral.ref}"
    page = worker.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and c.household.code in body
    assert "คำปุน" not in body  # no roster for the agency
    # The agency is fixed: a posted other agency is ignored.
    r = worker.post(url, {"kind": "housing_repair", "agency": "cdd", "given_on": "13/3/2568", "value_baht": "8500"})
    assert r.status_code == 302
    a = Assistance.objects.get()
    assert (a.agency, a.referral, a.household_id, a.value_baht) == (aid.pso, referral, c.household.pk, Decimal("8500"))
    # The list shows it to the agency (their agency's help only) by household code, no name.
    listing = worker.get("/referrals/assistance/").content.decode()
    assert a.household.code in listing and "บุญมี" not in listing
    assert a.household.code not in login(aid.cdd_worker).get("/referrals/assistance/").content.decode()


# --------------------------------------------------------------------------- bulk: parsing


def test_parse_pasted_lines_and_files():
    rows = bulk.parse_rows(text="household\tvalue\nHHAAAA2222\t1500\n\n hhbbbb3333 , 2,500 \nHHCCCC4444\n")
    assert [(r.row_no, r.household, r.value) for r in rows] == [
        (2, "HHAAAA2222", "1500"),
        (4, "hhbbbb3333", "2,500"),
        (5, "HHCCCC4444", ""),
    ]
    csv_bytes = "รหัสครัวเรือน,มูลค่า,person,note\nHHAAAA2222,๑๕๐๐,,ผู้สูงอายุ\n,,,\nHHBBBB3333,,P123,\n".encode("cp874")
    rows = bulk.parse_rows(data=csv_bytes, filename="list.csv")
    assert [(r.row_no, r.household, r.value, r.person, r.note) for r in rows] == [
        (2, "HHAAAA2222", "๑๕๐๐", "", "ผู้สูงอายุ"),
        (4, "HHBBBB3333", "", "P123", ""),
    ]
    with pytest.raises(bulk.BulkInvalid) as exc:
        bulk.parse_rows(data=b"code_of_house,value\nX,1\n", filename="a.csv")
    assert exc.value.problems[0].en == "no household / รหัสครัวเรือน column in the first row"
    with pytest.raises(bulk.BulkInvalid):
        bulk.parse_rows(data=b"PK\x03\x04 broken", filename="a.xlsx")
    with pytest.raises(bulk.BulkInvalid):
        bulk.parse_rows(data=b"x", filename="a.pdf")
    with pytest.raises(bulk.BulkInvalid):
        bulk.parse_rows(text="\n \n")


def test_parse_value():
    assert bulk.parse_value("1,500", Decimal(0)) == Decimal("1500.00")
    assert bulk.parse_value("๒๕๐๐ บาท", Decimal(0)) == Decimal("2500.00")
    assert bulk.parse_value("", Decimal("300")) == Decimal("300")
    for bad in ("abc", "-5", "10000000.01", "1.005", "NaN", "1e400"):
        assert bulk.parse_value(bad, Decimal(0)) is None, bad


# --------------------------------------------------------------------------- bulk: checking


def test_every_bad_row_is_reported_with_row_field_and_both_languages(aid: Aid):
    c = aid.cast
    h2 = new_household(c.ploy, "46010102", "2")
    h3 = new_household(c.ploy, "46010101", "3")
    text = "\n".join(
        [
            f"{c.household.code}\t1500",  # 1 valid
            "HHNOSUCH22",  # 2 unknown household
            c.other_household.code,  # 3 exists, but in Somchai's area: same words as unknown
            f"{c.household.code.lower()}\t200",  # 4 duplicate of row 1 (codes are not case-sensitive)
            f"{h2.code}\tabc",  # 5 bad value
            f"{h3.code}\t-5",  # 6 bad value
            "",  # 7 blank: skipped
            f"{h3.code}, 2,500",  # 8 duplicate of row 6 (a rejected row still counts as seen)
            f"{new_household(c.ploy, '46010101', '9').code}",  # 9 valid: the default value
        ]
    )
    preview = bulk.check_rows(actor=c.ploy, header=header(aid.pso), rows=bulk.parse_rows(text=text))
    assert [(r.row_no, r.value) for r in preview.valid] == [(1, "1500.00"), (9, "1000.00")]
    got = [(p.row_no, p.field, p.th, p.en) for p in preview.rejected]
    assert got == [
        (2, "household", "ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน", "not found in your area"),
        (3, "household", "ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน", "not found in your area"),
        (4, "household", "ซ้ำกับแถว 1", "duplicate of row 1"),
        (5, "value", "มูลค่าต้องเป็นจำนวนบาท 0–10,000,000", "the value must be baht from 0 to 10,000,000"),
        (6, "value", "มูลค่าต้องเป็นจำนวนบาท 0–10,000,000", "the value must be baht from 0 to 10,000,000"),
        (8, "household", "ซ้ำกับแถว 6", "duplicate of row 6"),
    ]
    assert (preview.rows, preview.rejected_rows, preview.total_value) == (8, 6, Decimal("2500.00"))
    assert Assistance.objects.count() == 0  # checking writes nothing
    # The same rows for Somchai: only his household is found.
    theirs = bulk.check_rows(actor=c.somchai, header=header(aid.pso), rows=bulk.parse_rows(text=text))
    assert [r.row_no for r in theirs.valid] == [3]


def test_header_problems_and_an_agency_worker_only_for_their_agency(aid: Aid):
    c = aid.cast
    rows = bulk.parse_rows(text=c.household.code)
    with pytest.raises(bulk.BulkInvalid) as exc:
        bulk.check_rows(actor=c.agency, header=header(aid.cdd), rows=rows)
    assert [(p.field, p.en) for p in exc.value.problems] == [("agency", "you cannot record for this agency")]
    with pytest.raises(bulk.BulkInvalid) as exc:
        bulk.check_rows(
            actor=c.ploy,
            header=header(aid.pso, kind="gold", given_on=timezone.localdate() + dt.timedelta(1)),
            rows=rows,
        )
    assert {p.field for p in exc.value.problems} == {"kind", "given_on"}
    # The agency worker reaches only households with a referral sent to their agency, and
    # the row is linked to it.
    referral = refer(c.ploy, c.household, aid.pso, D(2025, 3, 1))
    h2 = new_household(c.ploy, "46010101", "2")
    preview = bulk.check_rows(
        actor=c.agency, header=header(aid.pso), rows=bulk.parse_rows(text=f"{c.household.code}\n{h2.code}")
    )
    assert [(r.household, r.referral) for r in preview.valid] == [(c.household.code, referral.ref)]
    assert [(p.row_no, p.en) for p in preview.rejected] == [(2, "not found in your area")]


def test_files_with_members_and_notes(aid: Aid):
    from openpyxl import Workbook

    c = aid.cast
    wb = Workbook()
    ws = wb.active
    ws.append(["รหัสครัวเรือน", "มูลค่า", "person", "note"])  # type: ignore[union-attr]
    ws.append([c.household.code, 2500, c.head.ref, "ผู้สูงอายุ"])  # type: ignore[union-attr]
    ws.append([c.other_household.code, 100, "", ""])  # type: ignore[union-attr]
    h2 = new_household(c.ploy, "46010101", "2")
    ws.append([h2.code, None, c.head.ref, ""])  # type: ignore[union-attr]  # not a member of h2
    out = io.BytesIO()
    wb.save(out)
    preview = bulk.check_rows(
        actor=c.ploy, header=header(aid.pso), rows=bulk.parse_rows(data=out.getvalue(), filename="x.xlsx")
    )
    assert [(r.row_no, r.household, r.value, r.person, r.note) for r in preview.valid] == [
        (2, c.household.code, "2500.00", c.head.ref, "ผู้สูงอายุ")
    ]
    assert [(p.row_no, p.field, p.en) for p in preview.rejected] == [
        (3, "household", "not found in your area"),
        (4, "person", "not a member of this household"),
    ]


# --------------------------------------------------------------------------- bulk: committing


def test_commit_writes_all_valid_rows_in_one_batch_once(aid: Aid):
    c = aid.cast
    h2 = new_household(c.ploy, "46010101", "2")
    rows = bulk.parse_rows(text=f"{c.household.code}\t1500\nHHNOSUCH22\n{h2.code}")
    preview = bulk.check_rows(actor=c.ploy, header=header(aid.pso), rows=rows)
    with pytest.raises(bulk.BulkInvalid) as exc:
        bulk.commit_rows(actor=c.ploy, preview=preview)  # a rejected row not confirmed
    assert exc.value.problems[0].field == "confirm" and Assistance.objects.count() == 0
    with pytest.raises(bulk.PermissionDenied):
        bulk.commit_rows(actor=c.dara, preview=preview, confirmed=True)  # someone else's preview
    written = bulk.commit_rows(actor=c.ploy, preview=preview, confirmed=True)
    assert len(written) == 2 and {a.batch for a in Assistance.objects.all()} == {preview.batch}
    assert sorted(Assistance.objects.values_list("value_baht", flat=True)) == [Decimal("1000"), Decimal("1500")]
    assert AuditEvent.objects.filter(object_type="assistance_batch", object_ref=preview.batch).count() == 1
    with pytest.raises(bulk.BulkInvalid) as exc:
        bulk.commit_rows(actor=c.ploy, preview=preview, confirmed=True)
    assert exc.value.problems[0].field == "batch" and Assistance.objects.count() == 2
    # A new preview of the same rows finds them recorded already (same programme and date).
    again = bulk.check_rows(actor=c.ploy, header=header(aid.pso), rows=rows)
    assert not again.valid and {p.en for p in again.rejected} >= {
        "already recorded (same programme, agency, kind and date)"
    }


def test_commit_is_all_or_nothing(aid: Aid, monkeypatch: pytest.MonkeyPatch):
    c = aid.cast
    codes = [c.household.code] + [new_household(c.ploy, "46010101", str(n)).code for n in range(2, 5)]
    preview = bulk.check_rows(actor=c.ploy, header=header(aid.pso), rows=bulk.parse_rows(text="\n".join(codes)))
    assert len(preview.valid) == 4
    real = bulk.services.assistance_record
    calls = {"n": 0}

    def failing(**kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(**kw)

    monkeypatch.setattr(bulk.services, "assistance_record", failing)
    with pytest.raises(RuntimeError):
        bulk.commit_rows(actor=c.ploy, preview=preview)
    assert calls["n"] == 3 and Assistance.objects.count() == 0
    assert not AuditEvent.objects.filter(action="assistance.create").exists()
    monkeypatch.setattr(bulk.services, "assistance_record", real)
    assert len(bulk.commit_rows(actor=c.ploy, preview=preview)) == 4  # the same preview still commits


def test_commit_refuses_a_preview_the_data_no_longer_matches(aid: Aid):
    c = aid.cast
    preview = bulk.check_rows(actor=c.ploy, header=header(aid.pso), rows=bulk.parse_rows(text=c.household.code))
    from khm.referrals import services

    services.assistance_record(
        actor=c.ploy,
        household=c.household,
        kind="cash",
        agency=aid.pso,
        given_on=YESTERDAY,
        programme="เงินช่วยเหลือภัยแล้ง 2568",
        value_baht=1000,
    )  # fmt: skip — recorded meanwhile (another tab)
    with pytest.raises(bulk.BulkInvalid) as exc:
        bulk.commit_rows(actor=c.ploy, preview=preview)
    assert exc.value.problems[0].field == "rows" and Assistance.objects.count() == 1


def test_bulk_pages_preview_confirm_commit_and_refuse_a_second_commit(aid: Aid):
    c = aid.cast
    client = login(c.ploy)
    assert client.get("/referrals/assistance/bulk/").status_code == 200
    form = {
        "step": "preview", "programme": "ถุงยังชีพ", "agency": "pso", "kind": "in_kind", "given_on": "1/3/2568",
        "default_value": "350", "rows": f"{c.household.code}\n{c.other_household.code}\nHHNOSUCH22\t1x",
    }  # fmt: skip
    page = client.post("/referrals/assistance/bulk/", form)
    body = page.content.decode()
    assert page.status_code == 200 and page.context["preview"].rejected_rows == 2
    assert "not found in your area" in body and "ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน" in body
    assert "the value must be baht" in body
    batch = page.context["preview"].batch
    # Without the confirmation of the rejected rows: refused, the preview is shown again.
    again = client.post("/referrals/assistance/bulk/", {"step": "commit", "batch": batch})
    assert again.status_code == 200 and Assistance.objects.count() == 0
    done = client.post("/referrals/assistance/bulk/", {"step": "commit", "batch": batch, "confirm": "1"})
    assert done.status_code == 302 and done["Location"].endswith(f"?batch={batch}")
    assert list(Assistance.objects.values_list("household_id", "value_baht", "batch")) == [
        (c.household.pk, Decimal("350.00"), batch)
    ]
    twice = client.post("/referrals/assistance/bulk/", {"step": "commit", "batch": batch, "confirm": "1"}, follow=True)
    assert "already recorded or has expired" in twice.content.decode() and Assistance.objects.count() == 1
    listing = client.get(f"/referrals/assistance/?batch={batch}")
    assert c.household.code in listing.content.decode()
    # Cancel: nothing written.
    page = client.post("/referrals/assistance/bulk/", {**form, "programme": "อีกโครงการ"})
    cancel = client.post("/referrals/assistance/bulk/", {"step": "cancel", "batch": page.context["preview"].batch})
    assert cancel.status_code == 302 and Assistance.objects.count() == 1


def test_bulk_upload_through_the_page(aid: Aid):
    c = aid.cast
    client = login(c.ploy)
    upload = SimpleUploadedFile("list.csv", f"household,value\n{c.household.code},1200\n".encode(), "text/csv")
    page = client.post(
        "/referrals/assistance/bulk/",
        {"step": "preview", "programme": "ทุน", "agency": "pso", "kind": "cash", "given_on": "1/3/2568",
         "default_value": "0", "file": upload},
    )  # fmt: skip
    assert page.status_code == 200 and [r.value for r in page.context["preview"].valid] == ["1200.00"]
    # Nothing pasted, no file: the form says so.
    empty = client.post(
        "/referrals/assistance/bulk/",
        {"step": "preview", "programme": "ทุน", "agency": "pso", "kind": "cash", "given_on": "1/3/2568"},
    )
    assert empty.status_code == 200 and "form" in empty.context and empty.context["form"].errors
    # Somebody with no agency to record for (a village volunteer has no assistance.record).
    assert login(c.vee).get("/referrals/assistance/bulk/").status_code == 403
