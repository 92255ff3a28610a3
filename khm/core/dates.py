"""Buddhist-Era dates: shown to users, stored as ordinary dates.

Users type dates as 25/12/2530, 25-12-2530, 2530-12-25, with Thai digits (๒๕/๑๒/๒๕๓๐),
or with a Thai month name (25 ธ.ค. 2530 / 25 ธันวาคม 2530). A year above 2400 is Buddhist
Era (BE = CE + 543); a year below 2100 is Common Era.
"""

from __future__ import annotations

import datetime as dt
import re

from khm.engines.ids import THAI_DIGITS

BE_OFFSET = 543

MONTHS_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
MONTHS_TH_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class ThaiDateError(ValueError):
    """A date the user typed could not be read. ``code`` selects the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _year_to_ce(year: int) -> int:
    if year > 2400:
        return year - BE_OFFSET
    if 1800 < year < 2100:
        return year
    raise ThaiDateError("year")


def _month_from_name(token: str) -> int | None:
    t = token.strip().replace(" ", "")
    for i, (full, abbr) in enumerate(zip(MONTHS_TH, MONTHS_TH_ABBR, strict=True), start=1):
        if t in (full, abbr, abbr.replace(".", "")):
            return i
    for i, name in enumerate(MONTHS_EN, start=1):
        if t.lower() in (name.lower(), name[:3].lower()):
            return i
    return None


def parse_thai_date(value: str) -> dt.date:
    """Read a date typed by a Thai user; raise ThaiDateError('format'|'year'|'invalid')."""
    text = value.strip().translate(THAI_DIGITS)
    if not text:
        raise ThaiDateError("format")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
        if m:
            d, mo, y = int(m[1]), int(m[2]), int(m[3])
        else:
            m = re.fullmatch(r"(\d{1,2})\s*([^\d\s][^\d]*?)\s*(\d{4})", text)
            month = _month_from_name(m[2]) if m else None
            if not m or month is None:
                raise ThaiDateError("format")
            d, mo, y = int(m[1]), month, int(m[3])
    year = _year_to_ce(y)
    try:
        return dt.date(year, mo, d)
    except ValueError:
        raise ThaiDateError("invalid") from None


def format_thai_date(value: dt.date | dt.datetime | None, *, lang: str = "th", short: bool = False) -> str:
    """25 ธันวาคม 2530 (Thai, BE) or 25 December 1987 (English, CE)."""
    if value is None:
        return ""
    if lang.startswith("th"):
        months = MONTHS_TH_ABBR if short else MONTHS_TH
        return f"{value.day} {months[value.month - 1]} {value.year + BE_OFFSET}"
    return f"{value.day} {MONTHS_EN[value.month - 1][:3] if short else MONTHS_EN[value.month - 1]} {value.year}"


def format_be_numeric(value: dt.date | None) -> str:
    """25/12/2530 — the way officers type it back into a form."""
    if value is None:
        return ""
    return f"{value.day:02d}/{value.month:02d}/{value.year + BE_OFFSET}"


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
