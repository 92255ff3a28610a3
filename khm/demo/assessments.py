"""Demo household assessments: survey rounds 2567 and 2568 for most demo households.

:func:`seed_assessments` gives about 60 % of the demo's households (mostly those on a poor
list) a field assessment in round 2567 (June 2024) and, for most of them, another one in
round 2568 (June 2025), then scores each round in one scoring run, so the assessment pages
show levels, deprivations, needs and the change between rounds.

How the answers are made (the pure part, also used by ``benchmarks/bench_scoring.py``):

* **A latent poverty level** 1–4 per household (:func:`latent_level`) from the registry
  facts: income per member (``income_year``), disability, chronic illness, the share of
  children and old people, one old person living alone, a large household, being on a poor
  list, plus noise. In a later round about 35 % of households move up one level, 10 % down
  one, the rest stay (:func:`next_level`).
* **A household profile** (:func:`household_profile`) of persistent draws: an offset per
  capital, a noise and an option order per item, a draw per BMN indicator. The same
  profile serves every round, so answers change between rounds because the level changed,
  not because the dice were thrown again.
* **Answers** (:func:`assessment_data`): every item of the questionnaire gets an answer
  whose share of the item's points lies near the level's target (1 → 12 %, 2 → 37 %,
  3 → 62 %, 4 → 87 %: the middle of the level bands of the default cut points); options
  between two point values are picked so that the *expected* points hit the target.
  Items that the registry knows are taken from it: the household's highest education,
  literacy (no schooling), health (disability, chronic illness), skills (occupations),
  work of the working-age members, income per member. Income sources are built from the
  registry income, kept inside the level's usual range, with the state allowances of the
  old, the disabled and small children under "other".
* **BMN answers** agree with the questionnaire: a household on someone else's land or in
  a poor house fails bmn08, no water fails bmn09/bmn10, no savings fails bmn23, no
  community activity fails bmn30, the income indicator bmn22 follows the income per member;
  the other indicators fail with a probability that grows with poverty. Person-level
  indicators are answered for the members they apply to (ages at the assessment date):
  occupation and income from the registry (bmn20, bmn21), schooling (bmn16, bmn17),
  literacy (bmn19), care of the old, the disabled and the chronically ill.
* **Welfare card**: most adults of poor households hold one, few of better-off ones.

Every generated answer set is checked with :func:`khm.engines.scoring.check_answers`; a
problem is a bug of this generator and stops the seed.

Nothing here imports Django at module level: the benchmark uses the pure part without a
database.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from khm.engines import scoring

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from khm.assessment.models import Assessment

DEFAULT_ROUNDS = ("2567", "2568")
BE_OFFSET = 543
ASSESSMENT_MONTH = 6  # June
POOR_LIST_SHARE = 0.85  # of the assessed households, the share taken from the poor lists
CHUNK = 2000  # households generated and written at a time
REASSESSED = 0.9  # share of a round's households assessed again in the next round
IMPROVE, DECLINE = 0.35, 0.10

# Target share of an item's points per level: the middle of the default level bands
# (cut points 1.75 / 2.5 / 3.25 on the 1–4 scale = 25 / 50 / 75 %).
TARGET = {1: 0.12, 2: 0.375, 3: 0.625, 4: 0.87}
# Multiplier of the base failure probability of a BMN indicator, per level.
HARDSHIP = {1: 2.0, 2: 1.4, 3: 1.0, 4: 0.55}
# Usual income per member per year (baht) per level; registry incomes outside are moved in.
INCOME_RANGE = {1: (6_000.0, 24_000.0), 2: (18_000.0, 40_000.0), 3: (32_000.0, 80_000.0), 4: (55_000.0, 240_000.0)}
BMN_THRESHOLD = 38_000.0  # used when the BMN instrument has no income rule

WORKING = frozenset({"farmer", "farm_labourer", "general_labourer", "trader", "government", "company", "other"})
SKILL_OF = {
    "farmer": "farming",
    "farm_labourer": "farming",
    "general_labourer": "construction",
    "trader": "trade",
    "company": "service",
    "government": "service",
    "other": "mechanic",
}
# Registry education → rank → the questionnaire's h_education answer.
EDUCATION_RANK = {
    "none": 0, "primary": 1, "lower_secondary": 2, "upper_secondary": 3, "vocational": 3, "bachelor": 4, "higher": 4,
}  # fmt: skip
EDUCATION_ANSWER = {0: "none", 1: "primary", 2: "lower_secondary", 3: "upper_secondary", 4: "higher"}

# Base failure probabilities of BMN indicators (at level 3), before HARDSHIP.
HOUSEHOLD_BASE = {
    "bmn04": 0.06, "bmn05": 0.05, "bmn12": 0.05, "bmn14": 0.03,
    "bmn24": 0.18, "bmn25": 0.15, "bmn31": 0.03,
}  # fmt: skip
PERSON_BASE = {
    "bmn01": 0.03, "bmn02": 0.15, "bmn03": 0.02, "bmn06": 0.10, "bmn07": 0.05, "bmn15": 0.04,
    "bmn16": 0.02, "bmn19": 0.02, "bmn26": 0.04, "bmn27": 0.05, "bmn28": 0.12, "bmn29": 0.06,
}  # fmt: skip
DEFAULT_BASE = 0.06
WELFARE_CARD = {1: 0.92, 2: 0.85, 3: 0.45, 4: 0.08}  # adults 18+ earning under 100,000 a year


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the registry says about a member beyond the roster (never stored in the answers)."""

    education: str = ""
    occupation: str = ""
    income_year: int | None = None


