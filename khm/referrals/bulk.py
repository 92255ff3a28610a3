"""Bulk entry of help handed out at one distribution event (one programme, agency, kind and
date for many households).

Three steps, each with its actor checks:

1. :func:`parse_rows` reads pasted lines (``code`` or ``code<TAB or comma>value``) or an
   uploaded CSV/XLSX (columns ``household``/``รหัสครัวเรือน``, optional ``value``/``มูลค่า``,
   ``person``, ``note``) into raw rows numbered as the user sees them (line number; the
   spreadsheet row, header = 1).
2. :func:`check_rows` validates EVERY row and returns a :class:`Preview`: the valid rows and
   each rejected row with its field and the reason in Thai and English. A household that
   does not exist and one outside the user's area get the same words ("not found in your
   area"), so the form cannot be used to probe the registry.
3. :func:`commit_rows` writes every valid row in ONE transaction under the preview's shared
   ``batch`` code — all or nothing. Rejected rows are never written, and only after the user
   confirmed a preview that listed them. The same preview cannot be committed twice.

Which households may a user enter? Officers: households in the area where they may both see
households (``household.view``) and record assistance. Agency workers (who never look
households up): only households with a referral sent to their own agency, and only for
that agency. A row is linked to the household's open referral to the chosen agency, if any.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from khm.accounts.scoping import can, scope_for
from khm.audit.services import audit_record
from khm.engines.linkage.fields import decode_bytes
from khm.referrals import services
from khm.referrals.models import OPEN_STATES, Agency, Assistance, Referral
from khm.registry.models import Household, Person, PersonStatus, new_code

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
MAX_VALUE = Decimal("10000000")

HOUSEHOLD_COLUMNS = ("household", "household_code", "code", "รหัสครัวเรือน", "รหัส")
VALUE_COLUMNS = ("value", "value_baht", "baht", "มูลค่า", "มูลค่า (บาท)", "จำนวนเงิน")
PERSON_COLUMNS = ("person", "person_ref", "member", "สมาชิก")
NOTE_COLUMNS = ("note", "หมายเหตุ")
_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

NOT_FOUND = ("ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน", "not found in your area")


@dataclass(frozen=True)
class RawRow:
    row_no: int
    household: str
    value: str = ""
    person: str = ""
    note: str = ""


@dataclass(frozen=True)
class RowProblem:
    row_no: int  # 0: the whole entry (file, header, confirmation)
    field: str
    th: str
    en: str


class BulkInvalid(ValueError):
    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.row_no}:{p.field}: {p.en}" for p in problems[:10]))


def _problem(field: str, th: str, en: str) -> BulkInvalid:
    return BulkInvalid([RowProblem(0, field, th, en)])


# --------------------------------------------------------------------------- 1. parse


def _norm(header: Any) -> str:
    return " ".join(str(header or "").split()).lower()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _table_rows(table: list[tuple[int, list[Any]]]) -> list[RawRow]:
    """Rows of a spreadsheet/CSV: the first non-empty row is the header."""
    body = [(n, r) for n, r in table if any(_cell(v) for v in r)]
    if not body:
        raise _problem("file", "ไฟล์ว่าง", "the file is empty")
    _n, header = body[0]
    names = [_norm(h) for h in header]

    def col(aliases: tuple[str, ...]) -> int | None:
        return next((i for i, n in enumerate(names) if n in aliases), None)

    hh, val, per, note = col(HOUSEHOLD_COLUMNS), col(VALUE_COLUMNS), col(PERSON_COLUMNS), col(NOTE_COLUMNS)
    if hh is None:
        raise _problem(
            "file",
            "ไม่พบคอลัมน์ household หรือ รหัสครัวเรือน ในแถวแรก",
            "no household / รหัสครัวเรือน column in the first row",
        )

    def get(row: list[Any], i: int | None) -> str:
        return _cell(row[i]) if i is not None and i < len(row) else ""

    return [RawRow(n, get(r, hh), get(r, val), get(r, per), get(r, note)) for n, r in body[1:]]


def _read_csv(raw: bytes) -> list[RawRow]:
    text = decode_bytes(raw)
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return _table_rows([(i, list(r)) for i, r in enumerate(reader, start=1)])


def _read_xlsx(raw: bytes) -> list[RawRow]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/… for a damaged file
        raise _problem("file", "อ่านไฟล์ Excel ไม่ได้", "the Excel file cannot be read") from exc
    try:
        ws = wb.worksheets[0]
        table = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    finally:
        wb.close()
    return _table_rows(table)


def _read_paste(text: str) -> list[RawRow]:
    rows: list[RawRow] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        sep = "\t" if "\t" in line else ","
        code, _s, value = line.partition(sep)
        if not rows and _norm(code) in HOUSEHOLD_COLUMNS:
            continue  # a header line pasted from a spreadsheet
        rows.append(RawRow(n, code.strip(), value.strip()))
    return rows


def parse_rows(*, text: str = "", data: bytes | None = None, filename: str = "") -> list[RawRow]:
    """Raw rows from pasted text or an uploaded file's bytes (CSV, XLSX)."""
    if data is not None:
        if len(data) > MAX_BYTES:
            raise _problem("file", "ไฟล์ใหญ่เกินไป (ไม่เกิน 5 MB)", "the file is too large (5 MB at most)")
        name = filename.lower()
        if name.endswith((".xlsx", ".xlsm")):
            rows = _read_xlsx(data)
        elif name.endswith((".csv", ".txt")):
            rows = _read_csv(data)
        else:
            raise _problem("file", "รับเฉพาะไฟล์ CSV หรือ XLSX", "only CSV or XLSX files are accepted")
    else:
        rows = _read_paste(text)
    if not rows:
        raise _problem("rows", "ไม่มีรายการครัวเรือน", "no household was given")
    if len(rows) > MAX_ROWS:
        raise _problem(
            "rows", f"รายการมากเกินไป (ไม่เกิน {MAX_ROWS:,} แถวต่อครั้ง)", f"too many rows ({MAX_ROWS:,} at most at once)"
        )
    return rows


