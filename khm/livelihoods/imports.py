"""Income records from a spreadsheet (CSV or XLSX): parse → check every row → preview →
commit, all or nothing.

Columns (first non-empty row is the header; Thai or English names, any order):
``household`` / ``รหัสครัวเรือน``, ``source`` / ``แหล่งรายได้`` (a code such as ``wages`` or its
Thai or English label), ``from`` / ``เดือนเริ่ม`` and ``to`` / ``เดือนสุดท้าย`` (a month:
``1/2567``, ``2567-01``, ``ม.ค. 2567``, or any date in it), ``amount`` / ``รายได้`` (baht for
the whole period) and optionally ``note`` / ``หมายเหตุ``.

Every problem names its row (as the spreadsheet shows it: header = row 1) and field, in
Thai and English. Unlike the bulk entry of help, **nothing is written unless every row is
good**: a file with one bad row is sent back to be fixed. A household outside the user's
area reads exactly like a missing one. A record that already exists for the same household,
source and period is refused (correct it on the household page), so an import never
overwrites silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from khm.accounts.scoping import scope_for
from khm.audit.services import audit_record
from khm.core.dates import BE_OFFSET, ThaiDateError, parse_thai_date
from khm.engines.linkage.fields import decode_bytes
from khm.livelihoods import services
from khm.livelihoods.models import IncomeMethod, IncomeRecord, IncomeSource
from khm.registry.models import Household, new_code

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

COLUMNS = {
    "household": ("household", "household_code", "code", "รหัสครัวเรือน", "รหัส"),
    "source": ("source", "income_source", "แหล่งรายได้", "แหล่งที่มาของรายได้", "ประเภทรายได้"),
    "from": ("from", "period_start", "start", "เดือนเริ่ม", "ตั้งแต่", "เริ่ม"),
    "to": ("to", "period_end", "end", "เดือนสุดท้าย", "ถึง", "สิ้นสุด"),
    "amount": ("amount", "amount_baht", "income", "baht", "รายได้", "จำนวนเงิน", "รายได้ (บาท)"),
    "note": ("note", "หมายเหตุ"),
}
REQUIRED = ("household", "source", "from", "to", "amount")
_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
NOT_FOUND = ("ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน", "not found in your area")


@dataclass(frozen=True)
class RowProblem:
    row_no: int  # 0: the whole file
    field: str
    th: str
    en: str


class ImportInvalid(ValueError):
    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.row_no}:{p.field}: {p.en}" for p in problems[:10]))


def _file_problem(th: str, en: str, field: str = "file") -> ImportInvalid:
    return ImportInvalid([RowProblem(0, field, th, en)])


@dataclass(frozen=True)
class RawRow:
    row_no: int
    household: str = ""
    source: str = ""
    start: str = ""
    end: str = ""
    amount: str = ""
    note: str = ""


def _norm(v: Any) -> str:
    return " ".join(str(v or "").split()).lower()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _table(table: list[tuple[int, list[Any]]]) -> list[RawRow]:
    body = [(n, r) for n, r in table if any(_cell(v) for v in r)]
    if not body:
        raise _file_problem("ไฟล์ว่าง", "the file is empty")
    names = [_norm(h) for h in body[0][1]]
    index = {key: next((i for i, n in enumerate(names) if n in aliases), None) for key, aliases in COLUMNS.items()}
    missing = [k for k in REQUIRED if index[k] is None]
    if missing:
        raise _file_problem(
            f"ไม่พบคอลัมน์ {', '.join(COLUMNS[k][-1] if k != 'household' else 'รหัสครัวเรือน' for k in missing)} ในแถวแรก",
            f"missing column(s) in the first row: {', '.join(missing)}",
        )

    def get(row: list[Any], key: str) -> str:
        i = index[key]
        return _cell(row[i]) if i is not None and i < len(row) else ""

    return [
        RawRow(n, get(r, "household"), get(r, "source"), get(r, "from"), get(r, "to"), get(r, "amount"), get(r, "note"))
        for n, r in body[1:]
    ]


def parse_file(*, data: bytes, filename: str) -> list[RawRow]:
    if len(data) > MAX_BYTES:
        raise _file_problem("ไฟล์ใหญ่เกินไป (ไม่เกิน 5 MB)", "the file is too large (5 MB at most)")
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/… for a damaged file
            raise _file_problem("อ่านไฟล์ Excel ไม่ได้", "the Excel file cannot be read") from exc
        try:
            table = [(i, list(r)) for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1)]
        finally:
            wb.close()
        rows = _table(table)
    elif name.endswith((".csv", ".txt")):
        text = decode_bytes(data)
        first = text.split("\n", 1)[0]
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        rows = _table([(i, list(r)) for i, r in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)])
    else:
        raise _file_problem("รับเฉพาะไฟล์ CSV หรือ XLSX", "only CSV or XLSX files are accepted")
    if not rows:
        raise _file_problem("ไม่มีแถวข้อมูลรายได้", "no income row was given", "rows")
    if len(rows) > MAX_ROWS:
        raise _file_problem(f"แถวมากเกินไป (ไม่เกิน {MAX_ROWS:,} แถว)", f"too many rows ({MAX_ROWS:,} at most)", "rows")
    return rows


# --------------------------------------------------------------------------- values

_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})$")


def _year(y: int) -> int | None:
    if y > 2400:
        y -= BE_OFFSET
    return y if 1900 <= y <= 2100 else None


def parse_month(text: str) -> tuple[int, int] | None:
    """(year CE, month) of "1/2567", "01-2024", "2567-01", "ม.ค. 2567", "15/1/2567"…; None if not a month."""
    t = text.translate(_DIGITS).strip()
    if not t:
        return None
    m = _MONTH_YEAR.match(t)
    if m:
        year, month = _year(int(m.group(2))), int(m.group(1))
        return (year, month) if year is not None and 1 <= month <= 12 else None
    m = _YEAR_MONTH.match(t)
    if m:
        year, month = _year(int(m.group(1))), int(m.group(2))
        return (year, month) if year is not None and 1 <= month <= 12 else None
    for candidate in (t, f"1 {t}"):
        try:
            d = parse_thai_date(candidate)
        except (ThaiDateError, ValueError):
            continue
        return d.year, d.month
    return None


def source_code(text: str) -> str | None:
    t = _norm(text)
    for value, label in IncomeSource.choices:
        if t in (value, _norm(label)):
            return value
    return SOURCE_TH.get(t)


# Thai labels of the sources (also accepted in a file).
SOURCE_TH = {
    "พืชผล": "crops", "เกษตร": "crops", "ทำนา": "crops", "ปศุสัตว์และประมง": "livestock", "ปศุสัตว์": "livestock",
    "ค่าจ้าง": "wages", "รับจ้าง": "wages", "วิสาหกิจชุมชน": "enterprise", "ค้าขายและธุรกิจส่วนตัว": "own_business",
    "ค้าขาย": "own_business", "สวัสดิการและเบี้ยยังชีพ": "welfare", "สวัสดิการ": "welfare",
    "เงินจากญาติ": "remittances", "อื่น ๆ": "other", "อื่นๆ": "other",
}  # fmt: skip


# --------------------------------------------------------------------------- check


@dataclass
class ValidRow:
    row_no: int
    household_id: int
    household: str
    source: str
    start: str  # ISO
    end: str
    amount: str  # Decimal as text
    note: str = ""


@dataclass
class Preview:
    batch: str
    actor_id: int
    raw: list[RawRow]
    valid: list[ValidRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.raw)

    @property
    def bad_rows(self) -> int:
        return len({p.row_no for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.valid)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preview:
        return cls(
            batch=d["batch"], actor_id=d["actor_id"], raw=[RawRow(**r) for r in d["raw"]],
            valid=[ValidRow(**r) for r in d["valid"]], problems=[RowProblem(**p) for p in d["problems"]],
        )  # fmt: skip


def check_rows(*, actor: Any, rows: list[RawRow]) -> Preview:
    """Check every row; nothing is written."""
    scope = scope_for(actor, "income.record")
    if scope.empty:
        raise PermissionDenied
    preview = Preview(batch=new_code("IN", 10), actor_id=actor.pk, raw=list(rows))
    codes = sorted({r.household.strip().upper() for r in rows if r.household.strip()})
    found = dict(Household.objects.filter(scope.q("area_code"), code__in=codes).values_list("code", "pk"))
    existing = set(
        IncomeRecord.objects.filter(household_id__in=list(found.values())).values_list(
            "household_id", "source", "period_start", "period_end"
        )
    )
    seen: dict[tuple[Any, ...], int] = {}
    for r in rows:
        out: list[RowProblem] = []

        def bad(fld: str, th: str, en: str, r: RawRow = r, out: list[RowProblem] = out) -> None:
            out.append(RowProblem(r.row_no, fld, th, en))

        code = r.household.strip().upper()
        hh = found.get(code)
        if not code:
            bad("household", "ไม่มีรหัสครัวเรือน", "the household code is missing")
        elif hh is None:
            bad("household", *NOT_FOUND)
        source = source_code(r.source)
        if source is None:
            bad("source", "ไม่รู้จักแหล่งรายได้นี้", f"unknown source: use {', '.join(IncomeSource.values)}")
        start_m, end_m = parse_month(r.start), parse_month(r.end)
        start = end = None
        if start_m is None:
            bad("from", "เดือนเริ่มไม่ถูกต้อง (เช่น 1/2567)", "the first month is not a month (e.g. 1/2567)")
        else:
            start = dt.date(start_m[0], start_m[1], 1)
        if end_m is None:
            bad("to", "เดือนสุดท้ายไม่ถูกต้อง (เช่น 12/2567)", "the last month is not a month (e.g. 12/2567)")
        else:
            end = services.month_end(dt.date(end_m[0], end_m[1], 1))
        amount = services.parse_baht(r.amount) if r.amount.strip() else None
        if amount is None:
            bad("amount", "รายได้ต้องเป็นจำนวนบาท 0–10,000,000", "the income must be baht from 0 to 10,000,000")
        if start and end and source:
            for p in services.income_problems(source=source, period_start=start, period_end=end, amount_baht=0):
                bad({"period_start": "from", "period_end": "to"}.get(p.field, p.field), p.th, p.en)
        if len(r.note) > 300:
            bad("note", "หมายเหตุยาวเกิน 300 ตัวอักษร", "the note is longer than 300 characters")
        key = (code, source, start, end)
        if hh is not None and source and start and end:
            if key in seen:
                bad("household", f"ซ้ำกับแถว {seen[key]}", f"duplicate of row {seen[key]}")
            elif (hh, source, start, end) in existing:
                bad(
                    "household",
                    "มีรายได้แหล่งนี้ของช่วงเวลานี้แล้ว แก้ไขได้ที่หน้าครัวเรือน",
                    "already recorded for this source and period: correct it on the household page",
                )
            seen.setdefault(key, r.row_no)
        if out or hh is None or source is None or start is None or end is None or amount is None:
            preview.problems.extend(out)
            continue
        preview.valid.append(
            ValidRow(r.row_no, hh, code, source, start.isoformat(), end.isoformat(), str(amount), r.note.strip())
        )
    return preview


def commit(*, actor: Any, preview: Preview) -> list[IncomeRecord]:
    """Write every row in one transaction — only when every row is good (checked again)."""
    if preview.actor_id != getattr(actor, "pk", None):
        raise PermissionDenied
    with transaction.atomic():
        if IncomeRecord.objects.filter(batch=preview.batch).exists():
            raise _file_problem("ไฟล์นี้บันทึกไปแล้ว ไม่บันทึกซ้ำ", "this file was already recorded", "batch")
        again = check_rows(actor=actor, rows=preview.raw)
        if again.problems or not again.valid:
            raise ImportInvalid(again.problems or [RowProblem(0, "rows", "ไม่มีแถวที่บันทึกได้", "no row can be recorded")])
        households = {h.pk: h for h in Household.objects.filter(pk__in=[r.household_id for r in again.valid])}
        written = [
            services.income_record(
                actor=actor,
                household=households[r.household_id],
                source=r.source,
                period_start=dt.date.fromisoformat(r.start),
                period_end=dt.date.fromisoformat(r.end),
                amount_baht=r.amount,
                method=IncomeMethod.IMPORT,
                note=r.note,
                batch=preview.batch,
            )
            for r in again.valid
        ]
        audit_record(
            actor=actor, action="income.create", object_type="income_batch", object_ref=preview.batch,
            changes={"rows": len(written), "at": timezone.now().isoformat()},
        )  # fmt: skip
    return written
