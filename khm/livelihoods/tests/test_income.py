"""Recording income: the phone form, corrections, the API, and spreadsheet imports with bad
rows (every problem names its row and field in Thai and English; nothing is written unless
every row is good)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path

from khm.livelihoods.api import router
from khm.livelihoods.models import IncomeRecord
from khm.livelihoods.tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

D = dt.date


def upload(c: Any, name: str, data: bytes) -> Any:
    return c.post(
        "/livelihoods/income/import/", {"step": "preview", "file": SimpleUploadedFile(name, data)}, follow=False
    )


def test_the_phone_form_records_one_period_by_source(world: World):
    cast = world.cast
    vee = client_for(cast.vee)  # a village volunteer on a phone
    url = f"/livelihoods/households/{cast.household.code}/income/"
    page = vee.get(url, {"via": "phone"})
    body = page.content.decode()
    assert page.status_code == 200 and 'name="viewport"' in body and 'inputmode="decimal"' in body
    r = vee.post(
        url,
        {"period_start": "๑/๒๕๖๘", "period_end": "6/2568", "src_crops": "12,000", "src_welfare": "3600",
         "src_wages": "", "via": "phone"},
    )  # fmt: skip
    assert r.status_code == 302
    rows = {(x.source, x.period_start, x.period_end, x.amount_baht, x.method) for x in IncomeRecord.objects.all()}
    assert rows == {("crops", D(2025, 1, 1), D(2025, 6, 30), 12000, "mobile"),
                    ("welfare", D(2025, 1, 1), D(2025, 6, 30), 3600, "mobile")}  # fmt: skip
    # A correction of the same period and source replaces the amount.
    vee.post(url, {"period_start": "1/2568", "period_end": "6/2568", "src_crops": "13000"})
    assert IncomeRecord.objects.get(source="crops").amount_baht == 13000 and IncomeRecord.objects.count() == 2
    # Bad input names the field in both languages and writes nothing.
    bad = vee.post(url, {"period_start": "6/2568", "period_end": "1/2568", "src_crops": "-5"})
    text = bad.content.decode()
    assert bad.status_code == 200 and "baht from 0 to 10,000,000" in text and "ต้องเป็นจำนวนบาท" in text
    bad = vee.post(url, {"period_start": "6/2568", "period_end": "1/2568", "src_crops": "5"})
    text = bad.content.decode()
    assert "the last month is before the first" in text and "เดือนสุดท้ายอยู่ก่อนเดือนเริ่มต้น" in text
    assert IncomeRecord.objects.count() == 2
    # Another district's officer: 404, like a missing household.
    assert client_for(cast.somchai).get(url).status_code == 404
    assert client_for(cast.somchai).post(url, {"period_start": "1/2568", "period_end": "6/2568",
                                               "src_crops": "1"}).status_code == 404  # fmt: skip


BAD_CSV = (
    "รหัสครัวเรือน,แหล่งรายได้,เดือนเริ่ม,เดือนสุดท้าย,รายได้\n"
    '{ok},ค่าจ้าง,1/2567,12/2567,"36,000"\n'  # row 2: good
    "{ok},lottery,1/2567,12/2567,100\n"  # row 3: unknown source
    "{other},wages,1/2567,12/2567,100\n"  # row 4: somchai's household: not in Ploy's area
    "{ok},crops,13/2567,12/2567,abc\n"  # row 5: bad month and amount
    ",wages,1/2567,12/2567,5\n"  # row 6: no household
    "{ok},ค่าจ้าง,1/2567,12/2567,1\n"  # row 7: duplicate of row 2
    "{ok},crops,6/2567,1/2567,5\n"  # row 8: ends before it starts
)


def test_import_with_bad_rows_names_each_row_and_field_and_writes_nothing(world: World):
    cast = world.cast
    c = client_for(cast.ploy)
    data = BAD_CSV.format(ok=cast.household.code, other=cast.other_household.code).encode("cp874")
    r = upload(c, "income.csv", data)
    body = r.content.decode()
    assert r.status_code == 200
    found = {(int(row), field) for row, field in re.findall(r'data-row="(\d+)" data-field="(\w+)"', body)}
    assert found == {(3, "source"), (4, "household"), (5, "from"), (5, "amount"), (6, "household"),
                     (7, "household"), (8, "to")}  # fmt: skip
    for th, en in [
        ("ไม่รู้จักแหล่งรายได้นี้", "unknown source"),
        ("ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน", "not found in your area"),
        ("เดือนเริ่มไม่ถูกต้อง", "the first month is not a month"),
        ("รายได้ต้องเป็นจำนวนบาท", "the income must be baht"),
        ("ไม่มีรหัสครัวเรือน", "the household code is missing"),
        ("ซ้ำกับแถว 2", "duplicate of row 2"),
        ("เดือนสุดท้ายอยู่ก่อนเดือนเริ่มต้น", "the last month is before the first"),
    ]:
        assert th in body and en in body, en
    assert 'value="commit"' not in body  # no way to record a file with bad rows
    assert IncomeRecord.objects.count() == 0
    # Even a forged commit of that batch records nothing.
    r = c.post("/livelihoods/income/import/", {"step": "commit", "batch": "INXXXXXXXXXX"})
    assert r.status_code == 302 and IncomeRecord.objects.count() == 0


def test_a_good_xlsx_is_previewed_then_recorded_once(world: World):
    import openpyxl

    cast = world.cast
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["household", "source", "from", "to", "amount", "note"])
    ws.append([cast.household.code, "wages", "1/2567", "12/2567", 36000, "ก่อนเข้ากลุ่ม"])
    ws.append([cast.household.code, "enterprise", dt.datetime(2025, 1, 15), "มิ.ย. 2568", 18000.0, ""])
    buf = io.BytesIO()
    wb.save(buf)
    c = client_for(cast.ploy)
    r = upload(c, "income.xlsx", buf.getvalue())
    body = r.content.decode()
    assert r.status_code == 200 and 'value="commit"' in body and IncomeRecord.objects.count() == 0
    batch = re.search(r'name="batch" value="(\w+)"', body).group(1)  # type: ignore[union-attr]
    done = c.post("/livelihoods/income/import/", {"step": "commit", "batch": batch})
    assert done.status_code == 302
    got = sorted(
        (x.source, x.period_start, x.period_end, int(x.amount_baht), x.method) for x in IncomeRecord.objects.all()
    )
    assert got == [("enterprise", D(2025, 1, 1), D(2025, 6, 30), 18000, "import"),
                   ("wages", D(2024, 1, 1), D(2024, 12, 31), 36000, "import")]  # fmt: skip
    again = c.post("/livelihoods/income/import/", {"step": "commit", "batch": batch})  # a double click
    assert again.status_code == 302 and IncomeRecord.objects.count() == 2
    # The same file again: every row is already recorded, so nothing is offered.
    r = upload(c, "income.xlsx", buf.getvalue())
    assert "already recorded for this source and period" in r.content.decode() and IncomeRecord.objects.count() == 2


def test_a_file_without_the_columns_is_refused(world: World):
    r = upload(client_for(world.cast.ploy), "x.csv", b"name,value\nA,1\n")
    body = r.content.decode()
    assert "missing column(s) in the first row: household, source, from, to, amount" in body
    assert "ไม่พบคอลัมน์" in body


# --------------------------------------------------------------------------- API

_api: Any = None


def _test_urls() -> list[Any]:
    """The livelihood router under /api/v1/ (session auth) until khm/api/urls.py mounts it."""
    from ninja import NinjaAPI
    from ninja.security import django_auth

    global _api
    if _api is None:
        _api = NinjaAPI(title="KHM livelihoods (test)", version="livelihoods-test", auth=django_auth,
                        urls_namespace="livapi")  # fmt: skip
        _api.add_router("/", router)
    return [path("api/v1/", _api.urls), path("", include("config.urls"))]


def _mounted() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/livelihoods/impact")
    except Resolver404:
        return False
    return True


MOUNTED = _mounted()
urlpatterns = [] if MOUNTED else _test_urls()


def test_api_link_income_and_enterprises(world: World, settings: Any):
    if not MOUNTED:
        settings.ROOT_URLCONF = __name__
    cast = world.cast
    ploy = client_for(cast.ploy)
    code = cast.household.code

    def post(c: Any, url: str, data: dict[str, Any]) -> Any:
        return c.post(url, json.dumps(data), content_type="application/json")

    r = post(ploy, f"/api/v1/households/{code}/links",
             {"enterprise": world.weavers.code, "role": "member", "started_on": "2025-01-01"})  # fmt: skip
    assert r.status_code == 201 and r.json()["counted_as_help"] is True
    bad = post(ploy, f"/api/v1/households/{code}/income",
               {"period_start": "2025-01-01", "period_end": "2025-06-15", "amounts": {"wages": 100}})  # fmt: skip
    err = bad.json()["errors"][0]
    assert bad.status_code == 422 and err["field"] == "period_end" and err["message_th"] and err["message_en"]
    ok = post(ploy, f"/api/v1/households/{code}/income",
              {"period_start": "2024-01-01", "period_end": "2024-12-31", "amounts": {"wages": 24000, "crops": 12000}})  # fmt: skip
    assert ok.status_code == 201
    post(ploy, f"/api/v1/households/{code}/income",
         {"period_start": "2025-01-01", "period_end": "2025-06-30", "amounts": {"wages": 24000}})  # fmt: skip
    got = ploy.get(f"/api/v1/households/{code}/livelihood").json()
    assert [(p["monthly"], p["phase"]) for p in got["income"]] == [(4000.0, "follow-up"), (3000.0, "baseline")]
    assert client_for(cast.somchai).get(f"/api/v1/households/{code}/livelihood").status_code == 404
    listed = client_for(cast.analyst).get("/api/v1/enterprises").json()
    assert listed[0]["code"] == world.weavers.code and listed[0]["linked_households"] == 1
    assert listed[0]["needs"][0]["kind"] == "labour"
    impact = client_for(cast.analyst).get("/api/v1/livelihoods/impact").json()
    assert impact["suppressed"] is True and impact["linked"] is None  # one household: withheld
    full = ploy.get("/api/v1/livelihoods/impact").json()
    assert full["linked"]["n"] == 1 and full["linked"]["pct_median"] == pytest.approx(100 / 3)
