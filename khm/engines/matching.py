"""Livelihood matching and income impact for the "3 in 1" model — pure Python, no Django.

Two jobs, both on plain values so that a page, a command, a benchmark or a notebook gets the
same answer:

**Matching.** An enterprise states what it needs (:class:`Need`: labour, raw material or
skills, at one value-chain stage). :func:`fit` says whether one household (:class:`Household`:
its five capitals on the 1–4 scale, its poverty level and its members' age, occupation and
education) fits one need, and *why*, in Thai and English: every rule it passed is a
:class:`Reason`. :func:`suggest_households` ranks the households of an area for a need;
:func:`suggest_enterprises` ranks the needs of nearby enterprises for one household.

The rules (:data:`RULES`) are data: each (kind, stage) names the capitals and their minimum;
availability depends on the kind (working-age members with no job or casual work for
labour; a member with at least lower-secondary education, or a trader, for skills; a
farming member for raw material); and the household must be in the enterprise's district.
The score adds the capital margins (each capped at 1), the available people (capped at 3),
closeness (same village 3, subdistrict 2, district 1) and a priority for the poorest
(level 1: +1, level 2: +0.5), so the poorest fitting households near the enterprise come
first.

**Impact.** Income is recorded per household, source and period of whole months
(:class:`Period`, total baht of all sources). :func:`change_at` compares the monthly income
of the last period that ended before the link started (baseline) with the last period that
started on or after it (follow-up). :func:`summarise` gives the figures of a group (median
baseline, follow-up and change in baht per month, median change in percent, the share with
more than 20 % gain); :func:`compare` builds the comparison group — households never
linked, in the same subdistrict (else district) with the same assessment level at the
linked household's start date and income recorded for the same two periods — and its own
figures. See docs/livelihoods.md for every definition and its caveats.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CAPITALS = ("human", "physical", "financial", "natural", "social")
STAGES = ("production", "processing", "marketing")
NEED_KINDS = ("labour", "raw_material", "skills")

WORKING_AGE = (15, 59)
NO_JOB = frozenset({"unemployed", ""})
CASUAL = frozenset({"general_labourer", "farm_labourer"})
FARMING = frozenset({"farmer", "farm_labourer"})
SCHOOLED = frozenset({"lower_secondary", "upper_secondary", "vocational", "bachelor", "higher"})
GAIN_THRESHOLD_PCT = 20.0  # "more than 20 %" (the research's headline result)

CAPITAL_TH = {"human": "ทุนมนุษย์", "physical": "ทุนกายภาพ", "financial": "ทุนการเงิน", "natural": "ทุนธรรมชาติ",
              "social": "ทุนทางสังคม"}  # fmt: skip
STAGE_TH = {"production": "งานผลิต", "processing": "งานแปรรูป", "marketing": "งานตลาดและการขาย"}
STAGE_EN = {"production": "production work", "processing": "processing work", "marketing": "marketing and sales"}
KIND_TH = {"labour": "แรงงาน", "raw_material": "วัตถุดิบ", "skills": "ทักษะ"}


@dataclass(frozen=True)
class Rule:
    capital: str
    minimum: float


# (kind, stage) → the capitals a household needs, with their minimum on the 1–4 scale.
RULES: dict[tuple[str, str], tuple[Rule, ...]] = {
    ("labour", "production"): (Rule("human", 2.0),),
    ("labour", "processing"): (Rule("human", 2.5),),
    ("labour", "marketing"): (Rule("human", 3.0), Rule("social", 2.5)),
    ("skills", "production"): (Rule("human", 3.0),),
    ("skills", "processing"): (Rule("human", 3.0),),
    ("skills", "marketing"): (Rule("human", 3.0), Rule("social", 2.5)),
    ("raw_material", "production"): (Rule("natural", 2.5), Rule("physical", 2.0)),
    ("raw_material", "processing"): (Rule("natural", 2.5), Rule("physical", 2.0)),
    ("raw_material", "marketing"): (Rule("natural", 2.5), Rule("physical", 2.0)),
}
CLOSENESS = {8: 3.0, 6: 2.0, 4: 1.0}  # same village / subdistrict / district
PRIORITY = {1: 1.0, 2: 0.5}
MAX_PEOPLE_POINTS = 3


@dataclass(frozen=True)
class Reason:
    code: str
    th: str
    en: str


@dataclass(frozen=True)
class Member:
    age: int | None
    occupation: str = ""
    education: str = ""


@dataclass(frozen=True)
class Household:
    key: str
    area_code: str  # 8-digit village code
    capitals: Mapping[str, float | None]
    level: int | None = None
    members: Sequence[Member] = ()


@dataclass(frozen=True)
class Need:
    key: str
    kind: str  # NEED_KINDS
    stage: str  # STAGES
    area_code: str  # the enterprise's village
    quantity: int = 1
    label: str = ""  # the enterprise's name, for the reverse direction


@dataclass(frozen=True)
class Suggestion:
    household: str
    need: str
    score: float
    reasons: tuple[Reason, ...]
    people: int  # members who could take the work / supply


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def closeness(a: str, b: str) -> int:
    """Length of the shared area prefix that counts: 8 village, 6 subdistrict, 4 district, 0."""
    for n in (8, 6, 4):
        if a[:n] == b[:n]:
            return n
    return 0


def _working_age(m: Member) -> bool:
    return m.age is not None and WORKING_AGE[0] <= m.age <= WORKING_AGE[1]


def available(kind: str, stage: str, members: Iterable[Member]) -> tuple[int, Reason | None]:
    """How many members could take this need, and the words for it."""
    ms = list(members)
    if kind == "labour":
        idle = [m for m in ms if _working_age(m) and m.occupation in NO_JOB]
        casual = [m for m in ms if _working_age(m) and m.occupation in CASUAL]
        n = len(idle) + len(casual)
        if not n:
            return 0, None
        parts_th, parts_en = [], []
        if idle:
            parts_th.append(f"สมาชิกวัยทำงานที่ไม่มีงานทำ {len(idle)} คน")
            parts_en.append(f"{len(idle)} member{'s' if len(idle) > 1 else ''} of working age with no job")
        if casual:
            parts_th.append(f"รับจ้างทั่วไปหรือรับจ้างภาคเกษตร {len(casual)} คน")
            parts_en.append(f"{len(casual)} casual labourer{'s' if len(casual) > 1 else ''}")
        return n, Reason("people", " และ ".join(parts_th), " and ".join(parts_en))
    if kind == "skills":
        skilled = [
            m
            for m in ms
            if _working_age(m) and (m.education in SCHOOLED or (stage == "marketing" and m.occupation == "trader"))
        ]
        if not skilled:
            return 0, None
        n = len(skilled)
        return n, Reason(
            "people",
            f"สมาชิกวัยทำงานที่จบมัธยมต้นขึ้นไปหรือค้าขาย {n} คน",
            f"{n} member{'s' if n > 1 else ''} of working age with lower-secondary schooling or more, or trading",
        )
    if kind == "raw_material":
        farmers = [m for m in ms if m.occupation in FARMING]
        if not farmers:
            return 0, None
        n = len(farmers)
        return n, Reason("people", f"สมาชิกทำการเกษตร {n} คน", f"{n} member{'s' if n > 1 else ''} farming")
    raise ValueError(f"unknown need kind: {kind}")


def fit(household: Household, need: Need) -> Suggestion | None:
    """The suggestion when ``household`` fits ``need`` (every rule passed), else None."""
    near = closeness(household.area_code, need.area_code)
    if near == 0:
        return None
    rules = RULES.get((need.kind, need.stage))
    if rules is None:
        raise ValueError(f"no rule for {need.kind}/{need.stage}")
    reasons: list[Reason] = []
    score = 0.0
    for rule in rules:
        value = household.capitals.get(rule.capital)
        if value is None or value < rule.minimum:
            return None
        score += min(value - rule.minimum, 1.0)
        reasons.append(
            Reason(
                rule.capital,
                f"{CAPITAL_TH[rule.capital]} {_fmt(value)} ≥ {_fmt(rule.minimum)} ที่ต้องการสำหรับ{STAGE_TH[need.stage]}",
                f"{rule.capital} capital {_fmt(value)} ≥ {_fmt(rule.minimum)} needed for {STAGE_EN[need.stage]}",
            )
        )
    people, why = available(need.kind, need.stage, household.members)
    if not people or why is None:
        return None
    score += min(people, MAX_PEOPLE_POINTS)
    reasons.append(why)
    score += CLOSENESS[near]
    reasons.append(
        {
            8: Reason("area", "อยู่หมู่บ้านเดียวกัน", "in the same village"),
            6: Reason("area", "อยู่ตำบลเดียวกัน", "in the same subdistrict"),
            4: Reason("area", "อยู่อำเภอเดียวกัน", "in the same district"),
        }[near]
    )
    if household.level in PRIORITY:
        score += PRIORITY[household.level]
        reasons.append(
            Reason(
                "level",
                f"ระดับความยากจน {household.level} (กลุ่มที่ควรได้รับก่อน)",
                f"poverty level {household.level} (the poorest come first)",
            )
        )
    return Suggestion(household.key, need.key, round(score, 3), tuple(reasons), people)


def _rank(found: Iterable[Suggestion]) -> list[Suggestion]:
    return sorted(found, key=lambda s: (-s.score, s.household, s.need))


def suggest_households(need: Need, households: Iterable[Household], limit: int = 50) -> list[Suggestion]:
    """Households that fit ``need``, best first (ties by key, so the order is reproducible)."""
    return _rank(s for h in households if (s := fit(h, need)) is not None)[:limit]


def suggest_enterprises(household: Household, needs: Iterable[Need], limit: int = 20) -> list[Suggestion]:
    """Needs of nearby enterprises that ``household`` fits, best first."""
    return _rank(s for n in needs if (s := fit(household, n)) is not None)[:limit]


# --------------------------------------------------------------------------- impact


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day of a month
    end: dt.date  # last day of a month
    amount: float  # total baht of the period, all sources

    @property
    def months(self) -> int:
        return months_between(self.start, self.end)

    @property
    def monthly(self) -> float:
        return self.amount / self.months


def months_between(start: dt.date, end: dt.date) -> int:
    """Calendar months from ``start``'s month to ``end``'s month, both included."""
    n = (end.year - start.year) * 12 + end.month - start.month + 1
    if n < 1:
        raise ValueError("the period ends before it starts")
    return n


@dataclass(frozen=True)
class Change:
    key: str
    baseline: Period
    followup: Period
    before: float  # baht per month
    after: float
    change: float  # after − before, baht per month
    pct: float | None  # change / before × 100; None when the baseline is 0

    @property
    def gained_over_threshold(self) -> bool:
        return self.pct is not None and self.pct > GAIN_THRESHOLD_PCT


def change_at(key: str, periods: Iterable[Period], cut: dt.date) -> Change | None:
    """Baseline: the latest period that ended before ``cut`` (the link's start). Follow-up:
    the latest period that started on or after it. None when either is missing."""
    ps = list(periods)
    before = [p for p in ps if p.end < cut]
    after = [p for p in ps if p.start >= cut]
    if not before or not after:
        return None
    b = max(before, key=lambda p: (p.end, p.start))
    f = max(after, key=lambda p: (p.end, p.start))
    return _change(key, b, f)


def _change(key: str, b: Period, f: Period) -> Change:
    diff = f.monthly - b.monthly
    pct = diff / b.monthly * 100 if b.monthly > 0 else None
    return Change(key, b, f, b.monthly, f.monthly, diff, pct)


@dataclass(frozen=True)
class Figures:
    n: int  # households with a baseline and a follow-up
    n_pct: int  # of them, with a baseline above 0 (the base of every percentage)
    before_median: float | None
    after_median: float | None
    change_median: float | None  # baht per month
    pct_median: float | None
    gained: int  # change > 0
    over_threshold: int  # pct > 20
    share_over_threshold: float | None  # over_threshold / n_pct


def _median(xs: Sequence[float]) -> float | None:
    return float(statistics.median(xs)) if xs else None


def summarise(changes: Iterable[Change]) -> Figures:
    cs = list(changes)
    pcts = [c.pct for c in cs if c.pct is not None]
    over = sum(1 for c in cs if c.gained_over_threshold)
    return Figures(
        n=len(cs),
        n_pct=len(pcts),
        before_median=_median([c.before for c in cs]),
        after_median=_median([c.after for c in cs]),
        change_median=_median([c.change for c in cs]),
        pct_median=_median(pcts),
        gained=sum(1 for c in cs if c.change > 0),
        over_threshold=over,
        share_over_threshold=over / len(pcts) if pcts else None,
    )


@dataclass(frozen=True)
class Unit:
    """A household for the impact: its village, its assessment levels by date, its income
    periods, and (linked households) the day its link started."""

    key: str
    area_code: str
    levels: Sequence[tuple[dt.date, int]] = ()
    periods: Sequence[Period] = ()
    cut: dt.date | None = None


def level_at(levels: Iterable[tuple[dt.date, int]], on: dt.date) -> int | None:
    """The level of the latest assessment on or before ``on``; else the earliest one."""
    ls = sorted(levels)
    if not ls:
        return None
    before = [lv for d, lv in ls if d <= on]
    return before[-1] if before else ls[0][1]


@dataclass
class Comparison:
    linked: Figures
    comparison: Figures
    linked_changes: list[Change]
    comparison_changes: list[Change]
    matched: int  # linked households with at least one comparison household
    matched_in_district: int  # of them, matched only at district level
    pairs: dict[str, list[str]] = field(default_factory=dict)  # linked key → comparison keys

    @property
    def pct_difference(self) -> float | None:
        """Median % change of linked minus comparison households (percentage points)."""
        a, b = self.linked.pct_median, self.comparison.pct_median
        return None if a is None or b is None else a - b


def compare(linked: Iterable[Unit], pool: Iterable[Unit]) -> Comparison:
    """Figures of the linked households and of their comparison group.

    A comparison household is never linked, lies in the same subdistrict (when none there,
    the same district) as a linked household, had the same assessment level on the linked
    household's start date, and has income recorded for exactly the same baseline and
    follow-up periods; its change is taken over those two periods. Each comparison
    household counts once (with the first linked household it matched, in key order)."""
    units = sorted((u for u in linked if u.cut is not None), key=lambda u: u.key)
    candidates = list(pool)
    by_period: dict[str, dict[tuple[dt.date, dt.date], Period]] = {
        u.key: {(p.start, p.end): p for p in u.periods} for u in candidates
    }
    # Index the pool by (area prefix, baseline period, follow-up period): each linked
    # household looks at its few candidates only (province scale: 10⁴ × 10⁵ otherwise).
    index: dict[tuple[str, tuple[dt.date, dt.date], tuple[dt.date, dt.date]], list[Unit]] = defaultdict(list)
    for v in candidates:
        keys = list(by_period[v.key])
        for b in keys:
            for f in keys:
                if b != f:
                    for n in (6, 4):
                        index[(v.area_code[:n], b, f)].append(v)
    levels: dict[tuple[str, dt.date], int | None] = {}

    def level_of(v: Unit, on: dt.date) -> int | None:
        if (v.key, on) not in levels:
            levels[(v.key, on)] = level_at(v.levels, on)
        return levels[(v.key, on)]

    changes: list[Change] = []
    chosen: dict[str, Change] = {}
    pairs: dict[str, list[str]] = {}
    in_district = 0
    for u in units:
        assert u.cut is not None
        c = change_at(u.key, u.periods, u.cut)
        if c is None:
            continue
        changes.append(c)
        level = level_at(u.levels, u.cut)
        bk, fk = (c.baseline.start, c.baseline.end), (c.followup.start, c.followup.end)
        found: list[Unit] = []
        for n in (6, 4):
            if level is None:
                break
            found = [v for v in index.get((u.area_code[:n], bk, fk), []) if level_of(v, u.cut) == level]
            if found:
                if n == 4:
                    in_district += 1
                break
        if not found:
            continue
        pairs[u.key] = sorted(v.key for v in found)
        for v in found:
            if v.key not in chosen:
                chosen[v.key] = _change(v.key, by_period[v.key][bk], by_period[v.key][fk])
    comp = [chosen[k] for k in sorted(chosen)]
    return Comparison(
        linked=summarise(changes),
        comparison=summarise(comp),
        linked_changes=changes,
        comparison_changes=comp,
        matched=len(pairs),
        matched_in_district=in_district,
        pairs=pairs,
    )


def as_dict(value: Any) -> Any:
    """Plain JSON-able values of the dataclasses above (for the API and benchmarks)."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value
