"""Open data: the public figures of an area, with small cells suppressed.

Anyone may read these figures without logging in (the page ``/open/``, its CSV and the API
``/api/v1/open/…``), so they are aggregates of **whole areas only** — a province, district or
subdistrict — read from the pre-aggregated ``Fact`` rows of those areas (``selectors.View``
with ``whole=True``), never from the registry and never from a user's partial view.
**Villages are not published**: a village has a few dozen households, too few for any count
about it to be safe, and its neighbours' figures would give it away by subtraction from the
subdistrict.

Published figures (``FIGURES``; round-less figures are the latest state):

- counts of households: ``households`` (registry), ``listed_households`` (on a list of the
  round), ``assessed``, ``level1`` … ``level4`` (the four poverty levels), ``target_poor``,
  ``target_helped`` (target poor with any recorded help), ``graduated``, ``linked`` (linked to
  a community enterprise); and ``people`` (registry members);
- ratios: ``mpi_H`` (headcount ratio = MPI poor / households with an MPI score), ``mpi_A``
  (intensity = mean score of the MPI poor), ``mpi_M0`` (adjusted headcount = H × A), all from
  the counts and sums, and ``share_helped`` (target_helped / target_poor);
- money: ``help_value_target``, baht of help given to the target poor households.

Suppression rules (K = ``settings.KHM_OPEN_DATA_MIN_CELL``, 10 unless set):

1. **Small cells.** A count from 1 to K−1 is not published: the page and CSV show "<K",
   the API gives ``null`` and lists the key in ``suppressed``. A zero is published: it
   describes nobody.
2. **Complementary suppression within a row.** The four level counts add up to ``assessed``.
   When exactly one of them is suppressed it could be recovered as assessed minus the other
   three, so the smallest of the others is suppressed too.
3. **Complementary suppression across areas.** An area's count is the sum of its child
   areas' counts. When exactly one child of an area is suppressed for a count the area
   publishes, the child with the next smallest value is suppressed too, so the hidden value
   cannot be found as the area's figure minus its siblings'. Rules 2 and 3 are repeated
   until nothing changes, over the whole province at once, so an area shows the same cells
   on every page that lists it (its own page and its parent's).
4. **Ratios** are suppressed when a count they are computed from is below K (H, A and M0
   when the MPI poor or the households with an MPI score number 1 to K−1; the share helped
   when the target poor or those helped do) or is itself suppressed. A ratio with a base of
   0 is not a number (``null``, not listed as suppressed).
5. **Money** is published only when at least K households received it (or none did): the
   value of help follows ``target_helped`` and is suppressed whenever that count is.

Figures are rounded (ratios to 3 decimals, baht to whole baht); no household or person,
code or name is read here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from khm.areas.models import code_range
from khm.insights import selectors
from khm.insights.models import Fact

DEFAULT_MIN_CELL = 10
DEFAULT_PROVINCE = "46"  # Kalasin
PUBLISHED_LENGTHS = (2, 4, 6)  # province, district, subdistrict — never villages
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = "KHM open data"

Kind = Literal["count", "ratio", "share", "baht"]


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any  # lazy translation
    kind: Kind


LEVELS = ("level1", "level2", "level3", "level4")
COUNTS = (
    "households", "people", "listed_households", "assessed", *LEVELS, "target_poor", "target_helped",
    "graduated", "linked",
)  # fmt: skip
# A ratio: numerator and denominator metrics, and the counts whose smallness suppresses it.
RATIOS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "mpi_H": ("mpi_q", "mpi_n", ("mpi_q", "mpi_n")),
    "mpi_A": ("mpi_sum", "mpi_q", ("mpi_q", "mpi_n")),
    "mpi_M0": ("mpi_sum", "mpi_n", ("mpi_q", "mpi_n")),
    "share_helped": ("target_helped", "target_poor", ("target_helped", "target_poor")),
}
MONEY: dict[str, str] = {"help_value_target": "target_helped"}  # value → households that received it
# The metrics read: the published counts and what the ratios and money are made of.
METRICS = sorted({*COUNTS, *MONEY, *(m for num, den, _b in RATIOS.values() for m in (num, den))})

FIGURES: tuple[Figure, ...] = (
    Figure("households", _("Households in the registry"), "count"),
    Figure("people", _("People in the registry"), "count"),
    Figure("listed_households", _("Households on the lists of the round"), "count"),
    Figure("assessed", _("Households assessed"), "count"),
    Figure("level1", _("Level 1: living in hardship"), "count"),
    Figure("level2", _("Level 2: living with difficulty"), "count"),
    Figure("level3", _("Level 3: getting by"), "count"),
    Figure("level4", _("Level 4: living well"), "count"),
    Figure("target_poor", _("Target poor households"), "count"),
    Figure("mpi_H", _("MPI headcount ratio (H)"), "ratio"),
    Figure("mpi_A", _("MPI intensity (A)"), "ratio"),
    Figure("mpi_M0", _("MPI adjusted headcount (M0)"), "ratio"),
    Figure("target_helped", _("Target poor households helped"), "count"),
    Figure("share_helped", _("Share of the target poor helped"), "share"),
    Figure("help_value_target", _("Value of help to the target poor (baht)"), "baht"),
    Figure("graduated", _("Households graduated"), "count"),
    Figure("linked", _("Households linked to community enterprises"), "count"),
)
KEYS = tuple(f.key for f in FIGURES)

VILLAGES_NOT_PUBLISHED = _("Villages are not published: too few households for safe figures.")
NOT_PUBLISHED = _("No published figures for this area.")
UNKNOWN_ROUND = _("No published figures for this round.")


def min_cell() -> int:
    """K: the smallest count that is published."""
    return int(getattr(settings, "KHM_OPEN_DATA_MIN_CELL", DEFAULT_MIN_CELL))


def check_code(code: str) -> None:
    """404 unless ``code`` is a province, district or subdistrict code."""
    if not code.isdigit():
        raise Http404(NOT_PUBLISHED)
    if len(code) == 8:
        raise Http404(VILLAGES_NOT_PUBLISHED)
    if len(code) not in PUBLISHED_LENGTHS:
        raise Http404(NOT_PUBLISHED)


# --------------------------------------------------------------------------- suppression


def _small(value: float, k: int) -> bool:
    return 0 < value < k


def suppress(
    raw: dict[str, dict[str, float]], k: int, parent_of: dict[str, str | None] | None = None
) -> dict[str, set[str]]:
    """The suppressed keys of each area of ``raw`` (area code → metric → value).

    ``parent_of`` links the areas for rule 3 (by default: the code without its last two
    digits, when that area is in ``raw``).
    """
    if parent_of is None:
        parent_of = {c: (c[:-2] if c[:-2] in raw else None) for c in raw}
    kids: dict[str, list[str]] = defaultdict(list)
    for c, p in parent_of.items():
        if p is not None:
            kids[p].append(c)
    v = lambda c, key: raw[c].get(key, 0.0)  # noqa: E731
    hidden: dict[str, set[str]] = {c: {key for key in COUNTS if _small(v(c, key), k)} for c in raw}

    def complement(cells: list[tuple[str, str]]) -> bool:
        """Among these cells, hide the smallest shown one if exactly one is hidden."""
        shown = [(v(c, key), c, key) for c, key in cells if key not in hidden[c]]
        if len(cells) - len(shown) != 1 or not shown:
            return False
        _val, c, key = min(shown)
        hidden[c].add(key)
        return True

    changed = True
    while changed:
        changed = False
        for c in sorted(raw):
            changed |= complement([(c, key) for key in LEVELS])
        for p, children in sorted(kids.items()):
            for key in COUNTS:
                if key not in hidden[p]:
                    changed |= complement([(c, key) for c in sorted(children)])
    for c in raw:
        for ratio, (_num, _den, bases) in RATIOS.items():
            if any(_small(v(c, b), k) or b in hidden[c] for b in bases):
                hidden[c].add(ratio)
        for money, base in MONEY.items():
            if _small(v(c, base), k) or base in hidden[c]:
                hidden[c].add(money)
    return hidden


def publish(f: dict[str, float], hidden: set[str]) -> dict[str, float | int | None]:
    """The published value of every figure (None when suppressed or not a number)."""
    out: dict[str, float | int | None] = {}
    g = lambda key: f.get(key, 0.0)  # noqa: E731
    for key in KEYS:
        if key in hidden:
            out[key] = None
        elif key in RATIOS:
            num, den, _bases = RATIOS[key]
            out[key] = round(g(num) / g(den), 3) if g(den) else None
        elif key in MONEY:
            out[key] = round(g(key))
        else:
            out[key] = round(g(key))
    return out


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AreaFigures:
    code: str
    level: int
    name_th: str
    name_en: str
    values: dict[str, float | int | None]
    suppressed: tuple[str, ...]  # in the order of FIGURES


@dataclass(frozen=True)
class OpenTable:
    area: AreaFigures
    round: str
    children: list[AreaFigures]
    min_cell: int
    parents: list[tuple[str, str]]  # (code, Thai name) from the province down


def _has_facts(code: str) -> bool:
    return Fact.objects.filter(area_code=code).exists()


def rounds(code: str) -> list[str]:
    """The rounds with published figures for the area (oldest first)."""
    check_code(code)
    return selectors.rounds(selectors.View(code, whole=True))


def all_rounds() -> list[str]:
    """The rounds with figures for any published area."""
    rounds = Fact.objects.filter(level__in=(1, 2, 3)).exclude(round="").values_list("round", flat=True)
    return sorted(set(rounds.order_by().distinct()))


def default_area() -> str | None:
    """Kalasin when it has figures, else the first province that has."""
    if _has_facts(DEFAULT_PROVINCE):
        return DEFAULT_PROVINCE
    return Fact.objects.filter(level=1).order_by("area_code").values_list("area_code", flat=True).first()


def choices(parent: str | None) -> list[tuple[str, str]]:
    """(code, name) of the published areas one level below ``parent`` (provinces for None)."""
    if parent is None:
        codes = set(Fact.objects.filter(level=1).values_list("area_code", flat=True).distinct())
    else:
        check_code(parent)
        if len(parent) >= 6:
            return []
        low, high = code_range(parent)
        level = selectors.LEVEL_OF_LENGTH[len(parent) + 2]
        codes = set(
            Fact.objects.filter(level=level, area_code__gte=low, area_code__lte=high)
            .values_list("area_code", flat=True)
            .distinct()
        )
    names = selectors.area_names(sorted(codes))
    return [(c, names[c].name_th if c in names else c) for c in sorted(codes)]


def _tree(province: str, round: str) -> dict[str, dict[str, float]]:
    """Sums of the whole-area rows of the province, its districts and its subdistricts."""
    # Codes of every width that start with the province: from the province's own code (the
    # smallest such string) to the last village code under it.
    high = code_range(province)[1]
    rows = Fact.objects.filter(
        level__in=(1, 2, 3),
        area_code__gte=province,
        area_code__lte=high,
        dim="",
        round__in=["", round],
        metric__in=METRICS,
    ).values_list("area_code", "metric", "value")
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for code, metric, value in rows:
        out[code][metric] = out[code].get(metric, 0.0) + float(value)
    return dict(out)


def table(code: str, round: str | None = None) -> OpenTable:
    """The published figures of a province, district or subdistrict and of its child areas
    (none for a subdistrict: its children are villages). 404 for villages, unknown codes,
    areas without figures and rounds without figures."""
    check_code(code)
    if not _has_facts(code):
        raise Http404(NOT_PUBLISHED)
    known = rounds(code)
    if round is None:
        round = known[-1] if known else ""
    elif round not in known:
        raise Http404(UNKNOWN_ROUND)
    k = min_cell()
    # Suppression is decided over the whole province so each area's cells are the same on
    # every page that shows it (rule 3).
    raw = _tree(code[:2], round)
    hidden = suppress(raw, k)
    child_codes = sorted(c for c in raw if len(c) == len(code) + 2 and c.startswith(code)) if len(code) < 6 else []
    names = selectors.area_names([code, *child_codes, code[:2], code[:4]])

    def row(c: str) -> AreaFigures:
        a = names.get(c)
        return AreaFigures(
            code=c,
            level=selectors.LEVEL_OF_LENGTH[len(c)],
            name_th=a.name_th if a else c,
            name_en=(a.name_en if a else "") or "",
            values=publish(raw[c], hidden[c]),
            suppressed=tuple(key for key in KEYS if key in hidden[c]),
        )

    parents = [(p, names[p].name_th if p in names else p) for p in (code[:2], code[:4]) if len(p) < len(code)]
    return OpenTable(area=row(code), round=round, children=[row(c) for c in child_codes], min_cell=k, parents=parents)


def display(value: float | int | None, key: str, suppressed: tuple[str, ...], k: int) -> str:
    """A cell as the page and the CSV show it: "<K" when suppressed, "" when not a number."""
    if key in suppressed:
        return f"<{k}"
    if value is None:
        return ""
    return str(value)