@dataclass(frozen=True, slots=True)
class ItemDraw:
    z: float  # persistent noise of the item's quality (standard normal)
    u: float  # persistent uniform for picking between two point values
    order: tuple[str, ...]  # persistent order of the options (multi items take a prefix)


@dataclass(frozen=True, slots=True)
class Profile:
    """Persistent draws of one household, shared by all its rounds."""

    key: str
    seed: int
    offsets: Mapping[str, float]  # capital → offset of its quality
    items: Mapping[str, ItemDraw]
    indicators: Mapping[str, float]  # household BMN indicator → uniform
    income_factor: float  # how far this household's reported income is from the registry's
    income_pos: float  # where in the level's usual range it sits when moved in
    income_split: tuple[float, float, float]


def level_of_score(z: float) -> int:
    """1–4 from a score on the questionnaire's 1–4 scale (default cut points)."""
    return 1 if z < 1.75 else 2 if z < 2.5 else 3 if z < 3.25 else 4


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def _age(m: Mapping[str, Any]) -> int | None:
    age = m.get("age")
    return int(age) if isinstance(age, int | float) else None


def _is_working(f: MemberFacts) -> bool:
    return f.occupation in WORKING and (f.income_year or 0) > 0


def registry_income_per_member(members: Sequence[Mapping[str, Any]], facts: Mapping[str, MemberFacts]) -> float:
    if not members:
        return 0.0
    total = sum((facts.get(m["key"]) or MemberFacts()).income_year or 0 for m in members)
    return total / len(members)


def latent_level(
    members: Sequence[Mapping[str, Any]], facts: Mapping[str, MemberFacts], *, listed: bool, noise: float
) -> int:
    """The household's poverty level 1–4 from registry facts plus ``noise`` (≈ N(0, 0.45))."""
    n = max(len(members), 1)
    pp = registry_income_per_member(members, facts)
    z = 2.55 + 1.0 * math.log2(max(pp, 4_000.0) / BMN_THRESHOLD)
    z -= 0.35 * min(2, sum(1 for m in members if m.get("disabled")))
    z -= 0.12 * min(3, sum(1 for m in members if m.get("chronic")))
    ages = [_age(m) for m in members]
    dependants = sum(1 for a in ages if a is not None and (a < 15 or a >= 60))
    z -= 0.6 * dependants / n
    if len(members) == 1 and (ages[0] or 0) >= 60:
        z -= 0.25
    if len(members) >= 6:
        z -= 0.2
    if listed:
        z -= 0.35
    return level_of_score(z + noise)


def next_level(level: int, u: float) -> int:
    """The level one round later: up one with probability 35 %, down one with 10 %."""
    if u < IMPROVE:
        return min(4, level + 1)
    if u < IMPROVE + DECLINE:
        return max(1, level - 1)
    return level


