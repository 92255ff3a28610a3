"""Import the submissions of a KoboToolbox or ODK Central export (CSV or XLSX) made with the
KHM XLSForm (:mod:`khm.fieldwork.xlsform`).

Each row becomes one verification through :func:`khm.fieldwork.services.verification_submit`,
the same service as the phone app, with ``method=import`` and the idempotency key
``kobo-<submission uuid>``: importing the same export twice stores each submission once.

:func:`import_submissions` first checks every row and reports each problem with its row
number and column, in Thai and English; nothing is written. Called again with
``commit=True`` it submits the valid rows, each in its own transaction: a row that fails
then is reported and the others still go through.

What the exports look like:

* KoboToolbox: ``_uuid``, ``_submission_time``, group prefixes with ``/``
  (``human/h_education``), the geopoint as one ``gps`` column ("lat lon alt accuracy") and
  ``_gps_latitude``…; select_multiple as one space-separated column plus optional 0/1
  columns per option (``human/h_skills/farming``). CSV exports use ``;`` by default.
* ODK Central: ``SubmissionDate``, ``meta-instanceID``, ``KEY``, group prefixes with ``-``
  (``human-h_education``) and the geopoint split into ``gps-Latitude``, ``gps-Longitude``,
  ``gps-Altitude``, ``gps-Accuracy``.

Photos are not imported (they stay in KoboToolbox/ODK): their file name is added to the notes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from khm.accounts.scoping import can
from khm.assessment import instruments as inst
from khm.core.dates import ThaiDateError, parse_thai_date
from khm.engines.ids import THAI_DIGITS
from khm.engines.linkage.fields import decode_bytes
from khm.fieldwork import selectors, services
from khm.fieldwork.models import Campaign, CampaignStatus, Method, Outcome, Verification
from khm.fieldwork.xlsform import ASKED_WHEN, BASE_FIELDS
from khm.registry.models import Household
from khm.registry.selectors import households_visible

ACTION = "verification.submit"
KEY_PREFIX = "kobo-"
MAX_BYTES = 25 * 1024 * 1024
MAX_ROWS = 20_000
EXTENSIONS = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")

# Submission identifiers, best first (lower-cased headers).
UUID_COLUMNS = ("_uuid", "meta/instanceid", "meta-instanceid", "instanceid", "key")
SUBMITTED_COLUMNS = ("_submission_time", "submissiondate", "end")
GPS_PART = re.compile(r"_?(?:.*[/-])?gps[_/-](latitude|longitude|altitude|precision|accuracy)")
YES = {"yes", "y", "1", "true", "ใช่", "ยินยอม"}


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row as a spreadsheet numbers it (the header is row 1); 0: the whole file
    field: str  # the column as the file names it
    th: str
    en: str


@dataclass
class ImportReport:
    file_name: str
    sha256: str
    tool: str = ""
    rows: int = 0
    valid: int = 0  # rows that pass every check (preview) / that were submitted (commit)
    already: int = 0  # submissions already imported (same key)
    created: int = 0
    committed: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the file's headers, to order the problems
    verifications: list[str] = field(default_factory=list)  # refs created by the commit

    @property
    def error_rows(self) -> int:
        return len({p.row for p in self.problems if p.row})

    @property
    def file_problems(self) -> list[RowProblem]:
        return [p for p in self.problems if not p.row]

    @property
    def row_problems(self) -> list[RowProblem]:
        order = {h: i for i, h in reversed(list(enumerate(self.columns)))}
        return sorted((p for p in self.problems if p.row), key=lambda p: (p.row, order.get(p.field, len(order))))


class ExportUnreadable(ValueError):
    def __init__(self, th: str, en: str) -> None:
        super().__init__(en)
        self.th, self.en = th, en


# --------------------------------------------------------------------------- reading


def _text(value: Any) -> str:
    """A cell as text: whole numbers without ``.0``, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_export(file_name: str, content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(headers, [(row number, cells)]) of the first sheet of an XLSX/XLS or of a CSV."""
    if content[:4] == b"PK\x03\x04" or content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            grid: list[list[Any]] = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception:  # calamine raises its own error types per format
            raise ExportUnreadable(
                "เปิดไฟล์ Excel นี้ไม่ได้", "this Excel file cannot be read: export it again as XLSX or CSV"
            ) from None
        table = [[_text(v) for v in r] for r in grid]
    else:
        try:
            text = decode_bytes(content)
        except UnicodeDecodeError:
            raise ExportUnreadable(
                "อ่านไฟล์นี้ไม่ได้ ใช้ CSV แบบ UTF-8 หรือไฟล์ Excel", "the file cannot be read: use CSV in UTF-8, or Excel"
            ) from None
        first = text.split("\n", 1)[0]
        delimiter = max((";", ",", "\t"), key=first.count) if any(d in first for d in ";,\t") else ","
        table = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    if not table or not any(table[0]):
        raise ExportUnreadable("ไฟล์ว่างเปล่า", "the file is empty")
    headers = [h.replace("\ufeff", "").strip() for h in table[0]]
    rows = [(i + 2, r + [""] * (len(headers) - len(r))) for i, r in enumerate(table[1:]) if any(r)]
    return headers, rows


@dataclass
class Columns:
    """Where each KHM field is in the file (column indexes and the headers as written)."""

    fields: dict[str, int] = field(default_factory=dict)
    split: dict[str, dict[str, int]] = field(default_factory=dict)  # multi item → option → 0/1 column
    gps: dict[str, int] = field(default_factory=dict)  # latitude/longitude/accuracy
    uuid: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    tool: str = ""

    def name(self, fld: str) -> str:
        """The header of a field as the file writes it (the KHM name when absent)."""
        if fld in self.fields:
            return self.headers[self.fields[fld]]
        if fld == "gps" and self.gps:
            return self.headers[next(iter(self.gps.values()))]
        if fld == "_uuid" and self.uuid:
            return self.headers[self.uuid[0]]
        return fld


def map_columns(headers: list[str], items: dict[str, dict[str, Any]]) -> Columns:
    known = set(BASE_FIELDS) | set(items)
    multis = {
        code: {str(o["value"]) for o in it.get("options", [])} for code, it in items.items() if it["type"] == "multi"
    }
    cols = Columns(headers=headers)
    uuid_at: dict[str, int] = {}
    for i, header in enumerate(headers):
        low = header.lower()
        if low in UUID_COLUMNS:
            uuid_at.setdefault(low, i)
            continue
        if low in SUBMITTED_COLUMNS:
            cols.submitted.append(i)
            continue
        m = GPS_PART.fullmatch(low)
        if m:
            part = {"precision": "accuracy"}.get(m[1], m[1])
            cols.gps.setdefault(part, i)
            continue
        for sep in ("/", "-"):
            parts = [p for p in header.split(sep) if p]
            if len(parts) >= 2 and parts[-2] in multis and parts[-1] in multis[parts[-2]]:
                cols.split.setdefault(parts[-2], {}).setdefault(parts[-1], i)
                break
            if parts and parts[-1] in known:
                cols.fields.setdefault(parts[-1], i)
                break
    cols.uuid = [uuid_at[k] for k in UUID_COLUMNS if k in uuid_at]
    low_headers = {h.lower() for h in headers}
    if "_uuid" in low_headers or "_submission_time" in low_headers or any("/" in h for h in headers):
        cols.tool = "KoboToolbox"
    elif "key" in low_headers or "submissiondate" in low_headers or "meta-instanceid" in low_headers:
        cols.tool = "ODK"
    return cols


# --------------------------------------------------------------------------- one row


@dataclass
class Row:
    number: int
    key: str = ""
    code: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    household: Household | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def bad(self, fld: str, th: str, en: str) -> None:
        self.problems.append(RowProblem(self.number, fld, th, en))


def _number(text: str) -> int | float | None:
    try:
        d = Decimal(text.translate(THAI_DIGITS).replace(",", "").strip())
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    return int(d) if d == d.to_integral_value() else float(d)


def _date(text: str) -> dt.date:
    text = text.strip()
    if re.match(r"\d{4}-\d{2}-\d{2}[T ]", text):
        text = text[:10]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return parse_thai_date(text)


def _submission_id(value: str) -> str:
    value = value.strip()
    return value[5:] if value.lower().startswith("uuid:") else value


def parse_row(number: int, cells: list[str], cols: Columns, items: dict[str, dict[str, Any]], file_name: str) -> Row:
    """The verification payload of one row, with the problems that need no database."""
    row = Row(number)

    def get(fld: str) -> str:
        i = cols.fields.get(fld)
        return cells[i].strip() if i is not None else ""

    ids = [_submission_id(cells[i]) for i in cols.uuid if cells[i].strip()]
    if not ids:
        row.bad(
            cols.name("_uuid"), "ไม่มีรหัสการส่ง (_uuid หรือ instanceID)", "the submission has no uuid (_uuid or instanceID)"
        )
    else:
        row.key = (KEY_PREFIX + ids[0])[:80]
    row.code = get("household_code").translate(THAI_DIGITS).replace(" ", "").upper()
    if not row.code:
        row.bad(cols.name("household_code"), "ไม่มีรหัสครัวเรือน", "the household code is missing")
    outcome = get("outcome").lower()
    if outcome not in Outcome.values:
        shown = outcome or "—"
        row.bad(
            cols.name("outcome"),
            f"ผลการตรวจสอบ '{shown}' ไม่ถูกต้อง ใช้: {', '.join(Outcome.values)}",
            f"'{shown}' is not an outcome: use {', '.join(Outcome.values)}",
        )
    verified = get("verified_on")
    if not verified:  # the form defaults to today; fall back on when it was sent
        verified = next((cells[i] for i in cols.submitted if cells[i].strip()), "")
    on: dt.date | None = None
    if not verified:
        row.bad(cols.name("verified_on"), "ไม่มีวันที่ตรวจสอบ", "the verification date is missing")
    else:
        try:
            on = _date(verified)
        except ThaiDateError as exc:
            if exc.code == "invalid":
                row.bad(cols.name("verified_on"), f"ไม่มีวันที่ {verified}", f"there is no such date: {verified}")
            else:
                row.bad(
                    cols.name("verified_on"),
                    f"อ่านวันที่ {verified} ไม่ได้ ใช้ ปี-เดือน-วัน หรือ วัน/เดือน/ปี พ.ศ.",
                    f"date {verified} not understood: use year-month-day or day/month/Buddhist year",
                )
    if get("consent").lower() not in YES:
        row.bad(
            cols.name("consent"),
            "ไม่มีความยินยอมของครัวเรือน (consent ต้องเป็น yes)",
            "the household's consent is missing (consent must be yes)",
        )
    gps: dict[str, float] | None = None
    parts = get("gps").split()
    lat_lon: list[str] = parts[:2] if len(parts) >= 2 else []
    accuracy = parts[3] if len(parts) >= 4 else ""
    if not lat_lon and "latitude" in cols.gps and "longitude" in cols.gps:
        lat_lon = [cells[cols.gps["latitude"]], cells[cols.gps["longitude"]]]
        accuracy = cells[cols.gps["accuracy"]] if "accuracy" in cols.gps else ""
    if any(x.strip() for x in lat_lon) or (get("gps") and not lat_lon):
        lat, lon = (_number(x) for x in lat_lon) if lat_lon else (None, None)
        acc = _number(accuracy) if accuracy.strip() else None
        if lat is None or lon is None:
            row.bad(cols.name("gps"), "พิกัดไม่ถูกต้อง", "the GPS point is not valid")
        else:
            gps = {"lat": float(lat), "lon": float(lon)}
            if acc is not None:
                gps["accuracy"] = float(acc)
    answers: dict[str, Any] = {}
    if outcome in ASKED_WHEN:
        for code, item in items.items():
            value = get(code)
            header = cols.name(code)
            if item["type"] == "multi" and not value and code in cols.split:
                value = " ".join(
                    opt
                    for opt, i in cols.split[code].items()
                    if cells[i].strip().lower() in ("1", "1.0", "true", "yes")
                )
                header = header if code in cols.fields else cols.headers[next(iter(cols.split[code].values()))]
            if not value:
                continue
            options = [str(o["value"]) for o in item.get("options", [])]
            if item["type"] == "number":
                n = _number(value)
                if n is None or n < 0:
                    row.bad(header, f"'{value}' ต้องเป็นตัวเลขไม่ติดลบ", f"'{value}' must be a number of 0 or more")
                else:
                    answers[code] = n
            elif item["type"] == "choice":
                if value not in options:
                    row.bad(
                        header,
                        f"'{value}' ไม่ใช่ตัวเลือกของข้อ {code} ({', '.join(options)})",
                        f"'{value}' is not an option of {code} ({', '.join(options)})",
                    )
                else:
                    answers[code] = value
            else:
                chosen = value.split()
                unknown = [c for c in chosen if c not in options]
                if unknown:
                    row.bad(
                        header,
                        f"'{' '.join(unknown)}' ไม่ใช่ตัวเลือกของข้อ {code} ({', '.join(options)})",
                        f"'{' '.join(unknown)}' is not an option of {code} ({', '.join(options)})",
                    )
                else:
                    answers[code] = list(dict.fromkeys(chosen))
    notes = get("notes")
    photo = get("photo")
    if photo:
        notes = f"{notes}\n" if notes else ""
        notes += f"[รูปภาพเก็บไว้ใน KoboToolbox/ODK · photo kept in KoboToolbox/ODK: {photo}]"
    row.payload = {
        "outcome": outcome,
        "verified_on": on.isoformat() if on else None,
        "notes": notes,
        "moved_to": get("moved_to"),
        "duplicate_of": get("duplicate_of").translate(THAI_DIGITS).replace(" ", "").upper(),
        "consent": get("consent").lower() in YES,
        "gps": gps,
        "answers": {"capitals": answers} if answers else None,
        "import": {
            "tool": cols.tool,
            "file": file_name[:200],
            "row": number,
            "submission": ids[0] if ids else "",
            "submitted_at": next((cells[i] for i in cols.submitted if cells[i].strip()), ""),
        },
    }
    return row


# --------------------------------------------------------------------------- the import


def campaigns_open_for(actor: Any) -> list[Campaign]:
    """Open campaigns with households the actor may verify (to tie imported rows to one)."""
    ids = (
        selectors.assignments_visible(actor, ACTION)
        .filter(campaign__status=CampaignStatus.OPEN)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    return list(Campaign.objects.filter(pk__in=list(ids)).order_by("-created_at")[:100])


def _campaigns_by_household(actor: Any, household_ids: Iterable[int]) -> dict[int, Campaign]:
    out: dict[int, Campaign] = {}
    qs = (
        selectors.assignments_visible(actor, ACTION)
        .filter(household_id__in=list(household_ids), campaign__status=CampaignStatus.OPEN)
        .select_related("campaign")
        .order_by("campaign__created_at", "pk")
    )
    for a in qs:
        out[a.household_id] = a.campaign  # the newest open campaign wins
    return out


def _service_field(cols: Columns, fld: str) -> str:
    if fld.startswith("answers.capitals."):
        return cols.name(fld.removeprefix("answers.capitals."))
    if fld in ("outcome", "verified_on", "gps", "moved_to", "duplicate_of", "consent", "notes"):
        return cols.name(fld)
    return fld


def import_submissions(
    *, actor: Any, file_name: str, content: bytes, campaign: Campaign | None = None, commit: bool = False
) -> ImportReport:
    """Check every row of an export; with ``commit`` also submit the valid ones."""
    report = ImportReport(file_name=file_name, sha256=hashlib.sha256(content).hexdigest())
    if not can(actor, ACTION):
        raise PermissionDenied
    capitals = inst.definition(inst.current_of_kind("capitals")) or {"capitals": []}
    items = {str(it["code"]): it for cap in capitals.get("capitals", []) for it in cap.get("items", [])}
    if len(content) > MAX_BYTES:
        report.problems.append(
            RowProblem(
                0, "file", "ไฟล์ใหญ่เกิน 25 MB: แบ่งส่งออกทีละช่วง", "the file is larger than 25 MB: export it in parts"
            )
        )
        return report
    try:
        headers, table = read_export(file_name, content)
    except ExportUnreadable as exc:
        report.problems.append(RowProblem(0, "file", exc.th, exc.en))
        return report
    cols = map_columns(headers, items)
    report.tool, report.columns = cols.tool, headers
    report.rows = len(table)
    if "household_code" not in cols.fields:
        report.problems.append(
            RowProblem(
                0,
                "household_code",
                "ไม่พบคอลัมน์ household_code: ส่งออกข้อมูลแบบ “XML values and headers” จากแบบฟอร์ม XLSForm ของ KHM",
                "no household_code column: export with “XML values and headers”, from the KHM XLSForm",
            )
        )
        return report
    if len(table) > MAX_ROWS:
        report.problems.append(
            RowProblem(
                0,
                "file",
                f"มีมากกว่า {MAX_ROWS:,} แถว: แบ่งส่งออกทีละช่วง",
                f"more than {MAX_ROWS:,} rows: export it in parts",
            )
        )
        return report
    rows = [parse_row(n, cells, cols, items, file_name) for n, cells in table]

    # Households: only those the actor may verify; "not found" says nothing of the others.
    codes = {r.code for r in rows if r.code}
    households = {h.code: h for h in households_visible(actor, ACTION).filter(code__in=codes)}
    keys = {r.key for r in rows if r.key}
    existing = dict(Verification.objects.filter(key__in=keys).values_list("key", "household_id"))
    seen: dict[str, int] = {}
    ready: list[Row] = []
    for r in rows:
        if r.code:
            r.household = households.get(r.code)
            if r.household is None:
                r.bad(
                    cols.name("household_code"),
                    f"ไม่พบครัวเรือนรหัส {r.code} ในพื้นที่ของท่าน",
                    f"household {r.code} not found in your area",
                )
        if r.household is not None and r.key in existing:
            if existing[r.key] == r.household.pk:
                report.already += 1  # checked when it was imported: nothing more to say
                continue
            r.bad(
                cols.name("_uuid"),
                "ข้อมูลชุดนี้ถูกนำเข้าแล้วสำหรับครัวเรือนอื่น",
                "this submission was already imported for another household",
            )
        if r.key and r.key in seen:
            r.bad(
                cols.name("_uuid"),
                f"รหัสการส่งนี้ซ้ำกับแถว {seen[r.key]}",
                f"the same submission is already in row {seen[r.key]}",
            )
        elif r.key:
            seen[r.key] = r.number
        if r.household is not None:
            hh = r.household
            reported = {p.field for p in r.problems}
            if r.payload.get("answers") and not can(actor, "assessment.create", hh.area_code):
                r.bad("answers", "ท่านไม่มีสิทธิ์บันทึกแบบประเมิน", "you may not record assessments")
            # The same checks as the phone's submissions (nothing is written).
            problems, _clean = services.verification_check(actor, hh, r.payload, Method.IMPORT, campaign)
            for p in problems:
                where = _service_field(cols, p.field)
                if where not in reported:
                    r.bad(where, p.th, p.en)
        report.problems += r.problems
        if not r.problems:
            ready.append(r)
    report.valid = len(ready)
    if not commit:
        return report

    report.committed = True
    report.valid = 0
    by_household = (
        {} if campaign is not None else _campaigns_by_household(actor, {r.household.pk for r in ready if r.household})
    )
    for r in ready:
        assert r.household is not None
        camp = campaign or by_household.get(r.household.pk)
        try:
            with transaction.atomic():
                v, created = services.verification_submit(
                    actor=actor, key=r.key, household=r.household, payload=r.payload,
                    method=Method.IMPORT, campaign=camp, device=(cols.tool or "import")[:64],
                )  # fmt: skip
        except services.SubmissionInvalid as exc:
            report.problems += [RowProblem(r.number, _service_field(cols, p.field), p.th, p.en) for p in exc.problems]
        except PermissionDenied:
            report.problems.append(
                RowProblem(
                    r.number,
                    cols.name("household_code"),
                    f"ไม่พบครัวเรือนรหัส {r.code} ในพื้นที่ของท่าน หรือท่านไม่มีสิทธิ์บันทึก",
                    f"household {r.code} not found in your area, or you may not record it",
                )
            )
        except ValidationError as exc:
            report.problems.append(
                RowProblem(r.number, "row", "บันทึกไม่ได้: " + "; ".join(exc.messages), "; ".join(exc.messages))
            )
        else:
            if created:
                report.valid += 1
                report.created += 1
                report.verifications.append(v.ref)
            else:
                report.already += 1
    return report
