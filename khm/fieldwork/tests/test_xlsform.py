"""The questionnaire as an XLSForm: the sheets and columns of the XLSForm specification, and
every item and option under its KHM code so that an export maps back 1:1."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.test import Client

from khm.assessment import instruments as inst
from khm.fieldwork import xlsform
from khm.fieldwork.models import Outcome

pytestmark = pytest.mark.django_db


def sheet_rows(wb: Any, name: str) -> list[dict[str, Any]]:
    ws = wb[name]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:]]


@pytest.fixture
def form() -> Any:
    return openpyxl.load_workbook(io.BytesIO(xlsform.xlsform_bytes()))


def test_the_form_has_the_three_sheets_and_the_spec_columns(form):
    assert form.sheetnames == ["survey", "choices", "settings"]
    survey_header = [c.value for c in form["survey"][1]]
    for col in ("type", "name", "label::Thai (th)", "label::English (en)", "required", "relevant", "constraint",
                "appearance", "hint::Thai (th)", "default"):  # fmt: skip
        assert col in survey_header
    assert [c.value for c in form["choices"][1]][:4] == ["list_name", "name", "label::Thai (th)", "label::English (en)"]
    assert {"form_title", "form_id", "version", "default_language"} <= {c.value for c in form["settings"][1]}


def test_settings_carry_the_instrument_version(form):
    capitals = inst.current_of_kind("capitals")
    settings = sheet_rows(form, "settings")[0]
    assert settings["version"] == str(capitals.version)
    assert settings["form_id"] == f"khm_verification_five_capitals_v{capitals.version}"
    assert settings["default_language"] == "Thai (th)"
    assert settings["form_title"]


def test_verification_fields(form):
    rows = {r["name"]: r for r in sheet_rows(form, "survey") if r["name"]}
    assert rows["household_code"]["type"] == "text" and rows["household_code"]["required"] == "yes"
    assert rows["outcome"]["type"] == "select_one outcome" and rows["outcome"]["required"] == "yes"
    assert rows["moved_to"]["relevant"] == "${outcome} = 'moved'"
    assert rows["duplicate_of"]["relevant"] == "${outcome} = 'duplicate'"
    assert rows["consent"]["type"] == "select_one yes_no" and rows["consent"]["constraint"] == ". = 'yes'"
    assert rows["verified_on"]["type"] == "date" and rows["verified_on"]["default"] == "today()"
    assert rows["gps"]["type"] == "geopoint" and rows["photo"]["type"] == "image"
    assert rows["notes"]["type"] == "text"
    choices = sheet_rows(form, "choices")
    assert [c["name"] for c in choices if c["list_name"] == "outcome"] == list(Outcome.values)
    assert all(c["label::Thai (th)"] and c["label::English (en)"] for c in choices)


def test_every_item_and_option_appears_with_its_khm_code(form):
    definition = inst.definition(inst.current_of_kind("capitals"))
    survey = sheet_rows(form, "survey")
    by_name = {r["name"]: r for r in survey if r["name"] and r["type"] != "end group"}
    choices = sheet_rows(form, "choices")
    kinds = {"choice": "select_one", "multi": "select_multiple", "number": "integer"}
    n_items = 0
    for capital in definition["capitals"]:
        group = by_name[capital["code"]]
        assert group["type"] == "begin group"
        assert group["relevant"] == "${outcome} = 'confirmed_poor' or ${outcome} = 'not_poor'"
        assert {"type": "end group", "name": capital["code"]}.items() <= next(
            r for r in survey if r["type"] == "end group" and r["name"] == capital["code"]
        ).items()
        for item in capital["items"]:
            n_items += 1
            row = by_name[item["code"]]
            assert row["type"].split()[0] == kinds[item["type"]]
            assert row["label::Thai (th)"] == item["label"]["th"]
            if item["type"] == "number":
                assert row["constraint"] == ". >= 0"
            else:
                assert row["type"] == f"{kinds[item['type']]} {item['code']}"
                listed = [c["name"] for c in choices if c["list_name"] == item["code"]]
                assert listed == [o["value"] for o in item["options"]]
    assert n_items >= 30
    # The items sit between their group's begin and end rows.
    names = [(r["type"], r["name"]) for r in survey]
    first = definition["capitals"][0]
    begin, end = names.index(("begin group", first["code"])), names.index(("end group", first["code"]))
    assert [n for _t, n in names[begin + 1 : end]] == [it["code"] for it in first["items"]]


def test_a_none_option_excludes_the_others(form):
    rows = {r["name"]: r for r in sheet_rows(form, "survey") if r["name"]}
    assert rows["h_skills"]["constraint"] == "not(selected(., 'none') and count-selected(.) > 1)"


def test_download_page(cast):
    client = Client()
    client.force_login(cast.ploy)
    r = client.get("/fieldwork/survey-tools/xlsform.xlsx")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "khm_verification_five_capitals_v" in r["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["survey", "choices", "settings"]
    client.force_login(cast.agency)  # no verification.submit
    assert client.get("/fieldwork/survey-tools/xlsform.xlsx").status_code == 403