def household_profile(
    key: str, *, seed: int, capitals: Mapping[str, Any], bmn: Mapping[str, Any] | None, showcase: bool = False
) -> Profile:
    """Persistent draws for household ``key`` (same seed and key ⇒ same profile)."""
    rng = random.Random(f"{seed}/{key}")
    offsets = {cap["code"]: (0.0 if showcase else rng.gauss(0.0, 0.07)) for cap in capitals["capitals"]}
    items: dict[str, ItemDraw] = {}
    for cap in capitals["capitals"]:
        for it in cap["items"]:
            order = [o["value"] for o in it.get("options", [])]
            rng.shuffle(order)
            items[it["code"]] = ItemDraw(z=rng.gauss(0.0, 1.0), u=rng.random(), order=tuple(order))
    indicators = {ind["code"]: rng.random() for ind in (bmn or {}).get("indicators", []) if ind["level"] == "household"}
    return Profile(
        key=key,
        seed=seed,
        offsets=offsets,
        items=items,
        indicators=indicators,
        income_factor=math.exp(rng.gauss(0.0, 0.15)),
        income_pos=rng.random(),
        income_split=(rng.random(), rng.random(), rng.random()),
    )


def assessed_on(round_label: str, day: int) -> dt.date:
    """A June day of the round's Buddhist-Era year (2567 → June 2024)."""
    return dt.date(int(round_label) - BE_OFFSET, ASSESSMENT_MONTH, day)


# --------------------------------------------------------------------------- answers


