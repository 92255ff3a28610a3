"""Field-mapping files, reading person lists and turning them into the linkage schema.

A field-mapping file (FIELDS.json) maps *roles* to the column names of one list::

    {
      "record_id": "pid",
      "id_number": "cid", "id_scheme": "thai_national_id",
      "full_name": "name",                     # or "first_name" + "last_name"
      "birth_date": "dob", "date_format": "%d/%m/%Y",
      "sex": "gender",
      "house_no": "house",
      "address": ["addr1", "addr2"],
      "area_code": "village_code",
      "postcode": "zip"
    }

Every role may be absent. A role's value may also be an object (``{"column": "dob",
"date_format": "..."}``), and the roles may sit under a ``"fields"`` key. See
docs/linkage.md for the full reference. Problems are reported as :class:`FieldsError`
with a message that names the file, the key and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.engines.linkage import thai

ROLES: tuple[str, ...] = (
    "record_id",
    "id_number",
    "first_name",
    "last_name",
    "full_name",
    "nickname",
    "birth_date",
    "sex",
    "house_no",
    "address",
    "area_code",
    "postcode",
)
MULTI_COLUMN_ROLES = frozenset({"address"})
ID_SCHEMES = frozenset({"thai_national_id", "none"})
# Keys that configure a role or the list rather than name a column.
OPTION_KEYS = frozenset({"id_scheme", "date_format", "source", "threshold", "thresholds", "sheet"})
# Keys other tools put in the same file (descriptions, the truth column of synthetic
# data); accepted and ignored.
IGNORED_KEYS = frozenset({"name", "description", "comment", "truth", "format", "encoding", "file", "path"})


class FieldsError(ValueError):
    """A field-mapping file or an input file does not fit; the message says why."""


@dataclass(frozen=True)
class FieldMap:
    """Roles → column names of one list, plus the options that go with them."""

    columns: dict[str, tuple[str, ...]]
    id_scheme: str = "thai_national_id"
    date_format: str | None = None
    source: str | None = None
    threshold: float | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    sheet: str | None = None
    origin: str = "<fields>"

    def column(self, role: str) -> str | None:
        cols = self.columns.get(role)
        return cols[0] if cols else None

    def has(self, role: str) -> bool:
        return bool(self.columns.get(role))


def _threshold(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise FieldsError(f"{where}: threshold must be a number between 0 and 1, got {value!r}")
    return float(value)


def parse_fields(data: object, origin: str = "<fields>") -> FieldMap:
    """Validate a decoded FIELDS.json object and return a :class:`FieldMap`."""
    if not isinstance(data, dict):
        raise FieldsError(
            f"{origin}: the fields file must hold a JSON object of role → column, got {type(data).__name__}"
        )
    if isinstance(data.get("fields"), dict):
        outer = {k: v for k, v in data.items() if k != "fields"}
        data = {**outer, **data["fields"]}
    columns: dict[str, tuple[str, ...]] = {}
    options: dict[str, Any] = {}
    for key, value in data.items():
        if key in OPTION_KEYS:
            options[key] = value
            continue
        if key in IGNORED_KEYS or key.startswith("_"):
            continue
        if key not in ROLES:
            raise FieldsError(f"{origin}: unknown role {key!r}; known roles are {', '.join(ROLES)}")
        if value is None:
            continue
        if isinstance(value, dict):
            for opt in ("id_scheme", "date_format"):
                if opt in value:
                    options[opt] = value[opt]
            value = value.get("columns", value.get("column"))
        if isinstance(value, str):
            names: tuple[str, ...] = (value,)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            names = tuple(value)
        else:
            raise FieldsError(
                f"{origin}: role {key!r} must name a column (a string) or a list of columns, got {value!r}"
            )
        if len(names) > 1 and key not in MULTI_COLUMN_ROLES:
            raise FieldsError(f"{origin}: role {key!r} takes one column, got {len(names)}: {list(names)}")
        if any(not n.strip() for n in names):
            raise FieldsError(f"{origin}: role {key!r} has an empty column name")
        columns[key] = names
    scheme = options.get("id_scheme", "thai_national_id")
    if scheme not in ID_SCHEMES:
        raise FieldsError(f"{origin}: id_scheme must be one of {sorted(ID_SCHEMES)}, got {scheme!r}")
    date_format = options.get("date_format")
    if date_format is not None and not isinstance(date_format, str):
        raise FieldsError(f'{origin}: date_format must be a string such as "%d/%m/%Y", got {date_format!r}')
    source = options.get("source")
    if source is not None and (not isinstance(source, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", source)):
        raise FieldsError(f"{origin}: source must be a short name of letters, digits, _ or -, got {source!r}")
    threshold = _threshold(options["threshold"], f"{origin}: threshold") if "threshold" in options else None
    raw_thresholds = options.get("thresholds", {})
    if not isinstance(raw_thresholds, dict):
        raise FieldsError(f'{origin}: thresholds must be an object of "sourceA~sourceB": probability')
    thresholds = {str(k): _threshold(v, f"{origin}: thresholds[{k!r}]") for k, v in raw_thresholds.items()}
    if "full_name" in columns and ("first_name" in columns or "last_name" in columns):
        raise FieldsError(f"{origin}: give either full_name or first_name/last_name, not both")
    sheet = options.get("sheet")
    return FieldMap(
        columns=columns,
        id_scheme=scheme,
        date_format=date_format,
        source=source,
        threshold=threshold,
        thresholds=thresholds,
        sheet=str(sheet) if sheet is not None else None,
        origin=origin,
    )


def load_fields(path: str | Path) -> FieldMap:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FieldsError(f"cannot read fields file {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FieldsError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    return parse_fields(data, origin=str(path))


# --------------------------------------------------------------------------- reading


def decode_bytes(raw: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Thai Windows code page 874.

    CP874 is a superset of TIS-620, so it reads both. A UTF-8 decode of real Thai CP874
    text fails on its first Thai byte, so the order of the attempts is safe.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp874")


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _xlsx_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # IDs and house numbers typed as numbers come back as floats.
        return str(int(value))
    text = str(value)
    return text if text != "" else None


def _read_xlsx_openpyxl(path: Path, sheet: str | None = None) -> pl.DataFrame:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FieldsError(f"{path}: no sheet {sheet!r}; sheets are {wb.sheetnames}")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return pl.DataFrame()
        names = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
        cols: list[list[str | None]] = [[] for _ in names]
        width = len(names)
        for row in rows:
            if row is None or all(v is None for v in row):
                continue
            for i in range(width):
                cols[i].append(_xlsx_cell(row[i]) if i < len(row) else None)
    finally:
        wb.close()
    return pl.DataFrame({n: pl.Series(n, c, dtype=pl.String) for n, c in zip(names, cols, strict=True)})


_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_CHUNK = 48 * 1024 * 1024


def _xlsx_parts(z: Any, sheet: str | None) -> tuple[str, list[str], set[str]]:
    """(sheet XML member, shared strings, style indexes that format dates)."""
    import xml.etree.ElementTree as ET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    wb = ET.fromstring(z.read("xl/workbook.xml"))  # noqa: S314
    sheets = [(el.get("name"), el.get(_NS_REL)) for el in wb.iter(ns + "sheet")]
    if not sheets:
        raise FieldsError("workbook has no sheets")
    names = [n for n, _ in sheets]
    if sheet is not None and sheet not in names:
        raise FieldsError(f"no sheet {sheet!r}; sheets are {names}")
    rid = dict(sheets)[sheet] if sheet is not None else sheets[0][1]
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    target = next(el.get("Target") or "" for el in rels if el.get("Id") == rid)
    member = target.lstrip("/") if target.startswith("/") else "xl/" + target
    shared: list[str] = []
    if "xl/sharedStrings.xml" in z.namelist():
        sst = ET.fromstring(z.read("xl/sharedStrings.xml"))  # noqa: S314
        shared = ["".join(t.text or "" for t in si.iter(ns + "t")) for si in sst.iter(ns + "si")]
    date_styles: set[str] = set()
    if "xl/styles.xml" in z.namelist():
        styles = ET.fromstring(z.read("xl/styles.xml"))  # noqa: S314
        custom = {int(el.get("numFmtId", "0")): el.get("formatCode", "").lower() for el in styles.iter(ns + "numFmt")}
        xfs = styles.find(ns + "cellXfs")
        for i, xf in enumerate(xfs if xfs is not None else []):
            fid = int(xf.get("numFmtId", "0"))
            code = re.sub(r'"[^"]*"|\\.|\[[^]]*\]', "", custom.get(fid, ""))
            if fid in _DATE_FORMAT_IDS or (fid in custom and any(c in code for c in "dy")):
                date_styles.add(str(i))
    return member, shared, date_styles


def _unescape(expr: pl.Expr) -> pl.Expr:
    for old, new in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        expr = expr.str.replace_all(old, new, literal=True)
    return expr


def _col_index(letters: pl.Expr) -> pl.Expr:
    # "A" → 0, "Z" → 25, "AA" → 26 ... (up to three letters, as in Excel).
    padded = letters.str.pad_start(3, "@")
    digits = [padded.str.slice(i, 1).str.encode("hex").str.to_integer(base=16) - 64 for i in range(3)]
    return (digits[0] * 676 + digits[1] * 26 + digits[2] - 1).cast(pl.Int64)


def _xlsx_chunk(text: str, shared: list[str], date_styles: set[str]) -> pl.DataFrame:
    """Cells of the complete rows in ``text`` as (row, col, value), parsed by polars."""
    rows = pl.DataFrame({"x": pl.Series("x", text.split("<row ")[1:], dtype=pl.String)})
    cells = (
        rows.select(
            pl.col("x").str.extract(r'^[^>]*?\br="(\d+)"').cast(pl.Int64).alias("row"),
            pl.col("x").str.split("<c ").list.slice(1).alias("c"),
        )
        .explode("c")
        .filter(pl.col("c").is_not_null())
        # Attributes first (short strings, cheap regexes), then the content.
        .with_columns(pl.col("c").str.extract(r"^([^>]*)>", 1).alias("a"))
        .select(
            "row",
            _col_index(pl.col("a").str.extract(r'\br="([A-Z]+)')).alias("col"),
            pl.col("a").str.extract(r'\bt="(\w+)"').alias("t"),
            pl.col("a").str.extract(r'\bs="(\d+)"').alias("s"),
            pl.col("c").str.extract(r"<v>([^<]*)</v>").alias("v"),
            pl.when(pl.col("c").str.contains("<is>", literal=True))
            .then(pl.col("c").str.extract_all(r"<t(?:\s[^>]*)?>[^<]*</t>").list.join(""))
            .alias("tx"),
        )
    )
    text_value = _unescape(pl.col("tx").str.replace_all(r"<[^>]*>", ""))
    value = (
        pl.when(pl.col("t") == "inlineStr")
        .then(text_value)
        .when(pl.col("t") == "s")
        .then(pl.col("v").cast(pl.Int64, strict=False).replace_strict(range(len(shared)), shared, default=None))
        .when(pl.col("t") == "b")
        .then(pl.when(pl.col("v") == "1").then(pl.lit("TRUE")).otherwise(pl.lit("FALSE")))
        .when(pl.col("t").is_in(["str", "e"]))
        .then(_unescape(pl.col("v")))
        .when(pl.col("s").is_in(list(date_styles)) & pl.col("v").is_not_null())
        .then(
            (
                pl.lit(dt.date(1899, 12, 30)) + pl.duration(days=pl.col("v").cast(pl.Float64).floor().cast(pl.Int64))
            ).cast(pl.String)
        )
        .otherwise(
            # Numbers typed into cells (IDs, house numbers) come back as "1.0": drop ".0".
            pl.col("v").str.replace(r"\.0+$", "")
        )
    )
    return cells.select("row", "col", value.alias("value")).filter(
        pl.col("value").is_not_null() & (pl.col("value") != "")
    )


def read_xlsx(path: Path, sheet: str | None = None) -> pl.DataFrame:
    """Read the first (or the named) sheet; every column as text.

    The sheet XML is streamed in chunks and picked apart with polars string kernels,
    ~20× faster than openpyxl on a 700,000-row export. Dates formatted as dates become
    ISO strings. Files this reader does not understand go to openpyxl.
    """
    import codecs
    import zipfile

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with zipfile.ZipFile(path) as z:
            member, shared, date_styles = _xlsx_parts(z, sheet)
            parts: list[pl.DataFrame] = []
            with z.open(member) as fh:
                rest = ""
                while True:
                    block = fh.read(_CHUNK)
                    # The incremental decoder keeps a character cut by the block edge.
                    text = rest + decoder.decode(block, final=not block)
                    if not block:
                        cut = len(text)
                    else:
                        cut = text.rfind("</row>")
                        cut = cut + len("</row>") if cut >= 0 else 0
                    if cut and "<row " in text[:cut]:
                        parts.append(_xlsx_chunk(text[:cut], shared, date_styles))
                    rest = text[cut:]
                    if not block:
                        break
    except FieldsError as exc:
        raise FieldsError(f"{path}: {exc}") from exc
    except (KeyError, ValueError, StopIteration, UnicodeDecodeError, pl.exceptions.PolarsError):
        return _read_xlsx_openpyxl(path, sheet)
    cells = pl.concat(parts) if parts else pl.DataFrame(schema={"row": pl.Int64, "col": pl.Int64, "value": pl.String})
    if cells.height == 0:
        return pl.DataFrame()
    first_row = cells.get_column("row").min()
    header = cells.filter(pl.col("row") == first_row).sort("col")
    names = dict(zip(header.get_column("col").to_list(), header.get_column("value").to_list(), strict=True))
    body = cells.filter(pl.col("row") != first_row)
    if body.height == 0:
        return pl.DataFrame({n: pl.Series(n, [], dtype=pl.String) for n in names.values()})
    wide = body.filter(pl.col("col").is_in(list(names))).pivot(on="col", index="row", values="value").sort("row")
    out = {}
    for col, name in names.items():
        key = str(col)
        out[name] = (
            wide.get_column(key) if key in wide.columns else pl.Series(name, [None] * wide.height, dtype=pl.String)
        )
    return pl.DataFrame({n: s.alias(n).cast(pl.String) for n, s in out.items()})


def _legacy_cell(value: object) -> str | None:
    """A cell of an old .xls/.ods sheet as text: IDs stored as numbers keep all digits."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_legacy_spreadsheet(path: Path, sheet: str | None = None) -> pl.DataFrame:
    """Old Excel .xls (and .ods) files, still common in government offices, via calamine."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        ws = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        rows = ws.to_python()
    except Exception as exc:  # calamine raises its own error types per format
        raise FieldsError(f"{path}: cannot read the spreadsheet: {exc}") from exc
    if not rows:
        return pl.DataFrame()
    header = [str(h).strip() or f"column_{i + 1}" for i, h in enumerate(rows[0])]
    body = [
        [_legacy_cell(v) for v in r] + [None] * (len(header) - len(r))
        for r in rows[1:]
        if any(v not in (None, "") for v in r)
    ]
    return pl.DataFrame(body, schema=dict.fromkeys(header, pl.String), orient="row")


def read_table(path: str | Path, sheet: str | None = None) -> pl.DataFrame:
    """Read a CSV (UTF-8, UTF-8-SIG, CP874/TIS-620), XLSX, XLS or ODS file; every column as text."""
    path = Path(path)
    if not path.is_file():
        raise FieldsError(f"input file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet)
    if path.suffix.lower() in (".xls", ".ods"):
        return read_legacy_spreadsheet(path, sheet)
    text = decode_bytes(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    try:
        df = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=_sniff_delimiter(first_line),
            infer_schema=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise FieldsError(f"{path}: cannot parse as CSV: {exc}") from exc
    # Excel and hand-made CSVs pad header names with spaces.
    return df.rename({c: c.strip() for c in df.columns})


def check_columns(fields: FieldMap, columns: Iterable[str], file: str, extra: Iterable[str] = ()) -> None:
    present = set(columns)
    for role, names in fields.columns.items():
        for name in names:
            if name not in present:
                raise FieldsError(
                    f"{fields.origin}: role {role!r} names column {name!r}, which {file} does not have "
                    f"(its columns are: {', '.join(sorted(present))})"
                )
    for name in extra:
        if name not in present:
            raise FieldsError(f"{file}: no column {name!r} (its columns are: {', '.join(sorted(present))})")


# --------------------------------------------------------------------------- values

THAI_MONTHS: dict[str, int] = {}
for _i, (_full, _abbr) in enumerate(
    [
        ("มกราคม", "ม.ค."),
        ("กุมภาพันธ์", "ก.พ."),
        ("มีนาคม", "มี.ค."),
        ("เมษายน", "เม.ย."),
        ("พฤษภาคม", "พ.ค."),
        ("มิถุนายน", "มิ.ย."),
        ("กรกฎาคม", "ก.ค."),
        ("สิงหาคม", "ส.ค."),
        ("กันยายน", "ก.ย."),
        ("ตุลาคม", "ต.ค."),
        ("พฤศจิกายน", "พ.ย."),
        ("ธันวาคม", "ธ.ค."),
    ],
    start=1,
):
    THAI_MONTHS[_full] = _i
    THAI_MONTHS[_abbr] = _i
    THAI_MONTHS[_abbr.replace(".", "")] = _i
for _i, _name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
):
    THAI_MONTHS[_name] = _i

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_YMD8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YEAR = re.compile(r"^(?:พ\.?ศ\.?|ค\.?ศ\.?)?\s*(\d{4})$")
_TEXT_MONTH = re.compile(r"^(\d{1,2})\s*([^\d\s]+?)\.?\s*(?:พ\.?ศ\.?|ค\.?ศ\.?)?\s*(\d{2}|\d{4})$")
_MONTH_LOOKUP = {k.rstrip("."): v for k, v in THAI_MONTHS.items()}
_MIN_YEAR, _MAX_YEAR = 1880, 2100


def _year(y: int, two_digit: bool = False) -> int:
    if two_digit:
        # Thai short dates write the Buddhist-era year: 00-68 → 2500-2568, 69-99 → 24xx.
        y = (2500 if y <= 68 else 2400) + y
    return y - 543 if y > 2400 else y


def _ok(y: int, m: int, d: int) -> tuple[str | None, str | None]:
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None, None
    if m == 0 or d == 0:
        # "00/00/2490": registers write unknown day and month as zeros.
        return None, str(y)
    try:
        return dt.date(y, m, d).isoformat(), str(y)
    except ValueError:
        return None, str(y)


def _strptime_format(fmt: str) -> str:
    # "%d/%m/%Y BE" / "dd/mm/yyyy CE": the era is a note for people; years > 2400 are
    # taken as Buddhist-era whatever the note says (lists mix the two).
    fmt = re.sub(r"\s*(?:BE|CE|พ\.ศ\.|ค\.ศ\.)\s*$", "", fmt.strip())
    if "%" in fmt:
        return fmt
    # "dd/mm/yyyy" style → strptime codes.
    out = fmt.replace("yyyy", "%Y").replace("YYYY", "%Y").replace("dd", "%d").replace("DD", "%d")
    return out.replace("mm", "%m").replace("MM", "%m")


def parse_date(value: object, date_format: str | None = None) -> tuple[str | None, str | None]:
    """(ISO date or None, year or None); Buddhist-era years (> 2400) become CE.

    Accepts yyyy-mm-dd, dd/mm/yyyy (also with - or .), yyyymmdd, "25 ธ.ค. 2530",
    "25 ธันวาคม 2530", "25 Dec 1987", a year alone, and Thai digits in all of them.
    A given ``date_format`` (strptime codes or dd/mm/yyyy) is tried first.
    """
    text = thai.clean_text(value)
    if not text:
        return None, None
    if date_format:
        try:
            d = dt.datetime.strptime(text, _strptime_format(date_format)).date()
            return _ok(_year(d.year), d.month, d.day)
        except ValueError:
            pass  # fall through to the automatic formats
    if m := _ISO.match(text):
        return _ok(_year(int(m[1])), int(m[2]), int(m[3]))
    if m := _DMY.match(text):
        return _ok(_year(int(m[3]), len(m[3]) == 2), int(m[2]), int(m[1]))
    if m := _YMD8.match(text):
        return _ok(_year(int(m[1])), int(m[2]), int(m[3]))
    if m := _YEAR.match(text):
        return _ok(_year(int(m[1])), 0, 0)
    if m := _TEXT_MONTH.match(text):
        month = _MONTH_LOOKUP.get(m[2].lower().rstrip(".")[:3] if m[2].isascii() else m[2].rstrip("."))
        if month:
            return _ok(_year(int(m[3]), len(m[3]) == 2), month, int(m[1]))
    return None, None


_MALE = frozenset({"m", "male", "man", "ชาย", "ช", "ช.", "1", "นาย", "ด.ช.", "เด็กชาย", "mr"})
_FEMALE = frozenset(
    {"f", "female", "woman", "หญิง", "ญ", "ญ.", "2", "นาง", "นางสาว", "น.ส.", "ด.ญ.", "เด็กหญิง", "mrs", "miss", "ms"}
)


def parse_sex(value: object) -> str | None:
    text = thai.clean_text(value).lower()
    if text in _MALE:
        return "m"
    if text in _FEMALE:
        return "f"
    return None


def sex_from_title(value: object) -> str | None:
    """Sex implied by a title at the start of a name (นาย → m, นาง/นางสาว → f)."""
    text = thai.clean_text(value)
    if not text:
        return None
    first = text.split(" ", 1)[0].lower().rstrip(".")
    if first in ("mr", "master", "mstr"):
        return "m"
    if first in ("mrs", "miss", "ms"):
        return "f"
    for title in thai.THAI_TITLES:
        if text.startswith(title):
            return "m" if title in ("นาย", "ด.ช.", "ดช.", "เด็กชาย") else "f"
    return None


_HOUSE = re.compile(r"\d+(?:\s*/\s*\d+)*")
_HOUSE_PREFIX = re.compile(r"^(?:บ้านเลขที่|เลขที่|บ้าน|no\.?|house)\s*", re.IGNORECASE)
_MOO = re.compile(r"(?:หมู่ที่|หมู่|ม\.|moo\.?|m\.)\s*(\d{1,2})\b", re.IGNORECASE)


def parse_house(value: object) -> str | None:
    text = _HOUSE_PREFIX.sub("", thai.clean_text(value))
    m = _HOUSE.match(text)
    return re.sub(r"\s+", "", m.group(0)) if m else None


def parse_moo(value: object) -> str | None:
    m = _MOO.search(thai.clean_text(value))
    return str(int(m.group(1))) if m else None


_MOO_HEADER = re.compile(r"^(?:หมู่(?:ที่)?|ม\.?|moo|village_?no|mu)$", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def _is_moo_column(name: str) -> bool:
    """An address column that holds the moo number alone (header หมู่, moo, ...)."""
    return _MOO_HEADER.match(name.strip()) is not None


def parse_moo_value(value: object) -> str | None:
    text = thai.clean_text(value)
    m = re.search(r"\d{1,2}", text)
    return str(int(m.group(0))) if m else None


def parse_postcode(value: object) -> str | None:
    """A 5-digit Thai postcode (the last one in an address text)."""
    found = _POSTCODE.findall(thai.clean_text(value))
    return found[-1] if found and found[-1][0] in "123456789" else None


# --------------------------------------------------------------------------- schema

NAME_KEY_COLUMNS = ("fn", "fn_sk", "fn_ph", "fn_lat", "ln", "ln_sk", "ln_ph", "ln_lat")
SCHEMA: tuple[str, ...] = (
    "unique_id",
    "record_id",
    "source",
    "nid",
    "nid_any",
    *NAME_KEY_COLUMNS,
    "nick_sk",
    "dob",
    "dob_y",
    "sex",
    "house",
    "house_base",
    "tambon",
    "moo",
    "vill",
    "postcode",
    # Raw values, for the plain-Splink baseline only.
    "first_name_raw",
    "last_name_raw",
    "house_raw",
    "area_raw",
)


def _map_unique(series: pl.Series, fn: Callable[[str | None], Any], dtype: Any = pl.String) -> pl.Series:
    """Apply a Python function to the distinct values only, then map back (names repeat)."""
    uniq = series.unique()
    mapping = {v: fn(v) for v in uniq.to_list()}
    keys = list(mapping)
    return series.replace_strict(keys, [mapping[k] for k in keys], return_dtype=dtype)


def _col(df: pl.DataFrame, fields: FieldMap, role: str) -> pl.Series:
    name = fields.column(role)
    if name is None:
        return pl.Series(role, [None] * df.height, dtype=pl.String)
    return df.get_column(name).cast(pl.String)


def _none_if_empty(value: str) -> str | None:
    return value or None


def prepare(
    df: pl.DataFrame,
    fields: FieldMap,
    *,
    source: str,
    id_prefix: str = "",
    truth: str | None = None,
    file: str = "<input>",
) -> pl.DataFrame:
    """Normalise one list into the linkage schema (see :data:`SCHEMA`).

    ``unique_id`` is ``id_prefix`` + the record id (the row number, from 1, when the list
    has no record_id role), so ids stay unique across lists.
    """
    check_columns(fields, df.columns, file, extra=[truth] if truth else [])
    n = df.height
    out: dict[str, pl.Series] = {}
    if fields.has("record_id"):
        rid = _col(df, fields, "record_id").str.strip_chars()
        if rid.null_count() or (rid == "").any():
            raise FieldsError(f"{file}: record_id column {fields.column('record_id')!r} has empty values")
        if rid.n_unique() != n:
            dup = rid.filter(rid.is_duplicated()).head(3).to_list()
            raise FieldsError(f"{file}: record_id column {fields.column('record_id')!r} is not unique (e.g. {dup})")
    else:
        rid = pl.Series("record_id", [str(i) for i in range(1, n + 1)], dtype=pl.String)
    out["record_id"] = rid.alias("record_id")
    out["unique_id"] = (id_prefix + rid).alias("unique_id") if id_prefix else rid.alias("unique_id")
    out["source"] = pl.Series("source", [source] * n, dtype=pl.String)

    # National ID: the deterministic key when valid; any 13 digits still compare fuzzily.
    ids = _map_unique(_col(df, fields, "id_number"), lambda v: normalise_digits(thai.clean_text(v)) or None)
    if fields.id_scheme == "thai_national_id":
        valid = _map_unique(ids, lambda v: v if v and is_valid_national_id(v) else None)
        any13 = _map_unique(ids, lambda v: v if v and len(v) == 13 and v.isdigit() else None)
    else:
        valid = pl.Series([None] * n, dtype=pl.String)
        any13 = ids
    out["nid"], out["nid_any"] = valid, any13

    # Names.
    if fields.has("full_name"):
        raw_full = _col(df, fields, "full_name")
        parts = _map_unique(
            raw_full,
            lambda v: {"f": thai.split_full_name(v)[0], "l": thai.split_full_name(v)[1]},
            pl.Struct({"f": pl.String, "l": pl.String}),
        )
        first = parts.struct.field("f")
        last = parts.struct.field("l")
        # Baseline: what a plain split on the first space gives, title and all.
        raw_first = _map_unique(raw_full, lambda v: thai.clean_text(v).partition(" ")[0] or None)
        raw_last = _map_unique(raw_full, lambda v: thai.clean_text(v).partition(" ")[2] or None)
        title_source = raw_full
    else:
        first = _col(df, fields, "first_name")
        last = _col(df, fields, "last_name")
        raw_first = _map_unique(first, lambda v: thai.clean_text(v) or None)
        raw_last = _map_unique(last, lambda v: thai.clean_text(v) or None)
        title_source = first
    for prefix, series in (("fn", first), ("ln", last)):
        keys = _map_unique(
            series,
            lambda v: dict(zip(("n", "s", "p", "l"), thai.name_keys(v), strict=True)),
            pl.Struct({"n": pl.String, "s": pl.String, "p": pl.String, "l": pl.String}),
        )
        for short, suffix in (("n", ""), ("s", "_sk"), ("p", "_ph"), ("l", "_lat")):
            col = keys.struct.field(short)
            out[prefix + suffix] = pl.Series(prefix + suffix, col).replace("", None)
    nick = _col(df, fields, "nickname")
    out["nick_sk"] = _map_unique(nick, lambda v: _none_if_empty(thai.skeleton(thai.normalise_name(v))))

    # Birth date.
    dates = _map_unique(
        _col(df, fields, "birth_date"),
        lambda v: dict(zip(("d", "y"), parse_date(v, fields.date_format), strict=True)),
        pl.Struct({"d": pl.String, "y": pl.String}),
    )
    out["dob"], out["dob_y"] = dates.struct.field("d"), dates.struct.field("y")

    # Sex, or the sex a title implies when the list has no sex column.
    if fields.has("sex"):
        out["sex"] = _map_unique(_col(df, fields, "sex"), parse_sex)
    else:
        out["sex"] = _map_unique(title_source, sex_from_title)

    # Address: house number, subdistrict (tambon) code, moo, village key, postcode.
    address_cols = fields.columns.get("address", ())
    moo_cols = [c for c in address_cols if _is_moo_column(c)]
    text_cols = [c for c in address_cols if c not in moo_cols]
    if text_cols:
        addr_raw = df.select(pl.concat_str([pl.col(c).fill_null("") for c in text_cols], separator=" ")).to_series()
    else:
        addr_raw = pl.Series([None] * n, dtype=pl.String)
    house_src = _col(df, fields, "house_no") if fields.has("house_no") else addr_raw
    out["house"] = _map_unique(house_src, parse_house)
    out["house_base"] = out["house"].str.extract(r"^(\d+)")
    area = _map_unique(_col(df, fields, "area_code"), lambda v: normalise_digits(thai.clean_text(v)) or None)
    # DOPA codes: 6 digits name a subdistrict (ตำบล), 8 a village (หมู่บ้าน) in it.
    out["tambon"] = _map_unique(area, lambda v: v[:6] if v and len(v) >= 6 and v[:6].isdigit() else None)
    moo = _map_unique(area, lambda v: str(int(v[6:8])) if v and len(v) >= 8 and v[:8].isdigit() else None)
    for c in moo_cols:
        moo = moo.fill_null(_map_unique(df.get_column(c).cast(pl.String), parse_moo_value))
    out["moo"] = moo.fill_null(_map_unique(addr_raw, parse_moo))
    out["vill"] = pl.select(
        pl.when(out["tambon"].is_not_null() & out["moo"].is_not_null())
        .then(out["tambon"] + ":" + out["moo"])
        .otherwise(None)
    ).to_series()
    postcode = _col(df, fields, "postcode") if fields.has("postcode") else addr_raw
    out["postcode"] = _map_unique(postcode, parse_postcode)
    out["first_name_raw"], out["last_name_raw"] = raw_first, raw_last
    out["house_raw"] = _map_unique(_col(df, fields, "house_no"), lambda v: thai.clean_text(v) or None)
    out["area_raw"] = area
    frame = pl.DataFrame({name: out[name].alias(name) for name in SCHEMA})
    if truth:
        frame = frame.with_columns(df.get_column(truth).cast(pl.String).alias("truth"))
    return frame


def available_columns(frames: Iterable[pl.DataFrame]) -> set[str]:
    """Schema columns that hold at least one value in some list (absent roles drop out)."""
    found: set[str] = set()
    for frame in frames:
        for name in frame.columns:
            if frame.get_column(name).null_count() < frame.height:
                found.add(name)
    return found


def write_csv_rows(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def describe(fields: FieldMap) -> Mapping[str, object]:
    return {"columns": {k: list(v) for k, v in fields.columns.items()}, "id_scheme": fields.id_scheme}
