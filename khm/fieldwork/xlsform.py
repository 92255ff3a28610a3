"""The verification questionnaire as an XLSForm, for teams that collect with KoboToolbox or
ODK Collect instead of the KHM phone app.

The form is built from the current five-capitals instrument, so it always asks what the
phone app asks. Field names are the KHM names (``household_code``, ``outcome``…, and each
item's code), choice names are the KHM option values, and the questionnaire is grouped by
capital: an export of the submissions (``human/h_education`` in KoboToolbox,
``human-h_education`` in ODK Central) maps back 1:1 (see :mod:`khm.fieldwork.kobo`).

Sheets and columns follow the XLSForm specification (https://xlsform.org): ``survey``
(type, name, label::Thai (th), label::English (en), hint::…, required, relevant, constraint,
constraint_message::…, appearance, default, parameters), ``choices`` (list_name, name, label::…) and
``settings`` (form_title, form_id, version, default_language, instance_name).
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from khm.assessment import instruments as inst
from khm.assessment.models import Instrument
from khm.fieldwork.models import Outcome

TH, EN = "Thai (th)", "English (en)"
DEFAULT_LANGUAGE = TH

SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{TH}",
    f"label::{EN}",
    f"hint::{TH}",
    f"hint::{EN}",
    "required",
    "relevant",
    "constraint",
    f"constraint_message::{TH}",
    f"constraint_message::{EN}",
    "appearance",
    "default",
    "parameters",
)
CHOICES_COLUMNS = ("list_name", "name", f"label::{TH}", f"label::{EN}")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language", "instance_name")

# Outcome labels in both languages (the form carries both, whatever the page's language).
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    Outcome.CONFIRMED_POOR: ("ยืนยันว่ายากจน", "Confirmed poor"),
    Outcome.NOT_POOR: ("ไม่ยากจน", "Not poor"),
    Outcome.MOVED: ("ย้ายออก", "Moved away"),
    Outcome.DECEASED: ("เสียชีวิต", "Deceased"),
    Outcome.NOT_FOUND: ("ไม่พบครัวเรือน", "Household not found"),
    Outcome.DUPLICATE: ("ซ้ำกับครัวเรือนอื่น", "Duplicate of another household"),
}
ASKED_WHEN = (Outcome.CONFIRMED_POOR, Outcome.NOT_POOR)
QUESTIONNAIRE_RELEVANT = " or ".join(f"${{outcome}} = '{o}'" for o in ASKED_WHEN)

# The fields of the verification itself, outside the questionnaire groups.
BASE_FIELDS = (
    "household_code",
    "outcome",
    "moved_to",
    "duplicate_of",
    "consent",
    "verified_on",
    "gps",
    "photo",
    "notes",
)
METADATA_FIELDS = ("start", "end")


def form_id(capitals: Instrument) -> str:
    """``khm_verification_<code>_v<version>``: a valid XML name, new for each version."""
    code = re.sub(r"[^0-9A-Za-z_]", "_", capitals.code)
    return f"khm_verification_{code}_v{capitals.version}"


def _row(**cells: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in cells.items():
        if key in ("label", "hint", "constraint_message"):
            th, en = value
            out[f"{key}::{TH}"], out[f"{key}::{EN}"] = th, en
        else:
            out[key] = value
    return out


def _label(obj: Any) -> tuple[str, str]:
    if isinstance(obj, dict):
        th = str(obj.get("th") or obj.get("en") or "")
        return th, str(obj.get("en") or th)
    return str(obj or ""), str(obj or "")


def survey_rows(definition: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(survey rows, choice rows) of the form for one five-capitals definition."""
    survey: list[dict[str, Any]] = [
        _row(type="start", name="start"),
        _row(type="end", name="end"),
        _row(
            type="text",
            name="household_code",
            label=("รหัสครัวเรือน (KHM)", "Household code (KHM)"),
            hint=(
                "รหัสจากหน้าครัวเรือนหรือรายชื่อใน KHM เช่น HH2345ABCD",
                "The code on the KHM household page or list, e.g. HH2345ABCD",
            ),
            required="yes",
        ),
        _row(
            type="select_one outcome",
            name="outcome",
            label=("ผลการตรวจสอบ", "Outcome of the verification"),
            required="yes",
        ),
        _row(
            type="text",
            name="moved_to",
            label=("ย้ายไปที่ไหน", "Where did the household move to?"),
            required="yes",
            relevant=f"${{outcome}} = '{Outcome.MOVED}'",
        ),
        _row(
            type="text",
            name="duplicate_of",
            label=("ซ้ำกับครัวเรือนรหัส", "Duplicate of household (code)"),
            required="yes",
            relevant=f"${{outcome}} = '{Outcome.DUPLICATE}'",
        ),
        _row(
            type="select_one yes_no",
            name="consent",
            label=(
                "ได้แจ้งวัตถุประสงค์และได้รับความยินยอมจากครัวเรือนแล้ว",
                "The household was informed of the purpose and consents",
            ),
            required="yes",
            constraint=". = 'yes'",
            constraint_message=(
                "ต้องได้รับความยินยอมก่อนบันทึกข้อมูล",
                "the household must consent before anything is recorded",
            ),
        ),
        _row(
            type="date",
            name="verified_on",
            label=("วันที่ตรวจสอบ", "Verified on"),
            required="yes",
            default="today()",
            constraint=". <= today()",
            constraint_message=("วันที่ต้องไม่อยู่ในอนาคต", "the date cannot be in the future"),
        ),
        _row(type="geopoint", name="gps", label=("พิกัดบ้าน", "Location of the house")),
        _row(
            type="image",
            name="photo",
            label=("รูปถ่ายบ้าน", "Photo of the house"),
            parameters="max-pixels=1280",  # as the KHM app: smaller uploads, same use
            hint=(
                "รูปเก็บไว้ใน KoboToolbox/ODK; KHM บันทึกเฉพาะชื่อไฟล์",
                "The photo stays in KoboToolbox/ODK; KHM keeps only its file name",
            ),
        ),
        _row(type="text", name="notes", label=("บันทึกเพิ่มเติม", "Notes"), appearance="multiline"),
    ]
    choices: list[dict[str, Any]] = [
        _row(list_name="outcome", name=value, label=OUTCOME_LABELS[value]) for value in Outcome.values
    ]
    choices += [
        _row(list_name="yes_no", name="yes", label=("ใช่", "Yes")),
        _row(list_name="yes_no", name="no", label=("ไม่ใช่", "No")),
    ]
    taken = set(BASE_FIELDS) | set(METADATA_FIELDS) | {"outcome", "yes_no"}
    for capital in definition.get("capitals", []):
        group = str(capital["code"])
        if group in taken:
            raise ValueError(f"capital code {group!r} clashes with a field of the form")
        taken.add(group)
        survey.append(
            _row(
                type="begin group",
                name=group,
                label=_label(capital.get("label")),
                relevant=QUESTIONNAIRE_RELEVANT,
                appearance="field-list",
            )
        )
        for item in capital.get("items", []):
            code = str(item["code"])
            if code in taken:
                raise ValueError(f"item code {code!r} is used twice in the form")
            taken.add(code)
            kind = item.get("type")
            row = _row(name=code, label=_label(item.get("label")))
            if kind == "number":
                row.update(
                    _row(
                        type="integer",
                        constraint=". >= 0",
                        constraint_message=("ต้องเป็นตัวเลขไม่ติดลบ", "must be a number of 0 or more"),
                    )
                )
            elif kind in ("choice", "multi"):
                row["type"] = f"{'select_one' if kind == 'choice' else 'select_multiple'} {code}"
                none = [str(o["value"]) for o in item.get("options", []) if o.get("none")]
                if kind == "multi" and none:
                    row.update(
                        _row(
                            constraint=f"not(selected(., '{none[0]}') and count-selected(.) > 1)",
                            constraint_message=(
                                "เลือก “ไม่มี” พร้อมตัวเลือกอื่นไม่ได้",
                                "“none” cannot be chosen with other options",
                            ),
                        )
                    )
                for option in item.get("options", []):
                    value = str(option["value"])
                    if not value or any(c.isspace() for c in value):
                        raise ValueError(f"option {value!r} of {code} cannot be a choice name")
                    choices.append(_row(list_name=code, name=value, label=_label(option.get("label"))))
            else:
                raise ValueError(f"item {code} has a type the form cannot ask: {kind!r}")
            survey.append(row)
        survey.append(_row(type="end group", name=group))
    return survey, choices