class _Gen:
    """Answers of one household in one round."""

    def __init__(
        self,
        *,
        capitals: Mapping[str, Any],
        bmn: Mapping[str, Any] | None,
        profile: Profile,
        level: int,
        members: Sequence[Mapping[str, Any]],
        facts: Mapping[str, MemberFacts],
        registry_pp: float,
        round_label: str,
    ) -> None:
        self.capitals = capitals
        self.bmn = bmn
        self.p = profile
        self.level = level
        # Person draws are seeded by the member's place in the roster (ordered by registry
        # id), not by the random person ref, so that the same seed gives the same answers.
        self.place = {m["key"]: i for i, m in enumerate(members)}
        self.members = [dict(m) for m in members if (_age(m) or 0) >= 0]
        self.facts = facts
        self.registry_pp = registry_pp
        self.round_label = round_label
        self.rr = random.Random(f"{profile.seed}/{profile.key}/{round_label}")
        self.answers: dict[str, Any] = {}
        self.person_answers: dict[str, dict[str, str]] = {}

    # ---- helpers

    def fact(self, m: Mapping[str, Any]) -> MemberFacts:
        return self.facts.get(m["key"]) or MemberFacts()

    def quality(self, cap: str, item: str) -> float:
        draw = self.p.items.get(item)
        z = draw.z if draw else 0.0
        return _clip(TARGET[self.level] + self.p.offsets.get(cap, 0.0) + 0.16 * z + self.rr.gauss(0.0, 0.03))

    def fails(self, base: float, u: float) -> bool:
        return u < min(0.97, base * HARDSHIP[self.level])

    def person_rng(self, key: str, what: str) -> random.Random:
        return random.Random(f"{self.p.seed}/{self.p.key}/{self.place[key]}/{what}")

    # ---- income

    def income(self) -> dict[str, int]:
        n = len(self.members)
        lo, hi = INCOME_RANGE[self.level]
        pp = self.registry_pp * self.p.income_factor
        if not lo <= pp <= hi:
            pp = lo * (hi / lo) ** self.p.income_pos
        total = pp * n
        allowances = 0.0
        for m in self.members:
            age = _age(m)
            if age is not None and age >= 60:
                allowances += 12 * (600 if age < 70 else 700 if age < 80 else 800 if age < 90 else 1_000)
            if m.get("disabled"):
                allowances += 12 * 800
            if age is not None and age < 6:
                allowances += 12 * 600 * 0.6
        other = min(allowances, 0.7 * total)
        farming = any(self.fact(m).occupation in ("farmer", "farm_labourer") for m in self.members)
        u1, u2, _ = self.p.income_split
        home = total * ((0.06 + 0.10 * u1) if farming else 0.03 * u1)
        secondary = (total - other - home) * (0.25 * u2 if self.level >= 2 else 0.1 * u2)
        main = max(0.0, total - other - home - secondary)
        values = {"main": main, "secondary": secondary, "other": other, "home_produce": home}
        out = {k: round(v / 100.0) * 100 for k, v in values.items()}
        sources = (self.bmn or {}).get("income", {}).get("sources") or list(out)
        return {s: out.get(s, 0) for s in sources}

    # ---- persons

    def person_bmn(self) -> None:
        if self.bmn is None:
            return
        inds = [i for i in self.bmn["indicators"] if i["level"] == "person"]
        alone = len(self.members) == 1
        for m in self.members:
            f = self.fact(m)
            r = self.person_rng(m["key"], "bmn")
            draws = {i["code"]: r.random() for i in inds}
            out: dict[str, str] = {}
            for ind in inds:
                code = ind["code"]
                if not _applies(ind, m):
                    continue
                u = draws[code]
                out[code] = self._person_answer(code, f, u, alone)
            if out:
                self.person_answers[m["key"]] = out

    def _person_answer(self, code: str, f: MemberFacts, u: float, alone: bool) -> str:
        student = f.occupation == "student"
        working = _is_working(f)
        if code == "bmn16":
            base = 0.02 if student else 0.6
        elif code == "bmn17":
            base = 0.02 if student else 0.7
        elif code == "bmn18":
            if student or working:
                return "na"
            base = 0.35
        elif code == "bmn19":
            if f.education == "none":
                return "fail"
            base = PERSON_BASE[code]
        elif code == "bmn20":
            if student:
                return "na"
            base = 0.03 if working else 0.45
        elif code == "bmn21":
            base = 0.03 if working else 0.25
        elif code == "bmn27":
            base = PERSON_BASE[code] * (2.5 if alone else 1.0)
        else:
            base = PERSON_BASE.get(code, DEFAULT_BASE)
        return "fail" if self.fails(base, u) else "pass"

    def person_fails(self, code: str) -> list[str]:
        return [k for k, a in self.person_answers.items() if a.get(code) == "fail"]

    def welfare_cards(self) -> None:
        for m in self.members:
            age = _age(m)
            r = self.person_rng(m["key"], "card")
            u = r.random()
            poor_enough = (self.fact(m).income_year or 0) < 100_000
            m["welfare_card"] = bool(age is not None and age >= 18 and poor_enough and u < WELFARE_CARD[self.level])

    # ---- capitals

    def pick(self, item: Mapping[str, Any], q: float) -> Any:
        """An answer to ``item`` whose expected share of the item's points is ``q``."""
        draw = self.p.items.get(item["code"]) or ItemDraw(0.0, 0.5, tuple(o["value"] for o in item.get("options", [])))
        typ = item["type"]
        if typ == "number":
            bands = item["bands"]
            mx = max(float(b["points"]) for b in bands) or 1.0
            target = _dither([float(b["points"]) / mx for b in bands], q, draw.u)
            band = next(b for b in bands if abs(float(b["points"]) / mx - target) < 1e-9)
            return band["min"]
        options = item["options"]
        if typ == "choice":
            pts = {o["value"]: float(o.get("points", 0)) for o in options}
            mx = max(pts.values()) or 1.0
            target = _dither([p / mx for p in pts.values()], q, draw.u)
            same = [v for v in draw.order if abs(pts[v] / mx - target) < 1e-9]
            return same[0]
        rule = item.get("rule", "sum")
        none = [o["value"] for o in options if o.get("none")]
        real = [v for v in draw.order if v not in none]
        if rule == "any_full":
            if draw.u < q and real:
                return sorted(real[: 1 + int(q * 2 * draw.u)])
            return none[:1]
        if rule == "start_minus":
            per = float(item["per"]) or 1.0
            worst = max(0, math.ceil((float(item["start"]) - float(item.get("min", 0))) / per))
            n = int(_dither_count((1.0 - q) * worst, draw.u))
            chosen = real[: min(n, len(real))]
            return sorted(chosen) if chosen else none[:1]
        pts = {o["value"]: float(o.get("points", 0)) for o in options}
        goal = _dither_count(q * scoring.item_max_points(item), draw.u)
        chosen, acc = [], 0.0
        for v in real:
            if acc >= goal - 1e-9:
                break
            if pts[v] > 0:
                chosen.append(v)
                acc += pts[v]
        return sorted(chosen)

    def capital_answers(self, income_pp: float) -> None:
        for cap in self.capitals["capitals"]:
            for item in cap["items"]:
                code = item["code"]
                q = self.quality(cap["code"], code)
                value = self.known(code, item, q, income_pp)
                self.answers[code] = value if value is not None else self.pick(item, q)

    def known(self, code: str, item: Mapping[str, Any], q: float, income_pp: float) -> Any:
        """Answers the registry or the BMN answers decide; None for the generic pick."""
        allowed = {o["value"] for o in item.get("options", [])}
        members = self.members
        value: Any = None
        if code == "h_income_month":
            value = round(income_pp / 12.0)
        elif code == "f_income_year":
            value = round(income_pp)
        elif code == "h_education":
            ranks = [EDUCATION_RANK[f.education] for f in map(self.fact, members) if f.education in EDUCATION_RANK]
            value = EDUCATION_ANSWER[max(ranks)] if ranks else None
        elif code == "h_literacy":
            group = [m for m in members if 15 <= (_age(m) or -1) <= 59] or [m for m in members if (_age(m) or -1) >= 15]
            if group:
                failed = set(self.person_fails("bmn19"))
                can = [m for m in group if self.fact(m).education != "none" and m["key"] not in failed]
                value = "all" if len(can) == len(group) else "some" if can else "none"
        elif code == "h_health":
            disabled = [m for m in members if m.get("disabled")]
            draw = self.p.items.get(code)
            if disabled and set(self.person_fails("bmn28")) & {m["key"] for m in disabled}:
                value = "dependent_no_carer"
            elif disabled and draw is not None and draw.u < 0.5:
                value = "dependent_cared"
            elif disabled or any(m.get("chronic") for m in members):
                value = "chronic"
            else:
                value = "healthy"
        elif code == "h_skills":
            skills = {SKILL_OF[f.occupation] for f in map(self.fact, members) if f.occupation in SKILL_OF}
            draw = self.p.items.get(code)
            weaver = any(m.get("sex") == "F" and (_age(m) or 0) >= 35 for m in members)
            if weaver and draw is not None and draw.u < 0.35:
                skills.add("handicraft")  # Kalasin silk (ผ้าไหมแพรวา)
            value = sorted(skills & allowed) or [v for v in ("none",) if v in allowed]
        elif code == "h_work":
            group = [m for m in members if 15 <= (_age(m) or -1) <= 59 and self.fact(m).occupation != "student"]
            if group:
                working = [m for m in group if _is_working(self.fact(m))]
                value = "all" if len(working) == len(group) else "some" if working else "none"
        elif code == "s_groups":
            value = self.pick(item, q)
            if not any((_age(m) or 0) >= 60 for m in members):
                value = [v for v in value if v != "elderly"]
        if isinstance(value, str) and item.get("type") == "choice" and value not in allowed:
            return None
        if isinstance(value, list) and any(v not in allowed for v in value):
            return None
        return value

    # ---- household BMN

    def household_bmn(self, income_pp: float) -> dict[str, str]:
        if self.bmn is None:
            return {}
        a = self.answers
        inc = self.bmn.get("income") or {}
        threshold = scoring.income_threshold(self.bmn, self.round_label) or BMN_THRESHOLD
        out: dict[str, str] = {}
        for ind in self.bmn["indicators"]:
            if ind["level"] != "household":
                continue
            code = ind["code"]
            u = self.p.indicators.get(code, 0.5)
            fail: bool
            if code == inc.get("indicator"):
                fail = income_pp < threshold
            # The BMN bar is lower than the questionnaire's worst answers: a poor answer
            # fails the indicator only in part of the households.
            elif code == "bmn08" and "p_tenure" in a and "p_house_condition" in a:
                bad = a["p_tenure"] in ("none", "with_others") or a["p_house_condition"] == "poor"
                fail = bad and u < 0.45
            elif code in ("bmn09", "bmn10") and "p_water" in a:
                no, partly = (0.5, 0.08) if code == "bmn09" else (0.7, 0.2)
                fail = u < {"no": no, "partly": partly}.get(a["p_water"], 0.0)
            elif code == "bmn11" and isinstance(a.get("p_hygiene"), list):
                hyg = set(a["p_hygiene"])
                fail = ("toilet" not in hyg or len(hyg) <= 1) and u < 0.4
            elif code == "bmn13" and "n_disaster" in a:
                fail = u < {"often": 0.4, "sometimes": 0.08}.get(a["n_disaster"], 0.0)
            elif code == "bmn23" and "f_savings" in a:
                fail = a["f_savings"] == "none"
            elif code == "bmn30" and "s_activities" in a:
                fail = a["s_activities"] == "never" and u < 0.7
            else:
                fail = self.fails(HOUSEHOLD_BASE.get(code, DEFAULT_BASE), u)
            out[code] = "fail" if fail else "pass"
        return out

    def data(self) -> dict[str, Any]:
        self.welfare_cards()
        income = self.income()
        n = len(self.members)
        income_pp = sum(income.values()) / n if n else 0.0
        self.person_bmn()
        self.capital_answers(income_pp)
        out: dict[str, Any] = {"round": self.round_label, "members": self.members, "capitals": self.answers}
        if self.bmn is not None:
            out["bmn"] = {"household": self.household_bmn(income_pp), "persons": self.person_answers}
        out["income"] = income
        return out


