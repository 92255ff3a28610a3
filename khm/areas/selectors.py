"""Read-side queries on the area tree: search, subtrees, breadcrumbs, map layers.

Areas are public reference data (no personal data), so nothing here applies a user's
area scope; callers that show protected records under an area do that themselves.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length

from khm.areas.models import Area, AreaLevel, Boundary, code_range

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THAI_CHAR = re.compile(r"[\u0e00-\u0e7f]")

# Words people type in front of a name, with the level they point to (None: no hint).
# Longest first, so "หมู่บ้าน" is tried before "หมู่" and "กิ่งอำเภอ" before "อำเภอ".
_TH_PREFIXES: tuple[tuple[str, int | None], ...] = (
    ("จังหวัด", AreaLevel.PROVINCE),
    ("จ.", AreaLevel.PROVINCE),
    ("กิ่งอำเภอ", AreaLevel.DISTRICT),
    ("อำเภอ", AreaLevel.DISTRICT),
    ("อ.", AreaLevel.DISTRICT),
    ("ตำบล", AreaLevel.SUBDISTRICT),
    ("ต.", AreaLevel.SUBDISTRICT),
    ("แขวง", AreaLevel.SUBDISTRICT),
    ("หมู่บ้าน", AreaLevel.VILLAGE),
    ("บ.", AreaLevel.VILLAGE),
)
# Words that are both a prefix people type and the first word of many official names:
# every village is "บ้าน…" / "Ban …", Bangkok districts are "เขต…" in Thai. They are tried
# with and without, rather than stripped, so "บ้านแพง" still finds the district Ban Phaeng.
_TH_OPTIONAL = ("บ้าน", "เขต")
_EN_OPTIONAL = ("ban ",)
_EN_PREFIXES: tuple[tuple[str, int | None], ...] = (
    ("changwat ", AreaLevel.PROVINCE),
    ("province of ", AreaLevel.PROVINCE),
    ("king amphoe ", AreaLevel.DISTRICT),
    ("amphoe ", AreaLevel.DISTRICT),
    ("amphur ", AreaLevel.DISTRICT),
    ("khet ", AreaLevel.DISTRICT),
    ("tambon ", AreaLevel.SUBDISTRICT),
    ("khwaeng ", AreaLevel.SUBDISTRICT),
    ("muban ", AreaLevel.VILLAGE),
)
_EN_SUFFIXES: tuple[tuple[str, int | None], ...] = (
    (" province", AreaLevel.PROVINCE),
    (" subdistrict", AreaLevel.SUBDISTRICT),
    (" sub-district", AreaLevel.SUBDISTRICT),
    (" district", AreaLevel.DISTRICT),
    (" village", AreaLevel.VILLAGE),
)
# "Mueang"/"เมือง" is deliberately not stripped: it is part of the official name of every
# capital district (เมืองกาฬสินธุ์, Mueang Kalasin); stripping it would make "Mueang Kalasin"
# rank the province first. Typing "เมือง" alone lists the capital districts as prefix hits.
_TH_VILLAGE_NO = re.compile(r"(?:หมู่ที่|หมู่|ม\.)\s*(\d{1,2})(?!\d)")
_EN_VILLAGE_NO = re.compile(r"\b(?:moo|mu|m\.|village no\.?)\s*(\d{1,2})\b")


@dataclass(frozen=True)
class ParsedQuery:
    """A search query split into the name to look for and the hints around it."""

    name: str
    thai: bool
    level_hint: int | None = None
    village_no: int | None = None

    @property
    def bare(self) -> str:
        """The name without an optional first word ("บ้านโนน" → "โนน")."""
        for word in _TH_OPTIONAL if self.thai else _EN_OPTIONAL:
            if self.name.startswith(word) and len(self.name) > len(word):
                return self.name[len(word) :]
        return self.name

    def variants(self) -> tuple[str, ...]:
        """The name as typed, without an optional first word, and with each one added."""
        optional = _TH_OPTIONAL if self.thai else _EN_OPTIONAL
        bare = self.bare
        return tuple(dict.fromkeys([self.name, bare, *(w + bare for w in optional)]))


def parse_query(query: str) -> ParsedQuery:
    """Normalise what a user typed: digits, spaces, usual prefixes and village numbers."""
    text = unicodedata.normalize("NFC", query).translate(_THAI_DIGITS).strip()
    text = re.sub(r"\s+", " ", text)
    level_hint: int | None = None
    village_no: int | None = None
    if _THAI_CHAR.search(text):
        match = _TH_VILLAGE_NO.search(text)
        if match:
            village_no = int(match.group(1))
            level_hint = AreaLevel.VILLAGE
            text = (text[: match.start()] + " " + text[match.end() :]).strip()
        stripped = True
        while stripped:  # "จ. กาฬสินธุ์", "อำเภอ อ.เมือง" …
            stripped = False
            for prefix, level in _TH_PREFIXES:
                if text.startswith(prefix):
                    text = text[len(prefix) :].strip()
                    level_hint = level_hint or level
                    stripped = True
        # Thai names carry no spaces ("เมืองกาฬสินธุ์"), but people type "เมือง กาฬสินธุ์".
        return ParsedQuery(text.replace(" ", ""), True, level_hint, village_no)

    text = text.lower().strip(" ,")
    match = _EN_VILLAGE_NO.search(text)
    if match:
        village_no = int(match.group(1))
        level_hint = AreaLevel.VILLAGE
        text = (text[: match.start()] + " " + text[match.end() :]).strip(" ,")
    for prefix, level in _EN_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
            level_hint = level_hint or level
            break
    for suffix, level in _EN_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
            level_hint = level_hint or level
            break
    return ParsedQuery(re.sub(r"\s+", " ", text), False, level_hint, village_no)


def _is_code(code: str) -> bool:
    return code.isdigit() and len(code) in (2, 4, 6, 8)


def area_subtree_range(code: str) -> tuple[str, str]:
    """Bounds on ``Area.path`` of the area ``code`` and everything below it."""
    return code_range(code)


def subtree(code: str, *, include_self: bool = True, active_only: bool = False) -> QuerySet[Area]:
    """The area ``code`` and its descendants, as one indexed range query on ``path``."""
    qs = Area.objects.filter(path__range=area_subtree_range(code))
    if not include_self:
        qs = qs.exclude(code=code)
    if active_only:
        qs = qs.filter(active=True)
    return qs


def search_areas(
    query: str,
    *,
    limit: int = 20,
    levels: set[int] | None = None,
    within: str | None = None,
) -> list[Area]:
    """Areas whose Thai or English name matches ``query``, best first.

    Order: areas in force first, then the level the query's prefix points to ("ต.ไผ่" →
    subdistricts), then the name exactly as typed, exact with or without an optional first
    word ("บ้าน", "เขต", "Ban"), names that start with the query, names that contain it; then
    higher levels, shorter names, code. English is case-insensitive. A query of digits
    is a code prefix. ``within`` restricts to an area code and everything below it.
    """
    parsed = parse_query(query)
    if not parsed.name and parsed.village_no is None:
        return []
    # The parent comes along: every caller shows or returns it next to the name.
    qs = Area.objects.select_related("parent")
    if levels:
        qs = qs.filter(level__in=levels)
    if within:
        if not _is_code(within):
            return []
        qs = qs.filter(path__range=area_subtree_range(within))

    if parsed.name.isdigit():
        if len(parsed.name) > 8:
            return []
        qs = qs.filter(path__range=code_range(parsed.name)).filter(code__startswith=parsed.name)
        return list(qs.order_by("-active", "level", "code")[:limit])

    if parsed.village_no is not None:
        qs = qs.filter(level=AreaLevel.VILLAGE, village_no=parsed.village_no)

    rank: Any = Value(3)
    name_field = "name_th" if parsed.thai else "name_en"
    if parsed.name:
        lookup = "" if parsed.thai else "i"
        typed = Q(**{f"{name_field}__{lookup}exact": parsed.name})
        exact = Q()
        prefix = Q()
        for v in parsed.variants():
            exact |= Q(**{f"{name_field}__{lookup}exact": v})
            prefix |= Q(**{f"{name_field}__{lookup}startswith": v})
        qs = qs.filter(Q(**{f"{name_field}__{lookup}contains": parsed.bare}))
        # The name exactly as typed beats a variant: "โนนสำราญ" lists the subdistricts
        # before the villages "บ้านโนนสำราญ", and typing "บ้านโนนสำราญ" reverses that.
        rank = Case(
            When(typed, then=Value(0)),
            When(exact, then=Value(1)),
            When(prefix, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    hint: Any = Value(0)
    if parsed.level_hint is not None:
        hint = Case(
            When(level=parsed.level_hint, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    qs = qs.annotate(_hint=hint, _rank=rank, _length=Length(name_field))
    return list(qs.order_by("-active", "_hint", "_rank", "level", "_length", "code")[:limit])


def area_chain(area: Area) -> list[Area]:
    """Province → … → ``area``, for breadcrumbs. One query: ancestors are code prefixes."""
    prefixes = [area.code[:n] for n in (2, 4, 6) if n < len(area.code)]
    ancestors = list(Area.objects.filter(code__in=prefixes).order_by("level"))
    return [*ancestors, area]


def boundaries_geojson(*, parent_code: str, level: int) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the ``level`` areas in force under ``parent_code``.

    Properties are ``code``, ``name_th`` and ``name_en``; coordinates are WGS84 lon/lat.
    Areas without a stored polygon are left out; a ``parent_code`` that is not an area code
    (it may come from a URL) gives an empty collection.
    """
    if not _is_code(parent_code):
        return {"type": "FeatureCollection", "features": []}
    boundaries = (
        Boundary.objects.filter(
            area__level=level,
            area__active=True,
            area__path__range=area_subtree_range(parent_code),
        )
        .select_related("area")
        .order_by("area__code")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": b.area.code,
                "properties": {
                    "code": b.area.code,
                    "name_th": b.area.name_th,
                    "name_en": b.area.name_en,
                },
                "geometry": b.geometry,
            }
            for b in boundaries
        ],
    }
