"""Synthetic source exports: TPMAP-like, KHM-like, bottom-20 %-like and BMN lists with ground truth.

From a synthetic population (:mod:`khm.engines.synth`) this module writes the kinds of
list a provincial officer receives, each in its own layout and encoding and with the
realistic discrepancies that make record linkage necessary: typos and spelling variants in
Thai names, swapped names, missing or mistyped national IDs, different address formats,
people who moved or died, duplicates inside one list, TIS-620 encoding, Buddhist-Era dates
(sometimes in Thai digits) and romanised names. Every row carries the ground truth in the
column ``true_person_id`` (the person's real national ID) - a column no real file has.

The lists (sizes are for the default :class:`ListSelection`; a 1,000,000-person province
gives ≈1.5 M rows in total):

* **tpmap** - TPMAP-like (the older list, from last year's BMN survey): every person in
  households under the BMN line (38,000 baht per person per year) plus 82 % of the
  near-poor households (under 80,000). ≈0.61 rows per person of the population. People
  who died since are still on it; babies born in the last year are not. CSV in TIS-620
  (``cp874``), CRLF line ends, Thai column headers.
* **khm** - the province's own list (KHM-like): 90 % of the TPMAP households plus
  households found locally (65 % of the other households under 100,000 baht, 2 % above).
  ≈0.68 rows per person. XLSX, snake_case headers, one ``full_name`` column, BE dates
  that are sometimes in Thai digits.
* **bottom20** - the poorest 20 % of households ranked by a *different* income measure
  (the BMN income times log-normal measurement noise, σ = 0.3), so it overlaps TPMAP
  heavily without being a subset. ≈0.19 rows per person. UTF-8 CSV with a BOM, English
  headers, CE ISO dates (or just the year), a free-text address, 12 % romanised names.
* **bmn** - on request only (``lists=ALL_LISTS`` / ``--lists ...,bmn``): this year's BMN
  (จปฐ.) survey extract as a provincial community development office exports it - one row
  per person surveyed, grouped in households (house code, member number, relation to the
  head), *every* household of the villages surveyed this round (most households of a
  30 % subset of villages), not only the poor; per-person income, household income per
  head and ten BMN indicator answers. UTF-8 CSV with a BOM, Thai headers, birth dates as
  ``12 มี.ค. 2522`` (Thai month, BE year). The three default lists and their files do not
  change when bmn is added.

Layouts, ``fields.json`` files and every rate are documented in ``docs/source-layouts.md``.

Design rules for the discrepancies (defaults in :class:`DiscrepancyRates`):

* Each row gets at most **one severe** discrepancy - missing ID, mistyped ID, missing
  birth date, wrong birth date, swapped first/last name - drawn from one categorical
  draw, so identity stays recoverable from the other fields. Rows with a romanised name
  or a changed surname get no severe discrepancy at all.
* Light discrepancies (one typo in one name, whitespace noise, Thai digits, CE year in a
  BE column, house-number format) are independent of the severe one.
* Person-level events are shared by the lists: a moved person shows the new address on
  both newer lists (khm, bottom20); a dead person is only on tpmap.

Everything is deterministic for a given ``seed`` (numpy ``default_rng`` and
``random.Random`` streams seeded from it; no hash randomisation, no clock).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import random
import sys
import time
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from khm.engines.ids import format_national_id, is_valid_national_id
from khm.engines.synth import (
    REFERENCE_DATE,
    SynthHousehold,
    VillageWeight,
    generate,
    village_weights_from_population,
)

__all__ = [
    "ALL_LISTS",
    "BMN_INDICATORS",
    "FORMATS",
    "LIST_NAMES",
    "TRUTH_COLUMN",
    "DiscrepancyRates",
    "ListRates",
    "ListSelection",
    "SourceList",
    "SourceLists",
    "build_lists",
    "main",
    "romanise_name",
    "synthetic_villages",
    "thai_typo",
    "write_lists",
]

LIST_NAMES: tuple[str, ...] = ("tpmap", "khm", "bottom20")  # the default lists (benchmarks rely on them)
ALL_LISTS: tuple[str, ...] = (*LIST_NAMES, "bmn")  # bmn only when asked for
TRUTH_COLUMN = "true_person_id"
RECORD_ID = "record_id"
BE_OFFSET = 543  # Buddhist Era year = CE year + 543
FORMATS: tuple[str, ...] = ("csv-cp874", "csv-utf8", "xlsx")
DEFAULT_FORMATS: dict[str, str] = {"tpmap": "csv-cp874", "khm": "xlsx", "bottom20": "csv-utf8", "bmn": "csv-utf8"}
_EXTENSIONS = {"csv-cp874": "csv", "csv-utf8": "csv", "xlsx": "xlsx"}
_RECORD_PREFIX = {"tpmap": "T", "khm": "K", "bottom20": "B", "bmn": "J"}  # J: จปฐ. (JPT)
XLSX_MAX_ROWS = 1_048_576  # Excel's sheet limit, header included
_DAYS_PER_YEAR = 365.2425


# ----------------------------------------------------------------------------- rates
@dataclass(frozen=True, slots=True)
class ListRates:
    """Per-row rates for one list (shares of that list's rows, 0..1)."""

    member_missing: float = 0.0  # a household member left off the list
    duplicate: float = 0.0  # row appears a second time (with its own small variations)
    # Severe (at most one per row):
    id_missing: float = 0.0
    id_mistyped: float = 0.0  # one digit wrong (check digit fails) or two digits transposed
    birth_date_missing: float = 0.0
    birth_date_wrong: float = 0.0  # day/month swapped, year ±1, or a day typo
    name_swap: float = 0.0  # first and last name exchanged
    # Light (independent):
    name_typo: float = 0.0  # one edit in the first or the last name
    whitespace: float = 0.0  # double, leading or trailing spaces in a name
    era_mix: float = 0.0  # CE year in a BE date column, or BE year in a CE one
    birth_year_only: float = 0.0  # only the birth year written (on top of the elderly with year-only records)
    house_no_variant: float = 0.0  # "45/1" written "45 / 1", "45/ 1" or "45"
    title_in_name: float = 0.0  # khm: title glued into the full name ("นายสมชาย ใจดี")
    # Format shares (not errors):
    latin_name: float = 0.0  # bottom20: name romanised (RTGS-like, sometimes with English-style spelling)
    thai_digits: float = 0.0  # khm: ID, birth date and house number in Thai digits
    id_formatted: float = 0.0  # ID written with separators ("1-4601-12345-67-8")

    def severe_total(self) -> float:
        return self.id_missing + self.id_mistyped + self.birth_date_missing + self.birth_date_wrong + self.name_swap


def _tpmap_rates() -> ListRates:
    return ListRates(
        member_missing=0.01,
        duplicate=0.005,
        id_missing=0.01,
        id_mistyped=0.01,
        birth_date_missing=0.01,
        birth_date_wrong=0.01,
        name_swap=0.003,
        name_typo=0.03,
        whitespace=0.01,
        house_no_variant=0.02,
    )


def _khm_rates() -> ListRates:
    return ListRates(
        member_missing=0.03,
        duplicate=0.015,
        id_missing=0.02,
        id_mistyped=0.015,
        birth_date_missing=0.02,
        birth_date_wrong=0.015,
        name_swap=0.005,
        name_typo=0.04,
        whitespace=0.02,
        era_mix=0.01,
        house_no_variant=0.05,
        title_in_name=0.02,
        thai_digits=0.10,
        id_formatted=0.25,
    )


def _bottom20_rates() -> ListRates:
    return ListRates(
        member_missing=0.01,
        duplicate=0.005,
        id_missing=0.03,
        id_mistyped=0.01,
        birth_date_missing=0.02,
        birth_date_wrong=0.01,
        name_swap=0.005,
        name_typo=0.03,
        whitespace=0.01,
        era_mix=0.01,
        birth_year_only=0.08,
        latin_name=0.12,
        id_formatted=0.05,
    )


def _bmn_rates() -> ListRates:
    # Typed by village volunteers from paper forms into the CDD program: more name typos and
    # wrong birth dates than TPMAP's export; people met twice (at the parents' house where
    # they are registered and where they live) give the duplicates.
    return ListRates(
        member_missing=0.02,
        duplicate=0.01,
        id_missing=0.015,
        id_mistyped=0.015,
        birth_date_missing=0.01,
        birth_date_wrong=0.02,
        name_swap=0.003,
        name_typo=0.04,
        whitespace=0.02,
        era_mix=0.005,
        birth_year_only=0.02,
        house_no_variant=0.03,
        thai_digits=0.08,
        id_formatted=0.10,
    )


@dataclass(frozen=True, slots=True)
class DiscrepancyRates:
    """Person-level events (shared by all lists) and each list's row-level rates."""

    died: float = 0.01  # of the population; weighted ≈11:1 towards people aged 60+
    moved_household: float = 0.01  # whole household now registered in another village
    moved_person: float = 0.015  # one person (15+) moved to another village
    surname_change_on_move: float = 0.3  # of women 18-45 who moved alone: married, took a new surname
    elderly_birth_year_only: float = 0.15  # of people born before 1950: the register holds only the year
    tpmap: ListRates = field(default_factory=_tpmap_rates)
    khm: ListRates = field(default_factory=_khm_rates)
    bottom20: ListRates = field(default_factory=_bottom20_rates)
    bmn: ListRates = field(default_factory=_bmn_rates)
    # bmn: of the people who died since last year's round in a surveyed household, the share
    # still on the roster (the volunteer copied last year's form).
    bmn_dead_still_listed: float = 0.3

    def for_list(self, name: str) -> ListRates:
        rates: ListRates = getattr(self, name)
        return rates


@dataclass(frozen=True, slots=True)
class ListSelection:
    """Who is on which list (household level; income = household income per person per year)."""

    poverty_line: int = 38_000  # BMN (จปฐ.) line, baht per person per year
    tpmap_poor_share: float = 1.0  # of households under the line
    near_poor_line: int = 80_000
    tpmap_near_poor_share: float = 0.82  # of households between the two lines
    khm_from_tpmap: float = 0.90  # TPMAP households that are also on the KHM list
    khm_extra_line: int = 100_000
    khm_extra_share: float = 0.65  # of non-TPMAP households under khm_extra_line, found locally
    khm_extra_other: float = 0.02  # of the remaining (better-off) households
    bottom_share: float = 0.20  # bottom20: share of households, ranked by measured income
    bottom_income_noise: float = 0.30  # σ of the log-normal noise on the bottom20 income measure
    bmn_village_share: float = 0.30  # bmn: villages surveyed this round (at least one)
    bmn_household_share: float = 0.92  # bmn: households of a surveyed village met (the rest away or refused)


# ------------------------------------------------------------------------- result types
@dataclass(frozen=True, slots=True)
class SourceList:
    name: str  # "tpmap", "khm", "bottom20" or "bmn"
    frame: pl.DataFrame  # all columns are strings; includes record_id and true_person_id
    fields: dict[str, Any]  # the linkage CLI's field mapping (fields.json)
    discrepancies: list[str]  # per row, ";"-joined codes of what was done to it ("" = clean)
    household_codes: list[str]  # per row, the true household (SynthHousehold.code)


@dataclass(frozen=True, slots=True)
class SourceLists:
    lists: dict[str, SourceList]
    seed: int
    rates: DiscrepancyRates
    selection: ListSelection
    people: int
    households: int
    as_of: datetime.date

    def __getitem__(self, name: str) -> SourceList:
        return self.lists[name]


# ------------------------------------------------------------------------------ areas
PROVINCE_NAMES = {"46": "กาฬสินธุ์"}
# Kalasin's districts in DOPA code order, with plausible postcodes (synthetic data only;
# not an authoritative postcode table).
KALASIN_DISTRICTS: dict[str, tuple[str, str]] = {
    "4601": ("เมืองกาฬสินธุ์", "46000"),
    "4602": ("นามน", "46230"),
    "4603": ("กมลาไสย", "46130"),
    "4604": ("ร่องคำ", "46210"),
    "4605": ("กุฉินารายณ์", "46110"),
    "4606": ("เขาวง", "46160"),
    "4607": ("ยางตลาด", "46120"),
    "4608": ("ห้วยเม็ก", "46170"),
    "4609": ("สหัสขันธ์", "46140"),
    "4610": ("คำม่วง", "46180"),
    "4611": ("ท่าคันโท", "46190"),
    "4612": ("หนองกุงศรี", "46220"),
    "4613": ("สมเด็จ", "46150"),
    "4614": ("ห้วยผึ้ง", "46240"),
    "4615": ("สามชัย", "46180"),
    "4616": ("นาคู", "46160"),
    "4617": ("ดอนจาน", "46000"),
    "4618": ("ฆ้องชัย", "46130"),
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Isan place names are mostly landform + attribute: โนนสูง, หนองบัว, นาดี ...
_PLACE_HEADS = ("โนน", "หนอง", "นา", "ดอน", "โคก", "ห้วย", "คำ", "สระ", "ภู", "ท่า", "กุด", "บึง", "หัว", "นาง", "บัว")
_PLACE_TAILS = _words("สูง ใหญ่ แก้ว ทอง ศรี งาม บัว ไผ่ แดง ยาง สะอาด ขาม ม่วง เหล็ก หิน จาน ตาล ชุม")


def _place_name(code: str) -> str:
    h = zlib.crc32(code.encode())
    return _PLACE_HEADS[h % len(_PLACE_HEADS)] + _PLACE_TAILS[(h // 97) % len(_PLACE_TAILS)]


def _district(code: str) -> tuple[str, str]:
    """(district name, postcode) for a 4-digit district code."""
    known = KALASIN_DISTRICTS.get(code)
    if known:
        return known
    return _place_name("d" + code), f"{code[:2]}{100 + zlib.crc32(code.encode()) % 150:03d}"


def _province(code: str) -> str:
    return PROVINCE_NAMES.get(code[:2], "จังหวัด" + code[:2])


@dataclass(frozen=True, slots=True)
class _Village:
    province: str
    district: str
    subdistrict: str
    moo: str  # the village number within its subdistrict, "3"
    postcode: str


_VILLAGES: dict[str, _Village] = {}


def _village(code: str) -> _Village:
    """Names and postcode of a village code (cached: called once per row)."""
    info = _VILLAGES.get(code)
    if info is None:
        district, postcode = _district(code[:4])
        info = _VILLAGES[code] = _Village(
            _province(code), district, _place_name(code[:6]), str(int(code[6:8])), postcode
        )
    return info


# ------------------------------------------------------------------------ name typos
_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_COMBINING = frozenset(
    "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """ "a>b c>" -> (("a", "b"), ("c", "")): a compact table of replacements."""
    return tuple((a, b) for a, _, b in (item.partition(">") for item in text.split()))


# Wrong vowel length, wrong or missing tone mark, ไ/ใ, missing thanthakhat.
_VOWEL_TONE = _pairs("ิ>ี ี>ิ ุ>ู ู>ุ ึ>ื ื>ึ ่>้ ้>่ ้>๊ ั>็ ไ>ใ ใ>ไ ่> ้> ์> ะ>")
# Homophone consonants and the common spelling variants of name morphemes.
_SPELLING = _pairs(
    "วงศ์>วงค์ วงค์>วงศ์ วงศ์>วงษ์ พงษ์>พงศ์ พงศ์>พงษ์ ศักดิ์>ศักดิ ชัย>ไชย ไชย>ชัย รัตน์>รัตน ทร>ซ ศ>ส ษ>ส ส>ศ ณ>น น>ณ ธ>ท ท>ธ ฑ>ท ฒ>ท ภ>พ พ>ภ ญ>ย ฎ>ด ฏ>ต ฐ>ถ ร>ล ล>ร ข>ค ค>ข"
)
_TYPO_OPS = ("spelling", "vowel_tone", "drop", "duplicate", "swap")
_TYPO_CUM = (0.35, 0.65, 0.77, 0.87, 1.0)


def _replace_one(text: str, old: str, new: str, rnd: random.Random) -> str | None:
    positions = []
    start = text.find(old)
    while start >= 0:
        positions.append(start)
        start = text.find(old, start + 1)
    if not positions:
        return None
    i = rnd.choice(positions)
    return text[:i] + new + text[i + len(old) :]


def _typo_once(name: str, op: str, rnd: random.Random) -> str | None:
    n = len(name)
    if op in ("spelling", "vowel_tone"):
        pairs = _SPELLING if op == "spelling" else _VOWEL_TONE
        candidates = [(a, b) for a, b in pairs if a in name]
        if not candidates:
            return None
        a, b = rnd.choice(candidates)
        return _replace_one(name, a, b, rnd)
    if n < 3:
        return None
    if op == "drop":
        i = rnd.randrange(n)
        return name[:i] + name[i + 1 :]
    if op == "duplicate":
        i = rnd.randrange(n)
        return name[: i + 1] + name[i:]
    i = rnd.randrange(n - 1)  # swap two adjacent characters
    if name[i] == name[i + 1]:
        return None
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def thai_typo(name: str, rnd: random.Random) -> str:
    """One realistic edit of a Thai name: a spelling variant, a vowel/tone confusion, or a keyboard slip.

    Spelling variants (ศ/ส, ณ/น, วงศ์/วงค์, ชัย/ไชย ...) are the most common, then vowel
    length and tone marks (ิ/ี, ุ/ู, ่/้), then dropped, doubled or swapped characters. The
    result always differs from ``name``, is not empty and never starts with a combining mark.
    """
    for _ in range(12):
        op = _TYPO_OPS[_bisect(_TYPO_CUM, rnd.random())]
        out = _typo_once(name, op, rnd)
        if out and out != name and out[0] not in _COMBINING and out.strip() == out:
            return out
    return name + name[-1] if name else name  # tiny names: a doubled last character


def _bisect(cum: Sequence[float], u: float) -> int:
    for i, c in enumerate(cum):
        if u < c:
            return i
    return len(cum) - 1


# ---------------------------------------------------------------------- romanisation
_TOKEN_CACHE: dict[str, str] = {}
_NAME_CACHE: dict[str, str] = {}


def romanise_name(name: str) -> str:
    """RTGS romanisation of a Thai name, lower case ("" when nothing romanisable is left).

    PyThaiNLP's ``royin`` engine (offline, rule-based) costs ~1 ms per name, mostly in its
    vowel regexes; names share their parts, so we tokenise (``newmm``) and romanise each
    token once. That matches ``romanize(name, engine="royin")`` for ~97 % of names (the
    rest differ by RTGS's inserted syllable "a").
    """
    cached = _NAME_CACHE.get(name)
    if cached is not None:
        return cached
    from pythainlp.tokenize import word_tokenize
    from pythainlp.transliterate import romanize

    parts = []
    for token in word_tokenize(name, engine="newmm", keep_whitespace=True):
        if token.isspace():
            parts.append(" ")
            continue
        rom = _TOKEN_CACHE.get(token)
        if rom is None:
            rom = _TOKEN_CACHE[token] = romanize(token, engine="royin")
        parts.append(rom)
    out = "".join(c for c in "".join(parts) if (c.isascii() and c.isalpha()) or c == " ").strip()
    _NAME_CACHE[name] = out
    return out


# English-style spellings seen on passports and in hand-typed lists.
_LATIN_VARIANTS = (
    ("ph", "p"),
    ("th", "t"),
    ("kh", "k"),
    ("ch", "j"),
    ("ai", "ay"),
    ("u", "oo"),
    ("i", "ee"),
    ("w", "v"),
)


def _latin_form(roman: str, rnd: random.Random) -> str:
    if rnd.random() < 0.3:
        candidates = [(a, b) for a, b in _LATIN_VARIANTS if a in roman]
        if candidates:
            a, b = rnd.choice(candidates)
            roman = _replace_one(roman, a, b, rnd) or roman
    if rnd.random() < 0.2:
        return roman.upper()
    return " ".join(w[:1].upper() + w[1:] for w in roman.split(" "))


_TITLE_EN = {"นาย": "Mr.", "นาง": "Mrs.", "นางสาว": "Miss", "เด็กชาย": "Master", "เด็กหญิง": "Miss"}
_TITLE_SHORT = {"นางสาว": "น.ส.", "เด็กชาย": "ด.ช.", "เด็กหญิง": "ด.ญ."}
_RELATION_TH = {
    "head": "หัวหน้าครัวเรือน",
    "spouse": "คู่สมรส",
    "child": "บุตร",
    "grandchild": "หลาน",
    "parent": "บิดา/มารดา",
    "sibling": "พี่น้อง",
    "relative": "ญาติ",
    "other": "ผู้อาศัย",
}
_DEPRIVATIONS = ("สุขภาพ", "ความเป็นอยู่", "การศึกษา", "การเข้าถึงบริการรัฐ")


# ------------------------------------------------------------------------ population
class _Population:
    """The synthetic population flattened into columns (index = person number)."""

    def __init__(self, households: Iterable[SynthHousehold], *, details: bool = False) -> None:
        """``details``: also keep each person's income, education, occupation and disability
        (the bmn list reports them; the other lists do not need the memory)."""
        nid: list[str] = []
        title: list[str] = []
        first: list[str] = []
        last: list[str] = []
        sex: list[str] = []
        relation: list[str] = []
        by: list[int] = []
        bm: list[int] = []
        bd: list[int] = []
        hh: list[int] = []
        pos: list[int] = []
        hh_code: list[str] = []
        hh_village: list[str] = []
        hh_house: list[str] = []
        hh_income: list[int] = []
        hh_size: list[int] = []
        income_p: list[int] = []
        education: list[str] = []
        occupation: list[str] = []
        disabled: list[bool] = []
        for h in households:
            k = len(hh_code)
            hh_code.append(h.code)
            hh_village.append(h.village_code)
            hh_house.append(h.house_no)
            income = 0
            for j, m in enumerate(h.members):
                nid.append(m.national_id)
                title.append(m.title)
                first.append(m.first_name)
                last.append(m.last_name)
                sex.append(m.sex)
                relation.append(m.relation)
                b = m.birth_date
                by.append(b.year)
                bm.append(b.month)
                bd.append(b.day)
                hh.append(k)
                pos.append(j)
                income += m.income_year
                if details:
                    income_p.append(m.income_year)
                    education.append(m.education)
                    occupation.append(m.occupation)
                    disabled.append(bool(m.disability))
            hh_income.append(income)
            hh_size.append(len(h.members))
        self.nid, self.title, self.first, self.last, self.sex, self.relation = nid, title, first, last, sex, relation
        self.by = np.array(by, dtype=np.int32)
        self.bm = np.array(bm, dtype=np.int32)
        self.bd = np.array(bd, dtype=np.int32)
        self.hh = np.array(hh, dtype=np.int64)
        self.pos = np.array(pos, dtype=np.int64)
        self.hh_code, self.hh_village, self.hh_house = hh_code, hh_village, hh_house
        size = np.array(hh_size, dtype=np.float64)
        self.hh_ipp = np.array(hh_income, dtype=np.float64) / np.maximum(size, 1.0)
        self.hh_size = size
        # Person attributes the BMN list reports (income, education, occupation, disability).
        self.income = np.array(income_p, dtype=np.int64)
        self.education, self.occupation = education, occupation
        self.disabled = np.array(disabled, dtype=bool)

    def __len__(self) -> int:
        return len(self.nid)

    def ages(self, as_of: datetime.date) -> np.ndarray:
        """Exact age in completed years at ``as_of``."""
        before = (self.bm > as_of.month) | ((self.bm == as_of.month) & (self.bd > as_of.day))
        return (as_of.year - self.by - before.astype(np.int32)).astype(np.int32)


@dataclass
class _Events:
    died: np.ndarray
    newborn: np.ndarray
    year_only: np.ndarray
    moved: np.ndarray
    new_village: dict[int, str]
    new_house: dict[int, str]
    new_last: dict[int, str]


def _events(pop: _Population, rates: DiscrepancyRates, seed: int, as_of: datetime.date) -> _Events:
    rng = np.random.default_rng([seed, 0x5EED, 0])
    rnd = random.Random(f"khm-sources-events:{seed}")
    n = len(pop)
    age = pop.ages(as_of)
    weight = np.where(age >= 60, 1.0, 0.09)  # ≈75 % of deaths among the 21 % aged 60+
    p_die = np.minimum(rates.died * weight / max(float(weight.mean()), 1e-9), 1.0) if n else weight
    died = rng.random(n) < p_die
    survey = datetime.date(as_of.year - 1, as_of.month, min(as_of.day, 28))
    newborn = (pop.by > survey.year) | (
        (pop.by == survey.year) & ((pop.bm > survey.month) | ((pop.bm == survey.month) & (pop.bd > survey.day)))
    )
    year_only = (pop.by < 1950) & (rng.random(n) < rates.elderly_birth_year_only)

    villages = sorted(set(pop.hh_village))
    by_district: dict[str, list[str]] = {}
    for v in villages:
        by_district.setdefault(v[:4], []).append(v)
    surnames = sorted(set(pop.last))

    def new_address(old_village: str) -> tuple[str, str]:
        pool = by_district.get(old_village[:4], villages) if rnd.random() < 0.7 else villages
        village = rnd.choice(pool)
        if len(pool) > 1:
            while village == old_village:
                village = rnd.choice(pool)
        house = str(rnd.randint(1, 250))
        if rnd.random() < 0.1:
            house += f"/{rnd.randint(1, 4)}"
        return village, house

    new_village: dict[int, str] = {}
    new_house: dict[int, str] = {}
    new_last: dict[int, str] = {}
    hh_moves = np.flatnonzero(rng.random(len(pop.hh_code)) < rates.moved_household)
    member_start = np.searchsorted(pop.hh, hh_moves, side="left")
    member_end = np.searchsorted(pop.hh, hh_moves, side="right")
    for h, a, b in zip(hh_moves.tolist(), member_start.tolist(), member_end.tolist(), strict=True):
        village, house = new_address(pop.hh_village[h])
        for p in range(a, b):
            new_village[p], new_house[p] = village, house
    movers = np.flatnonzero((rng.random(n) < rates.moved_person) & (age >= 15))
    u_surname = rng.random(n)
    for p in movers.tolist():
        if p in new_village:
            continue
        new_village[p], new_house[p] = new_address(pop.hh_village[pop.hh[p]])
        if pop.sex[p] == "F" and 18 <= age[p] <= 45 and u_surname[p] < rates.surname_change_on_move:
            surname = rnd.choice(surnames)
            if surname != pop.last[p]:
                new_last[p] = surname
    moved = np.zeros(n, dtype=bool)
    if new_village:
        moved[np.fromiter(new_village.keys(), dtype=np.int64)] = True
    return _Events(died, newborn, year_only, moved, new_village, new_house, new_last)


def _select(pop: _Population, sel: ListSelection, seed: int) -> dict[str, np.ndarray]:
    """Household membership of each list (boolean arrays over households)."""
    rng = np.random.default_rng([seed, 0x5EED, 1])
    ipp = pop.hh_ipp
    h = len(ipp)
    u1, u2 = rng.random(h), rng.random(h)
    poor = ipp < sel.poverty_line
    near = ~poor & (ipp < sel.near_poor_line)
    tpmap = (poor & (u1 < sel.tpmap_poor_share)) | (near & (u1 < sel.tpmap_near_poor_share))
    below_extra = ipp < sel.khm_extra_line
    khm = (
        (tpmap & (u2 < sel.khm_from_tpmap))
        | (~tpmap & below_extra & (u2 < sel.khm_extra_share))
        | (~tpmap & ~below_extra & (u2 < sel.khm_extra_other))
    )
    measured = ipp * np.exp(rng.normal(0.0, sel.bottom_income_noise, h))
    order = np.argsort(measured, kind="stable")
    bottom = np.zeros(h, dtype=bool)
    bottom[order[: round(sel.bottom_share * h)]] = True
    return {"tpmap": tpmap, "khm": khm, "bottom20": bottom, "_measured": measured}


# -------------------------------------------------------------------------- list rows
_SEVERE = ("id_missing", "id_mistyped", "birth_date_missing", "birth_date_wrong", "name_swap")
_NONE = len(_SEVERE)


def _mistype_id(nid: str, rnd: random.Random) -> str:
    digits = list(nid)
    if rnd.random() < 0.6:  # one digit wrong; retried until the check digit catches it
        for _ in range(20):
            i = rnd.randrange(13)
            choices = [c for c in "0123456789" if c != nid[i] and not (i == 0 and c == "0")]
            out = nid[:i] + rnd.choice(choices) + nid[i + 1 :]
            if not is_valid_national_id(out):
                return out
    pairs = [i for i in range(12) if digits[i] != digits[i + 1] and not (i == 0 and digits[1] == "0")]
    i = rnd.choice(pairs)
    digits[i], digits[i + 1] = digits[i + 1], digits[i]
    return "".join(digits)


def _wrong_date(y: int, m: int, d: int, rnd: random.Random) -> tuple[int, int, int]:
    for _ in range(10):
        u = rnd.random()
        if u < 0.35 and d <= 12 and d != m:
            ny, nm, nd = y, d, m  # day and month swapped
        elif u < 0.65:
            ny, nm, nd = y + rnd.choice((-1, 1)), m, d  # year off by one
        elif d >= 10 and d % 10 != d // 10 and d % 10 != 0 and (d % 10) * 10 + d // 10 <= 28:
            ny, nm, nd = y, m, (d % 10) * 10 + d // 10  # digits swapped: 12 -> 21
        else:
            ny, nm, nd = y, m, min(max(d + rnd.choice((-2, -1, 1, 2)), 1), 28)
        try:
            datetime.date(ny, nm, nd)
        except ValueError:
            nd = 28
        if (ny, nm, nd) != (y, m, d):
            return ny, nm, nd
    return y + 1, m, min(d, 28)


def _house_variant(house: str, rnd: random.Random) -> str:
    if "/" in house:
        main, sub = house.split("/", 1)
        return rnd.choice((f"{main} / {sub}", f"{main}/ {sub}", main))
    return rnd.choice((f"{house} ", f"เลขที่ {house}", f"{house}/0"))


@dataclass
class _Rows:
    """One list's rows before layout: person numbers and the (possibly damaged) values."""

    p: np.ndarray
    is_dup: np.ndarray
    use_new: np.ndarray
    ids: list[str]
    title: list[str]
    first: list[str]
    last: list[str]
    y: np.ndarray
    m: np.ndarray
    d: np.ndarray
    dob_state: np.ndarray  # 0 full date, 1 missing, 2 year only
    era_mix: np.ndarray
    latin: np.ndarray
    whitespace: np.ndarray
    title_in_name: np.ndarray
    thai_digits: np.ndarray
    id_formatted: np.ndarray
    village: list[str]
    house: list[str]
    tags: dict[int, list[str]]
    rng: np.random.Generator
    rnd: random.Random


def _rows(
    name: str,
    pop: _Population,
    ev: _Events,
    hh_on_list: np.ndarray | None,
    rates: ListRates,
    seed: int,
    *,
    person_mask: np.ndarray | None = None,
    sort_keys: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Rows:
    """``person_mask`` (bmn) replaces the household selection and the died/newborn rule;
    ``sort_keys`` (household, member number per person) replace the population's own."""
    k = ALL_LISTS.index(name)
    rng = np.random.default_rng([seed, 0x5EED, 10 + k])
    rnd = random.Random(f"khm-sources-{name}:{seed}")
    newer = name != "tpmap"

    if person_mask is not None:
        on_list = person_mask
    else:
        assert hh_on_list is not None
        on_list = hh_on_list[pop.hh] & ((~ev.died) if newer else (~ev.newborn))
    p = np.flatnonzero(on_list)
    p = p[rng.random(len(p)) >= rates.member_missing]
    dups = p[rng.random(len(p)) < rates.duplicate]
    p = np.concatenate([p, dups])
    is_dup = np.zeros(len(p), dtype=bool)
    is_dup[len(p) - len(dups) :] = True
    use_new = ev.moved[p] if newer else np.zeros(len(p), dtype=bool)
    # A duplicate of someone who moved is often the stale registration at the old address.
    use_new = use_new & ~(is_dup & (rng.random(len(p)) < 0.5))

    old_village = pop.hh_village
    village = [old_village[h] for h in pop.hh[p].tolist()]
    house = [pop.hh_house[h] for h in pop.hh[p].tolist()]
    p_list = p.tolist()
    for i in np.flatnonzero(use_new).tolist():
        village[i] = ev.new_village[p_list[i]]
        house[i] = ev.new_house[p_list[i]]

    # Order like an export: by village, household, member; duplicates at the end of their village.
    village_rank = {v: i for i, v in enumerate(sorted(set(village)))}
    village_int = np.array([village_rank[v] for v in village], dtype=np.int64)
    sort_hh, sort_pos = sort_keys if sort_keys is not None else (pop.hh, pop.pos)
    order = np.lexsort((sort_pos[p], sort_hh[p], is_dup, village_int))
    p, is_dup, use_new = p[order], is_dup[order], use_new[order]
    village = [village[i] for i in order.tolist()]
    house = [house[i] for i in order.tolist()]
    p_list = p.tolist()
    n = len(p)

    tags: dict[int, list[str]] = defaultdict(list)  # sparse: most rows are clean
    for i in np.flatnonzero(is_dup).tolist():
        tags[i].append("duplicate")
    for i in np.flatnonzero(use_new).tolist():
        tags[i].append("moved")
    # The dead are on the older list, and on a bmn roster copied from last year's form.
    for i in np.flatnonzero(ev.died[p]).tolist():
        tags[i].append("died")

    ids = [pop.nid[i] for i in p_list]
    title = [pop.title[i] for i in p_list]
    first = [pop.first[i] for i in p_list]
    last = [pop.last[i] for i in p_list]
    surname_changed = np.zeros(n, dtype=bool)
    if newer and ev.new_last:
        for i in np.flatnonzero(use_new).tolist():
            new_last = ev.new_last.get(p_list[i])
            if new_last is not None:
                last[i] = new_last
                if title[i] == "นางสาว":
                    title[i] = "นาง"
                surname_changed[i] = True
                tags[i].append("surname_changed")

    latin = rng.random(n) < rates.latin_name
    severe = np.searchsorted(np.cumsum([getattr(rates, s) for s in _SEVERE]), rng.random(n), side="right")
    severe[latin | surname_changed] = _NONE
    typo = (rng.random(n) < rates.name_typo) & ~latin
    y, m, d = pop.by[p].copy(), pop.bm[p].copy(), pop.bd[p].copy()
    dob_state = np.where(ev.year_only[p] | (rng.random(n) < rates.birth_year_only), 2, 0).astype(np.int8)
    for i in np.flatnonzero(dob_state == 2).tolist():
        tags[i].append("birth_year_only")

    for code, which in zip(_SEVERE, range(_NONE), strict=True):
        for i in np.flatnonzero(severe == which).tolist():
            if code == "id_missing":
                ids[i] = ""
            elif code == "id_mistyped":
                ids[i] = _mistype_id(ids[i], rnd)
            elif code == "birth_date_missing":
                dob_state[i] = 1
            elif code == "birth_date_wrong":
                if dob_state[i] == 2:
                    y[i] += rnd.choice((-1, 1))
                else:
                    y[i], m[i], d[i] = _wrong_date(int(y[i]), int(m[i]), int(d[i]), rnd)
            tags[i].append(code)
    for i in np.flatnonzero(typo).tolist():
        if rnd.random() < 0.5:
            first[i] = thai_typo(first[i], rnd)
        else:
            last[i] = thai_typo(last[i], rnd)
        tags[i].append("name_typo")
    for i in np.flatnonzero(severe == _SEVERE.index("name_swap")).tolist():
        first[i], last[i] = last[i], first[i]
    for i in np.flatnonzero(latin).tolist():
        rf, rl = romanise_name(first[i]), romanise_name(last[i])
        if not rf or not rl:
            latin[i] = False
            continue
        first[i], last[i] = _latin_form(rf, rnd), _latin_form(rl, rnd)
        title[i] = _TITLE_EN.get(title[i], title[i])
        tags[i].append("latin_name")

    whitespace = rng.random(n) < rates.whitespace
    era_mix = (rng.random(n) < rates.era_mix) & (dob_state == 0)
    title_in_name = rng.random(n) < rates.title_in_name
    thai_digits = rng.random(n) < rates.thai_digits
    id_formatted = rng.random(n) < rates.id_formatted
    for flag, code in ((whitespace, "whitespace"), (era_mix, "era_mix"), (title_in_name, "title_in_name")):
        for i in np.flatnonzero(flag).tolist():
            tags[i].append(code)
    for i in np.flatnonzero(rng.random(n) < rates.house_no_variant).tolist():
        house[i] = _house_variant(house[i], rnd)
        tags[i].append("house_no_variant")
    return _Rows(
        p=p,
        is_dup=is_dup,
        use_new=use_new,
        ids=ids,
        title=title,
        first=first,
        last=last,
        y=y,
        m=m,
        d=d,
        dob_state=dob_state,
        era_mix=era_mix,
        latin=latin,
        whitespace=whitespace,
        title_in_name=title_in_name,
        thai_digits=thai_digits,
        id_formatted=id_formatted,
        village=village,
        house=house,
        tags=tags,
        rng=rng,
        rnd=rnd,
    )


def _spaces(value: str, rnd: random.Random) -> str:
    u = rnd.random()
    if u < 0.4:
        return value + " "
    if u < 0.7:
        return " " + value
    return value.replace(" ", "  ") if " " in value else value + "  "


def _dates(r: _Rows, fmt: str, *, be: bool) -> list[str]:
    """Format birth dates: fmt is "dmy" (dd/mm/yyyy) or "iso" (yyyy-mm-dd)."""
    era = BE_OFFSET if be else 0
    out: list[str] = []
    ys, ms, ds = r.y.tolist(), r.m.tolist(), r.d.tolist()
    states, mixes = r.dob_state.tolist(), r.era_mix.tolist()
    for y, m, d, state, mix in zip(ys, ms, ds, states, mixes, strict=True):
        year = y + (BE_OFFSET - era if mix else era)
        if state == 1:
            out.append("")
        elif fmt == "iso":
            out.append(str(year) if state == 2 else f"{year:04d}-{m:02d}-{d:02d}")
        elif state == 2:
            out.append(f"00/00/{year}")
        else:
            out.append(f"{d:02d}/{m:02d}/{year}")
    return out


def _finish(name: str, r: _Rows, pop: _Population, columns: dict[str, list[str]], fields: dict[str, Any]) -> SourceList:
    n = len(r.p)
    prefix = _RECORD_PREFIX[name]
    width = max(7, len(str(n)))
    data: dict[str, list[str]] = {RECORD_ID: [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]}
    data.update(columns)
    data[TRUTH_COLUMN] = [pop.nid[i] for i in r.p.tolist()]
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    return SourceList(
        name=name,
        frame=frame,
        fields=fields,
        discrepancies=[";".join(r.tags[i]) if i in r.tags else "" for i in range(n)],
        household_codes=[pop.hh_code[h] for h in pop.hh[r.p].tolist()],
    )


def _age_at(r: _Rows, pop: _Population, when: datetime.date) -> list[str]:
    by, bm, bd = pop.by[r.p], pop.bm[r.p], pop.bd[r.p]
    before = (bm > when.month) | ((bm == when.month) & (bd > when.day))
    return [str(a) for a in (when.year - by - before.astype(np.int32)).tolist()]


def _deprivations(pop: _Population, poverty_line: int, seed: int) -> list[str]:
    """TPMAP's deprivation dimensions per household: income for the poor, others at random."""
    rng = np.random.default_rng([seed, 0x5EED, 2])
    h = len(pop.hh_code)
    draws = rng.random((h, len(_DEPRIVATIONS))) < 0.15
    fallback = rng.integers(0, len(_DEPRIVATIONS), h).tolist()
    poor = (pop.hh_ipp < poverty_line).tolist()
    out = []
    for is_poor, row, alt in zip(poor, draws.tolist(), fallback, strict=True):
        chosen = (["รายได้"] if is_poor else []) + [dim for dim, hit in zip(_DEPRIVATIONS, row, strict=True) if hit]
        out.append(", ".join(chosen or [_DEPRIVATIONS[alt]]))
    return out


def _tpmap(r: _Rows, pop: _Population, poverty_line: int, seed: int, as_of: datetime.date) -> SourceList:
    rnd = r.rnd
    n = len(r.p)
    survey = datetime.date(as_of.year - 1, as_of.month, min(as_of.day, 28))
    first, last = list(r.first), list(r.last)
    for i in np.flatnonzero(r.whitespace).tolist():
        if rnd.random() < 0.5:
            first[i] = _spaces(first[i], rnd)
        else:
            last[i] = _spaces(last[i], rnd)
    hh = pop.hh[r.p].tolist()
    # Deprivation dimensions are a household attribute: income for the poor, others drawn per household.
    dims = _deprivations(pop, poverty_line, seed)
    income = [str(x) for x in np.round(pop.hh_ipp, -2).astype(np.int64).tolist()]
    subdistrict = [v[:6] for v in r.village]
    info = [_village(v) for v in r.village]
    columns = {
        "ปีสำรวจ": [str(survey.year + BE_OFFSET)] * n,
        "จังหวัด": [v.province for v in info],
        "อำเภอ": [v.district for v in info],
        "ตำบล": [v.subdistrict for v in info],
        "รหัสตำบล": subdistrict,
        "หมู่": [v.moo for v in info],
        "บ้านเลขที่": r.house,
        "เลขประจำตัวประชาชน": r.ids,
        "คำนำหน้า": r.title,
        "ชื่อ": first,
        "นามสกุล": last,
        "เพศ": ["ชาย" if pop.sex[i] == "M" else "หญิง" for i in r.p.tolist()],
        "วันเกิด": _dates(r, "dmy", be=True),
        "อายุ": _age_at(r, pop, survey),
        "รายได้เฉลี่ยต่อคนต่อปี": [income[h] for h in hh],
        "มิติที่ขาด": [dims[h] for h in hh],
    }
    fields = {
        "record_id": RECORD_ID,
        "id_number": "เลขประจำตัวประชาชน",
        "id_scheme": "thai_national_id",
        "first_name": "ชื่อ",
        "last_name": "นามสกุล",
        "birth_date": "วันเกิด",
        "date_format": "%d/%m/%Y BE",
        "sex": "เพศ",
        "house_no": "บ้านเลขที่",
        "address": ["บ้านเลขที่", "หมู่", "ตำบล", "อำเภอ", "จังหวัด"],
        "area_code": "รหัสตำบล",
    }
    return _finish("tpmap", r, pop, columns, fields)


def _khm(r: _Rows, pop: _Population) -> SourceList:
    rnd, rng = r.rnd, r.rng
    n = len(r.p)
    short = rng.random(n) < 0.4  # abbreviated titles (น.ส., ด.ช., ด.ญ.) - a layout habit
    unpadded = rng.random(n) < 0.3  # 5/3/2510 instead of 05/03/2510
    title = [_TITLE_SHORT.get(t, t) if s else t for t, s in zip(r.title, short.tolist(), strict=True)]
    full = [f"{a} {b}" for a, b in zip(r.first, r.last, strict=True)]
    for i in np.flatnonzero(r.title_in_name).tolist():
        full[i] = title[i] + ("" if rnd.random() < 0.5 else " ") + full[i]
    for i in np.flatnonzero(r.whitespace).tolist():
        full[i] = _spaces(full[i], rnd)
    ids = list(r.ids)
    for i in np.flatnonzero(r.id_formatted).tolist():
        if len(ids[i]) == 13:
            ids[i] = format_national_id(ids[i])
    dates = _dates(r, "dmy", be=True)
    for i in np.flatnonzero(unpadded).tolist():
        if dates[i] and not dates[i].startswith("00/"):
            dd, mm, yy = dates[i].split("/")
            dates[i] = f"{int(dd)}/{int(mm)}/{yy}"
    house = list(r.house)
    info = [_village(v) for v in r.village]
    for i in np.flatnonzero(r.thai_digits).tolist():
        ids[i] = ids[i].translate(_THAI_DIGITS)
        dates[i] = dates[i].translate(_THAI_DIGITS)
        house[i] = house[i].translate(_THAI_DIGITS)
        r.tags[i].append("thai_digits")
    columns = {
        "household_code": [pop.hh_code[h] for h in pop.hh[r.p].tolist()],
        "cid": ids,
        "prefix": title,
        "full_name": full,
        "gender": [pop.sex[i] for i in r.p.tolist()],
        "birth_date": dates,
        "relation": [_RELATION_TH.get(pop.relation[i], "ผู้อาศัย") for i in r.p.tolist()],
        "house_no": house,
        "moo": [v.moo for v in info],
        "village_code": r.village,
        "subdistrict": [v.subdistrict for v in info],
        "district": [v.district for v in info],
        "postcode": [v.postcode for v in info],
    }
    fields = {
        "record_id": RECORD_ID,
        "id_number": "cid",
        "id_scheme": "thai_national_id",
        "full_name": "full_name",
        "birth_date": "birth_date",
        "date_format": "%d/%m/%Y BE",
        "sex": "gender",
        "house_no": "house_no",
        "address": ["house_no", "moo", "subdistrict", "district"],
        "area_code": "village_code",
        "postcode": "postcode",
    }
    return _finish("khm", r, pop, columns, fields)


def _address_text(house: str, village: str, style: int) -> str:
    v = _village(village)
    moo, sub, district, postcode, province = v.moo, v.subdistrict, v.district, v.postcode, v.province
    if style == 0:
        return f"{house} หมู่ {moo} ต.{sub} อ.{district} จ.{province} {postcode}"
    if style == 1:
        return f"{house} ม.{moo} ต.{sub} อ.{district} จ.{province}"
    return f"บ้านเลขที่ {house} หมู่ที่ {moo} ตำบล{sub} อำเภอ{district} จังหวัด{province} {postcode}"


def _bottom20(r: _Rows, pop: _Population, measured: np.ndarray) -> SourceList:
    rnd, rng = r.rnd, r.rng
    n = len(r.p)
    first, last = list(r.first), list(r.last)
    for i in np.flatnonzero(r.whitespace).tolist():
        first[i] = _spaces(first[i], rnd)
    ids = list(r.ids)
    for i in np.flatnonzero(r.id_formatted).tolist():
        d = ids[i]
        if len(d) == 13:
            ids[i] = f"{d[0]} {d[1:5]} {d[5:10]} {d[10:12]} {d[12]}"
    styles = np.searchsorted([0.5, 0.75], rng.random(n), side="right").tolist()
    hh = pop.hh[r.p].tolist()
    income = [str(x) for x in np.round(measured, -2).astype(np.int64).tolist()]
    size = [str(x) for x in pop.hh_size.astype(np.int64).tolist()]
    columns = {
        "Citizen ID": ids,
        "Title": r.title,
        "Name": first,
        "Surname": last,
        "Sex": ["1" if pop.sex[i] == "M" else "2" for i in r.p.tolist()],
        "Birth date": _dates(r, "iso", be=False),
        "Address": [_address_text(h, v, s) for h, v, s in zip(r.house, r.village, styles, strict=True)],
        "Subdistrict code": [v[:6] for v in r.village],
        "Household size": [size[h] for h in hh],
        "Income per capita (THB/yr)": [income[h] for h in hh],
    }
    fields = {
        "record_id": RECORD_ID,
        "id_number": "Citizen ID",
        "id_scheme": "thai_national_id",
        "first_name": "Name",
        "last_name": "Surname",
        "birth_date": "Birth date",
        "date_format": "%Y-%m-%d",
        "sex": "Sex",
        "address": ["Address"],
        "area_code": "Subdistrict code",
    }
    return _finish("bottom20", r, pop, columns, fields)


# --------------------------------------------------------------------------------- bmn
# BMN 2560-2564 indicator numbers (the set the reference documents; the 2566-2570 set is
# renumbered and not published in full) → the questionnaire's wording, for the ten the
# bmn list carries: TPMAP's own indicators that the synthetic population can answer.
BMN_INDICATORS: dict[int, str] = {
    7: "คนอายุ 6 ปีขึ้นไป ออกกำลังกายอย่างน้อยสัปดาห์ละ 3 วันๆ ละ 30 นาที",
    8: "ครัวเรือนมีความมั่นคงในที่อยู่อาศัย และบ้านมีสภาพคงทนถาวร",
    9: "ครัวเรือนมีน้ำสะอาดสำหรับดื่มและบริโภคเพียงพอตลอดปี อย่างน้อยคนละ 5 ลิตรต่อวัน",
    16: "เด็กอายุ 6-14 ปี ได้รับการศึกษาภาคบังคับ 9 ปี",
    19: "คนอายุ 15-59 ปี อ่าน เขียนภาษาไทย และคิดเลขอย่างง่ายได้",
    20: "คนอายุ 15-59 ปี มีอาชีพและรายได้",
    21: "คนอายุ 60 ปีขึ้นไป มีอาชีพและรายได้",
    22: "รายได้เฉลี่ยของคนในครัวเรือนต่อปี",
    27: "ผู้สูงอายุ ได้รับการดูแลจากครอบครัว ชุมชน ภาครัฐ หรือภาคเอกชน",
    28: "ผู้พิการ ได้รับการดูแลจากครอบครัว ชุมชน ภาครัฐ หรือภาคเอกชน",
}
BMN_PASS, BMN_FAIL = "ผ่าน", "ไม่ผ่าน"  # "" = the indicator does not apply to this person
_EDUCATION_TH = {
    "none": "ไม่ได้เรียน",
    "primary": "ประถมศึกษา",
    "lower_secondary": "มัธยมศึกษาตอนต้น",
    "upper_secondary": "มัธยมศึกษาตอนปลาย",
    "vocational": "ปวช./ปวส.",
    "bachelor": "ปริญญาตรี",
    "higher": "สูงกว่าปริญญาตรี",
}
_OCCUPATION_TH = {
    "farmer": "เกษตรกรรม",
    "farm_labourer": "รับจ้างภาคเกษตร",
    "general_labourer": "รับจ้างทั่วไป",
    "trader": "ค้าขาย",
    "government": "รับราชการ/รัฐวิสาหกิจ",
    "company": "พนักงานบริษัท",
    "student": "นักเรียน/นักศึกษา",
    "unemployed": "ว่างงาน",
    "elderly_dependent": "ไม่ได้ประกอบอาชีพ",
    "child": "เด็กก่อนวัยเรียน",
    "other": "อื่น ๆ",
}
_NOT_WORKING = frozenset({"unemployed", "elderly_dependent", "child", "student"})
_MONTHS_SHORT = _words("ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค.")
_MONTHS_FULL = _words("มกราคม กุมภาพันธ์ มีนาคม เมษายน พฤษภาคม มิถุนายน กรกฎาคม สิงหาคม กันยายน ตุลาคม พฤศจิกายน ธันวาคม")


@dataclass
class _Survey:
    """This round's BMN roster: who was met, in which survey household, as what."""

    mask: np.ndarray  # per person: on the roster (before the row-level discrepancies)
    unit: np.ndarray  # per person: survey household number (-1 = not surveyed)
    rank: np.ndarray  # per person: member number in the survey household, 1 = head
    relation: dict[int, str]  # person → relation to the head (RELATIONS code)
    unit_ipp: np.ndarray  # per survey household: income per member per year
    unit_size: np.ndarray  # per survey household: members on the roster


def _house_sort_key(house: str) -> tuple[int, int, str]:
    main, _, sub = house.partition("/")
    return (int(main) if main.isdigit() else 10**9, int(sub) if sub.isdigit() else 0, house)


def _bmn_survey(pop: _Population, ev: _Events, sel: ListSelection, rates: DiscrepancyRates, seed: int) -> _Survey:
    """A subset of villages, and most households of each at their *current* address: the
    survey knocks on doors, so a household that moved is met where it lives now and a
    person who moved alone joins the household at their new house (as ผู้อาศัย) or
    heads a household of their own. The dead are off the roster unless it was copied."""
    rng = np.random.default_rng([seed, 0x5EED, 3])
    n = len(pop)
    villages = sorted(set(pop.hh_village))
    covered_draw = rng.random(len(villages)) < sel.bmn_village_share
    if villages and not covered_draw.any():
        covered_draw[int(rng.integers(len(villages)))] = True
    covered = {v for v, c in zip(villages, covered_draw.tolist(), strict=True) if c}
    listed = ~ev.died | (rng.random(n) < rates.bmn_dead_still_listed)
    hh_covered = np.array([v in covered for v in pop.hh_village], dtype=bool)
    candidates = np.flatnonzero(listed & (hh_covered[pop.hh] | ev.moved))
    hh = pop.hh
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for p in candidates.tolist():
        village = ev.new_village.get(p)
        if village is None:
            h = int(hh[p])
            members[(pop.hh_village[h], pop.hh_house[h])].append(p)
        elif village in covered:
            members[(village, ev.new_house[p])].append(p)
    keys = sorted(members, key=lambda k: (k[0], _house_sort_key(k[1])))
    met = rng.random(len(keys)) < sel.bmn_household_share
    unit = np.full(n, -1, dtype=np.int64)
    rank = np.zeros(n, dtype=np.int64)
    relation: dict[int, str] = {}
    ipp: list[float] = []
    size: list[int] = []
    for key, is_met in zip(keys, met.tolist(), strict=True):
        if not is_met:
            continue
        people = members[key]
        counts: dict[int, int] = defaultdict(int)
        for p in people:
            counts[int(hh[p])] += 1
        main = min(counts, key=lambda h: (-counts[h], h))  # the household that lives here
        people.sort(key=lambda p: (int(hh[p]) != main, int(hh[p]), int(pop.pos[p])))
        u = len(ipp)
        for j, p in enumerate(people, start=1):
            unit[p], rank[p] = u, j
            relation[p] = pop.relation[p] if int(hh[p]) == main else "other"
        if all(relation[p] != "head" for p in people):  # the head died or left: the next in line heads it
            relation[people[0]] = "head"
        ipp.append(float(pop.income[people].sum()) / len(people))
        size.append(len(people))
    return _Survey(
        mask=unit >= 0,
        unit=unit,
        rank=rank,
        relation=relation,
        unit_ipp=np.array(ipp, dtype=np.float64),
        unit_size=np.array(size, dtype=np.int64),
    )


def _thai_text_dates(r: _Rows, full_month: np.ndarray) -> list[str]:
    """``12 มี.ค. 2522`` (or ``12 มีนาคม 2522``): day, Thai month, BE year; a bare BE year
    when only the year is known; a CE year on ``era_mix`` rows."""
    out: list[str] = []
    for y, m, d, state, mix, full in zip(
        r.y.tolist(), r.m.tolist(), r.d.tolist(), r.dob_state.tolist(), r.era_mix.tolist(), full_month.tolist(),
        strict=True,
    ):  # fmt: skip
        year = y if mix else y + BE_OFFSET
        if state == 1:
            out.append("")
        elif state == 2:
            out.append(str(year))
        else:
            out.append(f"{d} {(_MONTHS_FULL if full else _MONTHS_SHORT)[m - 1]} {year}")
    return out


def _house_code(office: str, serial: int) -> str:
    """An 11-digit house code shaped like DOPA's รหัสประจำบ้าน: registration office (4 digits),
    serial (6), a check digit (synthetic: the national-ID rule over the first 10 digits)."""
    body = f"{office}{serial:06d}"
    total = sum(int(c) * w for c, w in zip(body, range(11, 1, -1), strict=True))
    return body + str((11 - total % 11) % 10)


def _bmn_indicators(
    r: _Rows, pop: _Population, survey: _Survey, poverty_line: int, seed: int, as_of: datetime.date
) -> dict[str, list[str]]:
    """Answers to ten BMN indicators per row (ผ่าน / ไม่ผ่าน / "" when it does not apply).

    Household indicators (8, 9, 22) are one answer per survey household; 20, 21 and 22 follow
    the person's occupation and income and the household's income per head; the others are
    drawn at plausible rates (housing and water fail more often in poor households)."""
    rng = np.random.default_rng([seed, 0x5EED, 4])
    n = len(r.p)
    units = survey.unit[r.p]
    poor_unit = survey.unit_ipp < poverty_line
    u_unit = rng.random((len(survey.unit_ipp), 2))
    fail8 = u_unit[:, 0] < np.where(poor_unit, 0.12, 0.03)
    fail9 = u_unit[:, 1] < np.where(poor_unit, 0.08, 0.03)
    u = rng.random((n, 5))
    by, bm, bd = pop.by[r.p], pop.bm[r.p], pop.bd[r.p]
    age = as_of.year - by - ((bm > as_of.month) | ((bm == as_of.month) & (bd > as_of.day))).astype(np.int64)
    occupation = [pop.occupation[i] for i in r.p.tolist()]
    education = [pop.education[i] for i in r.p.tolist()]
    income = pop.income[r.p]
    disabled = pop.disabled[r.p]

    def answer(applies: bool, passed: bool) -> str:
        return (BMN_PASS if passed else BMN_FAIL) if applies else ""

    cols: dict[int, list[str]] = {k: [] for k in BMN_INDICATORS}
    for i in range(n):
        a, h, occ = int(age[i]), int(units[i]), occupation[i]
        working = occ not in _NOT_WORKING and int(income[i]) > 0
        cols[7].append(answer(a >= 6, u[i, 0] >= 0.12))
        cols[8].append(answer(True, not fail8[h]))
        cols[9].append(answer(True, not fail9[h]))
        cols[16].append(answer(6 <= a <= 14, u[i, 1] >= 0.015))
        cols[19].append(answer(15 <= a <= 59, education[i] != "none" and u[i, 2] >= 0.01))
        cols[20].append(answer(15 <= a <= 59 and occ != "student", working))
        cols[21].append(answer(a >= 60, working))
        cols[22].append(answer(True, not poor_unit[h]))
        cols[27].append(answer(a >= 60, u[i, 3] >= 0.03))
        cols[28].append(answer(bool(disabled[i]), u[i, 4] >= 0.05))
    return {f"ตัวชี้วัดที่ {k}": v for k, v in cols.items()}


def _bmn(
    r: _Rows, pop: _Population, ev: _Events, survey: _Survey, poverty_line: int, seed: int, as_of: datetime.date
) -> SourceList:
    rnd, rng = r.rnd, r.rng
    n = len(r.p)
    p_list = r.p.tolist()
    short = rng.random(n) < 0.3  # น.ส., ด.ช., ด.ญ. - a typing habit, not an error
    full_month = rng.random(n) < 0.2  # "12 มีนาคม 2522" instead of "12 มี.ค. 2522"
    title = [_TITLE_SHORT.get(t, t) if s else t for t, s in zip(r.title, short.tolist(), strict=True)]
    first, last = list(r.first), list(r.last)
    for i in np.flatnonzero(r.whitespace).tolist():
        if rnd.random() < 0.5:
            first[i] = _spaces(first[i], rnd)
        else:
            last[i] = _spaces(last[i], rnd)
    ids = list(r.ids)
    for i in np.flatnonzero(r.id_formatted).tolist():
        if len(ids[i]) == 13:
            ids[i] = format_national_id(ids[i])
    dates = _thai_text_dates(r, full_month)
    house = list(r.house)
    for i in np.flatnonzero(r.thai_digits).tolist():  # typed by hand: Thai digits in dates and house numbers
        dates[i] = dates[i].translate(_THAI_DIGITS)
        house[i] = house[i].translate(_THAI_DIGITS)
        r.tags[i].append("thai_digits")
    # House codes from the clean address (a house number typed oddly keeps its code).
    clean: list[tuple[str, str]] = []
    for i, p in enumerate(p_list):
        if r.use_new[i]:
            clean.append((ev.new_village[p], ev.new_house[p]))
        else:
            h = int(pop.hh[p])
            clean.append((pop.hh_village[h], pop.hh_house[h]))
    serial: dict[str, int] = defaultdict(int)
    codes: dict[tuple[str, str], str] = {}
    for key in sorted(set(clean), key=lambda k: (k[0], _house_sort_key(k[1]))):
        serial[key[0][:4]] += 1
        codes[key] = _house_code(key[0][:4], serial[key[0][:4]])
    info = [_village(v) for v in r.village]
    units = survey.unit[r.p].tolist()
    ages = _age_at(r, pop, as_of)
    columns = {
        "ปีที่สำรวจ": [str(as_of.year + BE_OFFSET)] * n,
        "จังหวัด": [v.province for v in info],
        "อำเภอ": [v.district for v in info],
        "ตำบล": [v.subdistrict for v in info],
        "รหัสหมู่บ้าน": r.village,
        "หมู่ที่": [v.moo for v in info],
        "ชื่อหมู่บ้าน": ["บ้าน" + _place_name(v) for v in r.village],
        "รหัสบ้าน": [codes[k] for k in clean],
        "บ้านเลขที่": house,
        "ลำดับที่": [str(x) for x in survey.rank[r.p].tolist()],
        "คำนำหน้า": title,
        "ชื่อ": first,
        "นามสกุล": last,
        "เลขประจำตัวประชาชน": ids,
        "เพศ": ["ช" if pop.sex[i] == "M" else "ญ" for i in p_list],
        "วันเดือนปีเกิด": dates,
        "อายุ": ages,
        "ความเกี่ยวพันกับหัวหน้าครัวเรือน": [_RELATION_TH.get(survey.relation.get(p, "other"), "ผู้อาศัย") for p in p_list],
        "การศึกษาสูงสุด": [
            "ยังไม่เข้าเรียน" if int(a) < 6 else _EDUCATION_TH.get(pop.education[p], "อื่น ๆ")
            for p, a in zip(p_list, ages, strict=True)
        ],
        "อาชีพหลัก": [_OCCUPATION_TH.get(pop.occupation[p], "อื่น ๆ") for p in p_list],
        "รายได้ต่อปี (บาท)": [str(x) for x in pop.income[r.p].tolist()],
        "จำนวนสมาชิกในครัวเรือน": [str(int(survey.unit_size[u])) for u in units],
        "รายได้เฉลี่ยต่อคนต่อปี (บาท)": [str(round(float(survey.unit_ipp[u]))) for u in units],
        **_bmn_indicators(r, pop, survey, poverty_line, seed, as_of),
    }
    fields = {
        "record_id": RECORD_ID,
        "id_number": "เลขประจำตัวประชาชน",
        "id_scheme": "thai_national_id",
        "first_name": "ชื่อ",
        "last_name": "นามสกุล",
        "birth_date": "วันเดือนปีเกิด",
        "sex": "เพศ",
        "house_no": "บ้านเลขที่",
        "address": ["บ้านเลขที่", "หมู่ที่", "ตำบล", "อำเภอ", "จังหวัด"],
        "area_code": "รหัสหมู่บ้าน",
    }
    return _finish("bmn", r, pop, columns, fields)


def build_lists(
    households: Iterable[SynthHousehold],
    *,
    seed: int,
    rates: DiscrepancyRates | None = None,
    selection: ListSelection | None = None,
    as_of: datetime.date = REFERENCE_DATE,
    lists: Sequence[str] = LIST_NAMES,
) -> SourceLists:
    """Select the lists from the population and give them their layouts and discrepancies.

    ``lists`` names the lists to build (default the three of :data:`LIST_NAMES`; add
    ``"bmn"``, or pass :data:`ALL_LISTS`); they come out in :data:`ALL_LISTS` order. Each
    list draws from its own random streams, so adding or leaving out one never changes
    another. ``as_of`` is the date of the newer lists (khm, bottom20, bmn); tpmap is a year
    older. Use the same ``as_of`` the population was generated with.
    """
    unknown = [name for name in lists if name not in ALL_LISTS]
    if unknown:
        raise ValueError(f"unknown list {unknown[0]!r}; use any of {', '.join(ALL_LISTS)}")
    wanted = set(lists)
    rates = rates or DiscrepancyRates()
    selection = selection or ListSelection()
    pop = _Population(households, details="bmn" in wanted)
    ev = _events(pop, rates, seed, as_of)
    chosen = _select(pop, selection, seed)
    built: dict[str, SourceList] = {}
    if "tpmap" in wanted:
        built["tpmap"] = _tpmap(
            _rows("tpmap", pop, ev, chosen["tpmap"], rates.tpmap, seed), pop, selection.poverty_line, seed, as_of
        )
    if "khm" in wanted:
        built["khm"] = _khm(_rows("khm", pop, ev, chosen["khm"], rates.khm, seed), pop)
    if "bottom20" in wanted:
        built["bottom20"] = _bottom20(
            _rows("bottom20", pop, ev, chosen["bottom20"], rates.bottom20, seed), pop, chosen["_measured"]
        )
    if "bmn" in wanted:
        survey = _bmn_survey(pop, ev, selection, rates, seed)
        rows = _rows(
            "bmn", pop, ev, None, rates.bmn, seed, person_mask=survey.mask, sort_keys=(survey.unit, survey.rank)
        )
        built["bmn"] = _bmn(rows, pop, ev, survey, selection.poverty_line, seed, as_of)
    return SourceLists(
        lists=built,
        seed=seed,
        rates=rates,
        selection=selection,
        people=len(pop),
        households=len(pop.hh_code),
        as_of=as_of,
    )


# ---------------------------------------------------------------------------- writing
# Lists whose CSV leaves empty cells empty (``a,,b``), as Excel's "CSV UTF-8" export does;
# the others keep polars' quoted ``""`` (their files must not change).
_BARE_EMPTY_CELLS = frozenset({"bmn"})


def _write_csv(frame: pl.DataFrame, path: Path, encoding: str, *, bare_empty: bool = False) -> None:
    if bare_empty:
        frame = frame.select(pl.all().replace("", None))
    if encoding == "cp874":
        # A Windows export: TIS-620 bytes (cp874 is its superset), CRLF line ends.
        text = frame.write_csv(None, line_terminator="\r\n")
        path.write_bytes(text.encode("cp874"))
    else:
        with path.open("wb") as fh:
            fh.write(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel shows Thai correctly
            frame.write_csv(fh)


_XLSX_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_XLSX_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_XLSX_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_XLSX_CT}.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_XLSX_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_XLSX_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_XLSX_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_XLSX_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_XLSX_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<styleSheet xmlns="{_XLSX_NS}">'
        '<fonts count="1"><font><sz val="11"/><name val="Tahoma"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_XLSX_CHUNK = 100_000


def _xml_escape(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> None:
    """A minimal XLSX (one sheet, every cell an inline string; empty cells omitted).

    openpyxl, even in write_only mode, needs ~16 s per 100,000 rows of 16 columns here; this
    builds the sheet XML with Polars string expressions in chunks and streams it into the
    zip (the 677,000-row khm list of a 1,000,000-person province takes a few seconds).
    Every value stays text, as in a hand-kept sheet: Excel would turn a
    13-digit ID into 1.46E+12 and cannot hold a BE date.
    """
    if frame.height + 1 > XLSX_MAX_ROWS:
        raise ValueError(f"{frame.height:,} rows do not fit in one XLSX sheet; write this list as CSV")
    letters = [_column_letter(i) for i in range(frame.width)]
    header = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t xml:space="preserve">{_escape(name)}</t></is></c>'
        for col, name in zip(letters, frame.columns, strict=True)
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_XLSX_NS}" xmlns:r="{_XLSX_REL}">'
        f'<sheets><sheet name="{_escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for part, text in (*_XLSX_STATIC.items(), ("xl/workbook.xml", workbook)):
            zf.writestr(_zip_entry(part), text)
        with zf.open(_zip_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as fh:
            fh.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<worksheet xmlns="{_XLSX_NS}"><sheetData><row r="1">{header}</row>'
                ).encode()
            )
            for start in range(0, frame.height, _XLSX_CHUNK):
                chunk = frame.slice(start, _XLSX_CHUNK)
                rownum = (pl.int_range(pl.len()) + (start + 2)).cast(pl.String)
                cells = [
                    pl.when(pl.col(name) == "")
                    .then(pl.lit(""))
                    .otherwise(
                        pl.concat_str(
                            [
                                pl.lit(f'<c r="{col}'),
                                rownum,
                                pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
                                _xml_escape(pl.col(name)),
                                pl.lit("</t></is></c>"),
                            ]
                        )
                    )
                    for col, name in zip(letters, frame.columns, strict=True)
                ]
                rows = chunk.select(
                    pl.concat_str([pl.lit('<row r="'), rownum, pl.lit('">'), *cells, pl.lit("</row>")]).alias("x")
                )
                fh.write("".join(rows.get_column("x").to_list()).encode())
            fh.write(b"</sheetData></worksheet>")


def _zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed timestamp, so the same lists give byte-identical files."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = 1  # type: ignore[attr-defined]  # "compress_level" from Python 3.13
    return info


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def write_lists(lists: SourceLists, out_dir: Path, *, formats: dict[str, str] | None = None) -> dict[str, Path]:
    """Write each list, its ``<name>.fields.json``, ``truth.csv`` and ``manifest.json``.

    ``formats`` maps a list name to ``csv-cp874``, ``csv-utf8`` or ``xlsx`` (defaults:
    tpmap csv-cp874, khm xlsx, bottom20 and bmn csv-utf8). Returns the written paths keyed
    ``<name>``, ``<name>.fields``, ``truth`` and ``manifest``.
    """
    chosen = {**DEFAULT_FORMATS, **(formats or {})}
    for name, fmt in chosen.items():
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} for {name}; use one of {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    manifest_lists: dict[str, Any] = {}
    truth_parts = []
    for name, source in lists.lists.items():
        fmt = chosen[name]
        path = out_dir / f"{name}.{_EXTENSIONS[fmt]}"
        if fmt == "xlsx":
            _write_xlsx(source.frame, path, name)
        else:
            _write_csv(
                source.frame, path, "cp874" if fmt == "csv-cp874" else "utf-8", bare_empty=name in _BARE_EMPTY_CELLS
            )
        fields_path = out_dir / f"{name}.fields.json"
        fields_path.write_text(json.dumps(source.fields, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written[name] = path
        written[f"{name}.fields"] = fields_path
        truth_parts.append(
            pl.DataFrame(
                {
                    "list": [name] * source.frame.height,
                    "record_id": source.frame.get_column(RECORD_ID),
                    TRUTH_COLUMN: source.frame.get_column(TRUTH_COLUMN),
                    "household_code": source.household_codes,
                    "discrepancies": source.discrepancies,
                }
            )
        )
        manifest_lists[name] = {
            "file": path.name,
            "format": fmt,
            "encoding": {"csv-cp874": "cp874 (TIS-620)", "csv-utf8": "utf-8-sig", "xlsx": "xlsx"}[fmt],
            "fields": fields_path.name,
            "rows": source.frame.height,
            "people": source.frame.get_column(TRUTH_COLUMN).n_unique(),
            "columns": source.frame.columns,
            "discrepancies": _tag_counts(source.discrepancies),
        }
    truth_path = out_dir / "truth.csv"
    pl.concat(truth_parts).write_csv(truth_path)
    written["truth"] = truth_path
    people = {name: set(s.frame.get_column(TRUTH_COLUMN).to_list()) for name, s in lists.lists.items()}
    names = list(people)
    overlaps = {f"{a}&{b}": len(people[a] & people[b]) for i, a in enumerate(names) for b in names[i + 1 :]}
    overlaps["all"] = len(set.intersection(*people.values())) if people else 0
    overlaps["any"] = len(set.union(*people.values())) if people else 0
    manifest = {
        "generator": "khm.engines.sources_synth",
        "seed": lists.seed,
        "as_of": lists.as_of.isoformat(),
        "population": {"people": lists.people, "households": lists.households},
        "rows_total": sum(s.frame.height for s in lists.lists.values()),
        "lists": manifest_lists,
        "people_overlap": overlaps,
        "truth": {"file": truth_path.name, "column": TRUTH_COLUMN, "note": "not present in real files"},
        "rates": _settings(lists.rates, lists.lists),
        "selection": _settings(lists.selection, lists.lists),
    }
    manifest_path = out_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written["manifest"] = manifest_path
    return written


def _settings(obj: Any, built: dict[str, SourceList]) -> dict[str, Any]:
    """A rates or selection dataclass as a dict; the bmn settings only when bmn was built,
    so that adding the bmn options left the default manifest byte for byte as it was."""
    out: dict[str, Any] = dataclasses.asdict(obj)
    if "bmn" not in built:
        out = {k: v for k, v in out.items() if k != "bmn" and not k.startswith("bmn_")}
    return out


def _tag_counts(tags: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for joined in tags:
        if joined:
            for tag in joined.split(";"):
                counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items()))


# -------------------------------------------------------------------------------- CLI
def _share(total: int, parts: int, index: int) -> int:
    return (index + 1) * total // parts - index * total // parts


def synthetic_villages(seed: int = 0) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(village_code, subdistrict_code) pairs and subdistrict populations of a synthetic Kalasin.

    1,584 villages under 135 subdistricts in 18 districts, exactly as
    ``benchmarks/bench_generator.py`` builds them (same seed, same codes and weights).
    """
    districts, subdistrict_count, village_count = 18, 135, 1_584
    rnd = random.Random(seed)
    subdistricts = [
        f"46{district:02d}{number:02d}"
        for district in range(1, districts + 1)
        for number in range(1, _share(subdistrict_count, districts, district - 1) + 1)
    ]
    villages: list[tuple[str, str]] = []
    for i, sub in enumerate(subdistricts):
        villages += [(f"{sub}{v:02d}", sub) for v in range(1, _share(village_count, subdistrict_count, i) + 1)]
    population = {sub: int(rnd.lognormvariate(8.8, 0.35)) for sub in subdistricts}
    return villages, population


def _read_villages(path: Path) -> list[tuple[str, str]]:
    import csv

    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [(row["code"].strip(), row["subdistrict_code"].strip()) for row in csv.DictReader(fh)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m khm.engines.sources_synth",
        description="Write TPMAP-like, KHM-like and bottom-20 %-like source lists (and, on request, a BMN"
        " survey extract) with ground truth.",
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--villages-csv", type=Path, help="CSV with columns code,subdistrict_code")
    parser.add_argument(
        "--lists",
        default=",".join(LIST_NAMES),
        metavar="LIST,LIST",
        help=f"lists to write (default {','.join(LIST_NAMES)}); any of {', '.join(ALL_LISTS)}",
    )
    parser.add_argument(
        "--format",
        action="append",
        default=[],
        metavar="LIST=FORMAT",
        help=f"e.g. khm=csv-utf8; formats: {', '.join(FORMATS)}",
    )
    args = parser.parse_args(argv)
    formats: dict[str, str] = {}
    for item in args.format:
        name, _, fmt = item.partition("=")
        if name not in ALL_LISTS or fmt not in FORMATS:
            parser.error(f"bad --format {item!r}")
        formats[name] = fmt
    names = [n.strip() for n in args.lists.split(",") if n.strip()]
    if not names or any(n not in ALL_LISTS for n in names):
        parser.error(f"bad --lists {args.lists!r}; use any of {', '.join(ALL_LISTS)}")

    population: dict[str, int] = {}
    if args.villages_csv:
        villages = _read_villages(args.villages_csv)
    else:
        villages, population = synthetic_villages()
    weights: list[VillageWeight] = village_weights_from_population(villages, population)

    start = time.perf_counter()
    households = list(generate(villages=weights, people=args.people, seed=args.seed))
    t_generate = time.perf_counter() - start
    start = time.perf_counter()
    lists = build_lists(households, seed=args.seed, lists=names)
    t_build = time.perf_counter() - start
    del households
    start = time.perf_counter()
    written = write_lists(lists, args.out, formats=formats)
    t_write = time.perf_counter() - start

    # The command's report goes to standard output (a CLI, not library logging).
    out = [f"people: {lists.people:,}  households: {lists.households:,}  seed: {args.seed}"]
    for name, source in lists.lists.items():
        unique = source.frame.get_column(TRUTH_COLUMN).n_unique()
        out.append(f"{name:9s} {source.frame.height:>10,} rows  {unique:>10,} people  -> {written[name]}")
    total = sum(s.frame.height for s in lists.lists.values())
    out.append(f"total     {total:>10,} rows")
    out.append(
        f"seconds: generate {t_generate:.1f}  build {t_build:.1f}  write {t_write:.1f}"
        f"  total {t_generate + t_build + t_write:.1f}"
    )
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