def _applies(ind: Mapping[str, Any], member: Mapping[str, Any]) -> bool:
    """Same rule as the engine: an age range and/or a member flag."""
    ap = ind.get("applies") or {}
    age = _age(member)
    if ("age_min" in ap or "age_max" in ap) and age is None:
        return False
    if "age_min" in ap and age < ap["age_min"]:  # type: ignore[operator]
        return False
    if "age_max" in ap and age > ap["age_max"]:  # type: ignore[operator]
        return False
    return not ("member_flag" in ap and not member.get(ap["member_flag"]))


def _dither(fractions: Iterable[float], q: float, u: float) -> float:
    """One of ``fractions``: the two around ``q``, the upper with the probability that makes
    the expected value ``q`` (``u`` is the uniform draw)."""
    fr = sorted(set(fractions))
    if q <= fr[0]:
        return fr[0]
    if q >= fr[-1]:
        return fr[-1]
    i = bisect_right(fr, q)
    lo, hi = fr[i - 1], fr[i]
    return hi if u < (q - lo) / (hi - lo) else lo


def _dither_count(x: float, u: float) -> float:
    base = math.floor(x)
    return base + (1 if u < x - base else 0)


def assessment_data(
    *,
    capitals: Mapping[str, Any],
    bmn: Mapping[str, Any] | None,
    profile: Profile,
    level: int,
    members: Sequence[Mapping[str, Any]],
    facts: Mapping[str, MemberFacts],
    registry_pp: float,
    round_label: str,
) -> dict[str, Any]:
    """The answers (``Assessment.data``) of one household in one round at latent ``level``.

    ``members`` is the roster at the assessment date (``khm.assessment.services.roster``,
    in registry order); members not yet born then are left out. ``facts`` maps a member key
    to registry facts."""
    return _Gen(
        capitals=capitals,
        bmn=bmn,
        profile=profile,
        level=level,
        members=members,
        facts=facts,
        registry_pp=registry_pp,
        round_label=round_label,
    ).data()