# --------------------------------------------------------------------------- 2. check


@dataclass(frozen=True)
class Header:
    """What every row of the event shares."""

    agency: Agency
    kind: str
    given_on: dt.date
    programme: str = ""
    default_value: Decimal = Decimal("0")


@dataclass
class ValidRow:
    row_no: int
    household_id: int
    household: str  # code
    area_code: str
    value: str  # Decimal as text (JSON-safe)
    person_id: int | None = None
    person: str = ""  # ref
    referral_id: int | None = None
    referral: str = ""  # ref
    note: str = ""


@dataclass
class Preview:
    batch: str
    actor_id: int
    agency_id: int
    kind: str
    given_on: str  # ISO date
    programme: str
    default_value: str
    raw: list[RawRow]
    valid: list[ValidRow] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.raw)

    @property
    def rejected_rows(self) -> int:
        return len({p.row_no for p in self.rejected})

    @property
    def total_value(self) -> Decimal:
        return sum((Decimal(r.value) for r in self.valid), Decimal("0"))

    def header(self) -> Header:
        return Header(
            agency=Agency.objects.get(pk=self.agency_id),
            kind=self.kind,
            given_on=dt.date.fromisoformat(self.given_on),
            programme=self.programme,
            default_value=Decimal(self.default_value),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preview:
        return cls(
            **{k: v for k, v in d.items() if k not in ("raw", "valid", "rejected")},
            raw=[RawRow(**r) for r in d["raw"]],
            valid=[ValidRow(**r) for r in d["valid"]],
            rejected=[RowProblem(**p) for p in d["rejected"]],
        )


def parse_value(text: str, default: Decimal) -> Decimal | None:
    """Baht from "1,500", "๑๕๐๐", "1500.50 บาท"; the default when empty; None when wrong."""
    t = text.translate(_DIGITS).replace(",", "").replace("บาท", "").replace("฿", "").strip()
    if not t:
        return default.quantize(Decimal("0.01"))
    try:
        value = Decimal(t)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_VALUE or value != value.quantize(Decimal("0.01")):
        return None
    return value.quantize(Decimal("0.01"))


def header_problems(actor: Any, header: Header) -> list[RowProblem]:
    """Problems of the shared fields, and whether the actor may record for the agency."""
    out = [
        RowProblem(0, p.field, p.th, p.en)
        for p in services.assistance_problems(
            kind=header.kind, given_on=header.given_on, value_baht=header.default_value
        )
    ]
    if not header.agency.active:
        out.append(RowProblem(0, "agency", "หน่วยงานนี้ไม่ได้ใช้งานแล้ว", "this agency is no longer active"))
    if not may_use_agency(actor, header.agency):
        out.append(RowProblem(0, "agency", "ท่านบันทึกในนามหน่วยงานนี้ไม่ได้", "you cannot record for this agency"))
    return out


def is_officer(actor: Any) -> bool:
    """May look households up and record help for them (somewhere): not only an agency worker."""
    return can(actor, "household.view") and can(actor, "assistance.record")


def may_use_agency(actor: Any, agency: Agency) -> bool:
    """Officers record for any agency; an agency worker only for their own."""
    return is_officer(actor) or (can(actor, "assistance.record") and services.is_agency_worker_of(actor, agency))


def _reachable(actor: Any, agency: Agency, codes: list[str]) -> dict[str, tuple[int, str, int | None, str]]:
    """code → (household id, area code, referral id, referral ref) of the given codes the
    actor may enter for ``agency``; the referral is the household's open referral to the
    agency (the newest), if any."""
    found: dict[str, tuple[int, str, int | None, str]] = {}
    referrals: dict[int, tuple[int, str]] = {}
    sent = (
        Referral.objects.filter(agency=agency, household__code__in=codes, sent_at__isnull=False)
        .order_by("sent_at", "id")
        .values_list("pk", "ref", "state", "household_id", "household__code", "area_code")
    )
    sent_rows = list(sent)
    for pk, ref, state, hh_id, _code, _area in sent_rows:
        if state in OPEN_STATES:
            referrals[hh_id] = (pk, ref)  # the newest open one wins (ordered by sent_at)
    if is_officer(actor):
        view = scope_for(actor, "household.view")
        record = scope_for(actor, "assistance.record")
        if not view.empty and not record.empty:
            for hh_id, code, area in (
                Household.objects.filter(view.q("area_code"), record.q("area_code"), code__in=codes)
                .values_list("pk", "code", "area_code")
                .order_by()
            ):
                ref_pk, ref = referrals.get(hh_id, (None, ""))
                found[code] = (hh_id, area, ref_pk, ref)
    if can(actor, "assistance.record") and services.is_agency_worker_of(actor, agency):
        latest: dict[int, tuple[int, str]] = {}
        for pk, ref, _state, hh_id, _code, _area in sent_rows:
            latest[hh_id] = (pk, ref)
        for _pk, _ref, _state, hh_id, code, area in sent_rows:
            if code not in found:
                ref_pk, ref = referrals.get(hh_id) or latest[hh_id]
                found[code] = (hh_id, area, ref_pk, ref)
    return found


def check_rows(*, actor: Any, header: Header, rows: list[RawRow]) -> Preview:
    """Check every row (nothing is written). Raises :class:`BulkInvalid` for a header problem."""
    problems = header_problems(actor, header)
    if problems:
        raise BulkInvalid(problems)
    preview = Preview(
        batch=new_code("BA", 10),
        actor_id=actor.pk,
        agency_id=header.agency.pk,
        kind=header.kind,
        given_on=header.given_on.isoformat(),
        programme=header.programme.strip()[:200],
        default_value=str(header.default_value),
        raw=list(rows),
    )
    codes = sorted({r.household.strip().upper() for r in rows if r.household.strip()})
    reachable = _reachable(actor, header.agency, codes)
    ids = [v[0] for v in reachable.values()]
    members = {
        (hh, ref): pk
        for pk, ref, hh in Person.objects.filter(household_id__in=ids, status=PersonStatus.MEMBER).values_list(
            "pk", "ref", "household_id"
        )
    }
    already = set(
        Assistance.objects.filter(
            household_id__in=ids,
            agency=header.agency,
            kind=header.kind,
            given_on=header.given_on,
            programme=preview.programme,
        ).values_list("household_id", flat=True)
    )
    seen: dict[str, int] = {}
    for r in rows:
        row_problems: list[RowProblem] = []

        def bad(fld: str, th: str, en: str, row: RawRow = r, out: list[RowProblem] = row_problems) -> None:
            out.append(RowProblem(row.row_no, fld, th, en))

        code = r.household.strip().upper()
        hit = reachable.get(code)
        if not code:
            bad("household", "ไม่มีรหัสครัวเรือน", "the household code is missing")
        elif code in seen:
            bad("household", f"ซ้ำกับแถว {seen[code]}", f"duplicate of row {seen[code]}")
        elif hit is None:
            bad("household", *NOT_FOUND)
        elif hit[0] in already:
            bad(
                "household",
                "บันทึกความช่วยเหลือนี้ไปแล้ว (โครงการ หน่วยงาน ประเภท และวันที่เดียวกัน)",
                "already recorded (same programme, agency, kind and date)",
            )
        if code and code not in seen:
            seen[code] = r.row_no
        value = parse_value(r.value, header.default_value)
        if value is None:
            bad("value", "มูลค่าต้องเป็นจำนวนบาท 0–10,000,000", "the value must be baht from 0 to 10,000,000")
        person_id = None
        if r.person.strip() and hit is not None:
            person_id = members.get((hit[0], r.person.strip().upper()))
            if person_id is None:
                bad("person", "ไม่ใช่สมาชิกของครัวเรือนนี้", "not a member of this household")
        if len(r.note) > 500:
            bad("note", "หมายเหตุยาวเกิน 500 ตัวอักษร", "the note is longer than 500 characters")
        if row_problems or hit is None or value is None:
            preview.rejected.extend(row_problems)
            continue
        preview.valid.append(
            ValidRow(
                row_no=r.row_no, household_id=hit[0], household=code, area_code=hit[1], value=str(value),
                person_id=person_id, person=r.person.strip().upper() if person_id else "",
                referral_id=hit[2], referral=hit[3], note=r.note.strip(),
            )
        )  # fmt: skip
    return preview


# --------------------------------------------------------------------------- 3. commit


def commit_rows(*, actor: Any, preview: Preview, confirmed: bool = False) -> list[Assistance]:
    """Write every valid row of ``preview`` in one transaction (all or nothing).

    Refused when the preview belongs to someone else, was already committed, lists rejected
    rows the user did not confirm leaving out, or no longer matches the data (the rows are
    checked again inside the transaction)."""
    if preview.actor_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if not preview.valid:
        raise _problem("rows", "ไม่มีแถวที่บันทึกได้", "no row can be recorded")
    if preview.rejected and not confirmed:
        raise _problem(
            "confirm",
            "โปรดยืนยันว่าแถวที่ถูกปฏิเสธจะไม่ถูกบันทึก",
            "confirm that the rejected rows will not be recorded",
        )
    from khm.accounts.models import User

    header = preview.header()
    with transaction.atomic():
        # One commit at a time per user: a double click or a second tab waits here, then
        # finds the batch written and is refused.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        if Assistance.objects.filter(batch=preview.batch).exists():
            raise _problem(
                "batch",
                "รายการชุดนี้บันทึกไปแล้ว ไม่บันทึกซ้ำ",
                "this preview was already recorded; it is not recorded twice",
            )
        again = check_rows(actor=actor, header=header, rows=preview.raw)
        if [(r.row_no, r.household, r.value, r.person) for r in again.valid] != [
            (r.row_no, r.household, r.value, r.person) for r in preview.valid
        ]:
            raise _problem(
                "rows",
                "ข้อมูลเปลี่ยนไปหลังจากตรวจสอบ โปรดตรวจสอบรายการอีกครั้ง",
                "the data changed since the preview: check the rows again",
            )
        households = {h.pk: h for h in Household.objects.filter(pk__in=[r.household_id for r in preview.valid])}
        people = {p.pk: p for p in Person.objects.filter(pk__in=[r.person_id for r in preview.valid if r.person_id])}
        referrals = {
            x.pk: x
            for x in Referral.objects.filter(
                pk__in=[r.referral_id for r in preview.valid if r.referral_id]
            ).select_related("agency")
        }
        written = []
        for r in preview.valid:
            written.append(
                services.assistance_record(
                    actor=actor, household=households[r.household_id], kind=header.kind, agency=header.agency,
                    given_on=header.given_on, value_baht=Decimal(r.value), programme=header.programme,
                    person=people.get(r.person_id) if r.person_id else None,
                    referral=referrals.get(r.referral_id) if r.referral_id else None, note=r.note, batch=preview.batch,
                )
            )  # fmt: skip
        audit_record(
            actor=actor,
            action="assistance.create",
            object_type="assistance_batch",
            object_ref=preview.batch,
            changes={
                "rows": len(written),
                "rejected": preview.rejected_rows,
                "value_baht": str(preview.total_value),
                "agency": header.agency.code,
                "kind": header.kind,
                "given_on": preview.given_on,
                "programme": header.programme,
            },
        )
    return written