def build_xlsform(capitals: Instrument | None = None) -> Workbook:
    """The XLSForm of the current five-capitals questionnaire (or of ``capitals``)."""
    capitals = capitals or inst.current_of_kind("capitals")
    if capitals is None:
        raise LookupError("no five-capitals questionnaire is installed")
    definition = inst.definition(capitals) or {}
    survey, choices = survey_rows(definition)
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]], first: bool = False) -> None:
        ws = wb.active if first else wb.create_sheet(title)
        assert ws is not None
        ws.title = title
        ws.append(list(columns))
        for cell in ws[1]:
            cell.font = bold
        for r in rows:
            ws.append([r.get(c, "") or None for c in columns])
        ws.freeze_panes = "A2"
        for i, c in enumerate(columns):
            width = max([len(c), *(len(str(r.get(c) or "")) for r in rows)])
            ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = min(max(width + 2, 10), 60)

    title_th = capitals.title_th or str(definition.get("title", {}).get("th", ""))
    settings_row = {
        "form_title": f"KHM ตรวจสอบครัวเรือน · {title_th} (v{capitals.version})",
        "form_id": form_id(capitals),
        "version": str(capitals.version),
        "default_language": DEFAULT_LANGUAGE,
        "instance_name": "concat(${household_code}, ' ', ${outcome})",
    }
    sheet("survey", SURVEY_COLUMNS, survey, first=True)
    sheet("choices", CHOICES_COLUMNS, choices)
    sheet("settings", SETTINGS_COLUMNS, [settings_row])
    return wb


def xlsform_bytes(capitals: Instrument | None = None) -> bytes:
    buf = io.BytesIO()
    build_xlsform(capitals).save(buf)
    return buf.getvalue()