def check(capitals: Mapping[str, Any], bmn: Mapping[str, Any] | None, data: Mapping[str, Any], where: str) -> None:
    problems = scoring.check_answers(capitals, bmn, data)
    if problems:
        raise ValueError(f"demo assessment of {where} does not fit the instruments: " + "; ".join(map(str, problems)))


# --------------------------------------------------------------------------- database


@dataclass(frozen=True, slots=True)
class _Planned:
    household_id: int
    area_code: str
    round: str
    on: dt.date
    level: int
    data: dict[str, Any]


def _assessors() -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(province admin, volunteer by village, local officer by village, district officer by district)."""
    from django.db.models import Q
    from django.utils import timezone

    from khm.accounts.models import RoleAssignment
    from khm.accounts.roles import Role

    now = timezone.now()
    current = RoleAssignment.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now), valid_from__lte=now)
    admin_ra = current.filter(role=Role.PROVINCE_ADMIN).select_related("user").order_by("id").first()
    volunteers: dict[str, Any] = {}
    locals_: dict[str, Any] = {}
    districts: dict[str, Any] = {}
    for ra in current.select_related("user", "area", "organisation").order_by("-id"):
        if ra.role == Role.VILLAGE_VOLUNTEER and ra.area is not None:
            volunteers[ra.area.code] = ra.user
        elif ra.role == Role.LOCAL_OFFICER and ra.area is None:
            for code in ra.organisation.jurisdiction.values_list("code", flat=True):
                locals_[code] = ra.user
        elif ra.role == Role.DISTRICT_OFFICER and ra.area is not None:
            districts[ra.area.code] = ra.user
    return (admin_ra.user if admin_ra else None), volunteers, locals_, districts


def seed_assessments(
    *, seed: int = 46, share: float = 0.6, rounds: Sequence[str] = DEFAULT_ROUNDS, score: bool = True
) -> list[str]:
    """Assess about ``share`` of the registry's households in the first of ``rounds`` and
    most of them again in each later round; score every round in one run (oldest first).

    Does nothing when any assessment exists. Returns lines for the command's output."""
    from django.db import transaction
    from django.utils import timezone

    from khm.assessment import instruments as inst
    from khm.assessment.models import Assessment, AssessmentMethod, AssessmentResult
    from khm.assessment.services import _run, roster
    from khm.audit.services import audit_record
    from khm.registry.models import Household, HouseholdStatus, Person, PersonStatus, new_code
    from khm.sources.models import PersonSource, SourceKind

    if Assessment.objects.exists():
        return ["assessments already exist: left as they are"]
    cap_i, bmn_i = inst.current_of_kind("capitals"), inst.current_of_kind("bmn")
    capitals = inst.definition(cap_i)
    if cap_i is None or capitals is None:
        return ["no questionnaire installed: no assessments"]
    bmn = inst.definition(bmn_i)
    rounds = sorted({str(r) for r in rounds})
    started = time.perf_counter()
    rng = random.Random(seed)

    households = list(
        Household.objects.filter(status=HouseholdStatus.ACTIVE).only("id", "area_code", "code").order_by("id")
    )
    facts: dict[int, dict[str, MemberFacts]] = {}
    for hid, ref, edu, occ, inc in (
        Person.objects.filter(status=PersonStatus.MEMBER)
        .order_by("id")
        .values_list("household_id", "ref", "education", "occupation", "income_year")
    ):
        facts.setdefault(hid, {})[ref] = MemberFacts(edu, occ, inc)
    households = [h for h in households if h.pk in facts]
    listed = set(
        PersonSource.objects.exclude(source__kind=SourceKind.BMN)  # the BMN survey covers poor and not poor
        .filter(person__status=PersonStatus.MEMBER)
        .values_list("person__household_id", flat=True)
    )
    poor = [h for h in households if h.pk in listed]
    others = [h for h in households if h.pk not in listed]
    target = round(min(max(share, 0.0), 1.0) * len(households))
    take_poor = min(len(poor), round(POOR_LIST_SHARE * target))
    take_others = min(len(others), target - take_poor)
    take_poor = min(len(poor), target - take_others)
    chosen = sorted(rng.sample(poor, take_poor) + rng.sample(others, take_others), key=lambda h: h.pk)

    admin, volunteers, locals_, districts = _assessors()
    showcase = _showcase(chosen, volunteers, listed)
    if showcase is not None and showcase not in chosen:
        chosen = sorted([*chosen, showcase], key=lambda h: h.pk)

    def plan(h: Any) -> list[_Planned]:
        """The assessments of household ``h``: every round until it is not assessed again."""
        hfacts = facts[h.pk]
        is_showcase = showcase is not None and h.pk == showcase.pk
        profile = household_profile(h.code, seed=seed, capitals=capitals, bmn=bmn, showcase=is_showcase)
        level = 0
        out: list[_Planned] = []
        for i, rnd in enumerate(rounds):
            u_next, day = rng.random(), rng.randrange(3, 29)
            if i and not is_showcase and u_next >= REASSESSED:
                break
            on = assessed_on(rnd, day)
            members = roster(h, on)
            born = [m for m in members if m.get("age") is None or m["age"] >= 0]
            if not born:
                break
            if i == 0:
                noise = rng.gauss(0.0, 0.45)
                level = 1 if is_showcase else latent_level(born, hfacts, listed=h.pk in listed, noise=noise)
            else:
                u = rng.random()
                level = min(4, level + 1) if is_showcase else next_level(level, u)
            data = assessment_data(
                capitals=capitals,
                bmn=bmn,
                profile=profile,
                level=level,
                members=members,
                facts=hfacts,
                registry_pp=registry_income_per_member(born, hfacts),
                round_label=rnd,
            )
            check(capitals, bmn, data, f"household {h.code} round {rnd}")
            out.append(_Planned(h.pk, h.area_code, rnd, on, level, data))
        return out

    def assessor(area: str) -> Any:
        return volunteers.get(area) or locals_.get(area) or districts.get(area[:4]) or admin

    provinces = {h.area_code[:2] for h in chosen}
    area_code = provinces.pop() if len(provinces) == 1 else ""
    now = timezone.now()
    per_round: Counter[str] = Counter()
    lines: list[str] = []
    with transaction.atomic():
        # In chunks of households, so that a big registry never holds every answer in memory.
        for at in range(0, len(chosen), CHUNK):
            planned = [p for h in chosen[at : at + CHUNK] for p in plan(h)]
            per_round.update(p.round for p in planned)
            Assessment.objects.bulk_create(
                [
                    Assessment(
                        ref=new_code("A"),
                        household_id=p.household_id,
                        area_code=p.area_code,
                        round=p.round,
                        assessed_on=p.on,
                        method=AssessmentMethod.FIELD,
                        capitals_instrument=cap_i,
                        bmn_instrument=bmn_i,
                        data=p.data,
                        data_hash=scoring.digest(p.data),
                        assessor=assessor(p.area_code),
                        created_at=now,
                    )
                    for p in planned
                ],
                batch_size=1000,
            )
        lines.append(
            f"assessments: {len(chosen):,} of {len(households):,} households "
            f"({sum(1 for h in chosen if h.pk in listed):,} on a poor list), "
            + ", ".join(f"round {r}: {per_round[r]:,}" for r in rounds)
            + f", written in {time.perf_counter() - started:.1f} s"
        )
        audit_record(
            actor=admin,
            action="assessment.bulk_load",
            object_type="assessment",
            object_ref=f"demo {'+'.join(rounds)}",
            area_code=area_code,
            changes={
                "assessments": per_round.total(),
                "households": len(chosen),
                "rounds": dict(per_round),
                "seed": seed,
            },
            note="seed_demo: synthetic field assessments",
        )
        if score:
            for rnd in rounds:
                qs: QuerySet[Assessment] = Assessment.objects.filter(round=rnd)
                run = _run(actor=admin, assessments=qs, area_code=area_code, round=rnd)
                levels = Counter(AssessmentResult.objects.filter(run=run).values_list("level", flat=True).order_by())
                shown = " ".join(f"L{lv}={levels.get(lv, 0):,}" for lv in (1, 2, 3, 4))
                lines.append(
                    f"scoring run {run.pk} (round {rnd}): {run.n_assessments:,} assessments in {run.seconds} s; {shown}"
                )
    if score and len(rounds) > 1:
        lines.append(_changes(rounds[0], rounds[-1]))
    if showcase is not None:
        lines.append(f"showcase household {showcase.code} (village {showcase.area_code}): assessed in every round")
    lines.append(f"assessments seeded in {time.perf_counter() - started:.1f} s")
    return lines


def _showcase(chosen: Sequence[Any], volunteers: Mapping[str, Any], listed: set[int]) -> Any:
    """The demo volunteer's first household on a poor list (else the first one): assessed in
    every round, starting in hardship and one level better each round — the story the
    volunteer's pages tell."""
    from khm.registry.models import Household, HouseholdStatus, PersonStatus

    if not volunteers:
        return None
    village = min(volunteers)
    ids = list(
        Household.objects.filter(area_code=village, status=HouseholdStatus.ACTIVE, people__status=PersonStatus.MEMBER)
        .values_list("id", flat=True)
        .distinct()
        .order_by("id")
    )
    if not ids:
        return None
    pick = next((i for i in ids if i in listed), ids[0])
    found = next((h for h in chosen if h.pk == pick), None)
    return found or Household.objects.only("id", "area_code", "code").get(pk=pick)


def _changes(before: str, after: str) -> str:
    from khm.assessment.models import AssessmentResult

    def levels(rnd: str) -> dict[int, int]:
        rows = AssessmentResult.objects.filter(current=True, round=rnd, level__isnull=False)
        return {h: lv for h, lv in rows.values_list("household_id", "level") if lv is not None}

    a, b = levels(before), levels(after)
    both = a.keys() & b.keys()
    up = sum(1 for h in both if b[h] > a[h])
    down = sum(1 for h in both if b[h] < a[h])
    return f"level {before} → {after}: {up:,} households better, {down:,} worse, {len(both) - up - down:,} the same"
