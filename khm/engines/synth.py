"""Deterministic synthetic population of rural Northeast Thailand (Kalasin, DOPA 46).

Used for demo data, for tests (one village) and for benchmarks (a million people). The
output is a stream of :class:`SynthHousehold` objects; nothing here touches a database.
Same ``seed`` ⇒ identical output (all randomness comes from ``random.Random`` instances
seeded from ``seed``; name corpora are sorted because PyThaiNLP returns unordered sets).
The output also depends on the PyThaiNLP name corpora, which ``uv.lock`` pins.

Sources and assumptions
-----------------------
* **Names** are drawn uniformly from PyThaiNLP's bundled corpora of real Thai names
  (``thai_male_names``, ``thai_female_names``, ``thai_family_names``). The corpora carry
  no frequencies, so common names are not over-represented.
* Figures below other than the DOPA totals are approximate public statistics (NSO, NESDC,
  government welfare rates) used as targets, not data files; the household-type weights
  and rates in this module were tuned until the generated population matched them.
* **Totals**: DOPA registration for Kalasin, 2021: 975,570 people (481,988 male /
  493,582 female, i.e. 49.4 % male) in 316,604 registered houses (3.08 persons per
  house). The household-type mix below is tuned so that the mean household size lands
  at ≈3.1 and the share of men at ≈49 %.
* **Household types** follow the NSO household surveys' picture of the rural Northeast:
  many one-person elderly households (mostly widows), empty-nest couples, nuclear
  families, three-generation households and *skipped-generation* households where
  grandparents raise grandchildren because the working-age parents have migrated to
  Bangkok or the Eastern Seaboard. Households are matrilocal more often than elsewhere in
  Thailand (a daughter and her husband stay with her parents), so a married-in husband
  usually keeps his own family name. Households are capped at 9 members.
* **Age structure**: Thailand ~2021 has ≈15–16 % under 15 and ≈19–20 % aged 60+. Ages of
  the elderly follow a truncated exponential (mean 11 years above 60: ≈60 % are 60–69,
  ≈25 % 70–79, ≈15 % 80+). Measured outcome: ≈16 % under 15, ≈21 % aged 60+, ≈49 % male,
  ≈15 % one-person households, mean household size ≈3.09.
* The unit is the *registered* house (ทะเบียนบ้าน), as in DOPA's totals: grown children
  working in Bangkok often stay on their parents' register, so some adult children of
  working age are members even of "empty-nest" households.
* **Relations** are the codes of :data:`RELATIONS`; a child's spouse (son/daughter in
  law) is recorded as ``relative`` because the house register has no finer code.
* **Titles**: เด็กชาย/เด็กหญิง under 15 (Child Name Act), นาย for men 15+, นาง for most
  married/widowed/divorced women (since 2008 a married woman may keep นางสาว; about
  10 % do), นางสาว for unmarried women.
* **National IDs** (เลขประจำตัวประชาชน): digit 1 is the person category: ``1`` for people
  born on or after 1 January 1984 (birth registered after the ID system started), ``3``
  for people already in the 1984 house census. Digits 2–5 are the registration office:
  the first four digits of the village code (province 46 + district 01..18). Digits
  6–12 come from a per-(category, office) counter pushed through a seeded affine
  permutation of 0..9,999,999, so IDs look scattered but can never collide. Digit 13
  is the check digit from :mod:`khm.engines.ids`.
* **Education** is the highest level attained *or currently attended*, so it is always
  consistent with age: ``none`` below school age (6), ``primary`` 6–11,
  ``lower_secondary`` 12–14, then cohort-dependent shares (older cohorts mostly left
  after Prathom 4; younger cohorts reach upper secondary, vocational or bachelor level).
* **Occupation** depends on age and education: ``child`` under 6, ``student`` 6–14 and
  most 15–17-year-olds; working ages are mostly rice/sugar-cane/cassava farmers and
  labourers; government and company jobs need more schooling; the elderly drift into
  ``elderly_dependent``.
* **Income** (baht per person per year) is log-normal per occupation: medians farmer
  ≈54,000 (the lowest, with farm labourer ≈50,000), general labour ≈72,000 (~300
  baht/day × 240 days), trader ≈95,000, company ≈170,000, government ≈290,000, scaled by
  an age-earnings profile (×0.7 under 20 up to ×1.12 at 30–49), with a share of zeros
  (crop failure, unemployment, students). On top come the universal old-age allowance
  (600/700/800/1,000 baht/month by age band), the disability allowance (800/month), the
  state welfare card (200–300/month for ~60 % of adults earning under 100,000), the child
  support grant (600/month for ~60 % of under-6s) and, in skipped-generation households,
  remittances from the absent parents (median 15,000 per grandchild) paid to the head.
  Incomes are rounded to 100 baht, the way people answer the BMN (จปฐ.) survey.
  Measured outcome (seed-independent to ±1 point): median income of people aged 15+
  ≈60,000–63,000, of working-age non-students ≈70,000; ≈21–23 % of households under the
  BMN line of 38,000 baht per person per year, mostly farm families with children and
  old people living alone.
* **Disability** ≈2–3 % of people (Thailand's disability register holds ≈3 %), rising
  steeply with age; categories are the registry's codes (the Thai legal types, with
  learning disability and autism under ``other``). **Chronic illness**
  rises from <1 % of children to ≈45 % of people over 70 (hypertension and diabetes
  dominate; chronic kidney disease is common in the Northeast).
* Ages are computed at :data:`REFERENCE_DATE` (fixed, so output does not drift with the
  calendar); pass ``as_of`` to :func:`generate` to centre the population on another date.
* Each village receives its share of ``people`` (largest-remainder apportionment of the
  weights), so the total is exact; the last household of a village is trimmed to fit.
"""

from __future__ import annotations

import datetime
import math
import random
import statistics
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from khm.engines.ids import complete_national_id

__all__ = [
    "DISABILITIES",
    "EDUCATION",
    "ILLNESSES",
    "MAX_HOUSEHOLD_SIZE",
    "OCCUPATIONS",
    "REFERENCE_DATE",
    "RELATIONS",
    "TITLES",
    "SynthHousehold",
    "SynthPerson",
    "VillageWeight",
    "generate",
    "village_weights_from_population",
]

RELATIONS: tuple[str, ...] = (
    "head",
    "spouse",
    "child",
    "grandchild",
    "parent",
    "sibling",
    "relative",
    "other",
)
# The registry's disability codes: the main types of the Persons with Disabilities
# Empowerment Act (2007); its learning-disability and autism types fall under "other".
DISABILITIES: tuple[str, ...] = ("physical", "visual", "hearing", "intellectual", "mental", "other")
ILLNESSES: tuple[str, ...] = ("diabetes", "hypertension", "kidney", "heart", "other")
EDUCATION: tuple[str, ...] = (
    "none",
    "primary",
    "lower_secondary",
    "upper_secondary",
    "vocational",
    "bachelor",
    "higher",
)
OCCUPATIONS: tuple[str, ...] = (
    "farmer",
    "farm_labourer",
    "general_labourer",
    "trader",
    "government",
    "company",
    "student",
    "unemployed",
    "elderly_dependent",
    "child",
    "other",
)
TITLE_MR, TITLE_MRS, TITLE_MISS, TITLE_BOY, TITLE_GIRL = (
    "นาย",
    "นาง",
    "นางสาว",
    "เด็กชาย",
    "เด็กหญิง",
)
TITLES: tuple[str, ...] = (TITLE_MR, TITLE_MRS, TITLE_MISS, TITLE_BOY, TITLE_GIRL)

REFERENCE_DATE = datetime.date(2025, 1, 1)
MAX_HOUSEHOLD_SIZE = 9
CHILD_TITLE_AGE = 15  # Child Name Act: เด็กชาย/เด็กหญิง until the 15th birthday
SCHOOL_AGE = 6  # Prathom 1 starts at 6
ID_CENSUS_YEAR = 1984  # the national ID system; earlier births got category 3
_ID_SERIAL_SPACE = 10_000_000  # digits 6..12 of the national ID
_DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True, slots=True)
class VillageWeight:
    """A village and its relative share of the population."""

    code: str  # 8-digit DOPA village code, e.g. "46010102"
    weight: float


@dataclass(frozen=True, slots=True)
class SynthPerson:
    national_id: str
    title: str
    first_name: str
    last_name: str
    sex: str  # "M" or "F"
    birth_date: datetime.date
    relation: str
    disability: str  # "" or one of DISABILITIES
    chronic_illness: str  # "" or one of ILLNESSES
    education: str
    occupation: str
    income_year: int  # baht per year


@dataclass(frozen=True, slots=True)
class SynthHousehold:
    code: str  # "HH" + village code + 5-digit sequence within the village
    village_code: str
    house_no: str
    members: tuple[SynthPerson, ...]  # head first


# --------------------------------------------------------------------------- tables
# Weighted tables are stored as (codes, cumulative probabilities ending in exactly 1.0)
# so that a draw is one random() plus one bisect: far cheaper than random.choices().
_Table = tuple[tuple[str, ...], tuple[float, ...]]


def _table(weights: Mapping[str, float]) -> _Table:
    total = float(sum(weights.values()))
    cum: list[float] = []
    acc = 0.0
    for w in weights.values():
        acc += w
        cum.append(acc / total)
    cum[-1] = 1.0  # random() < 1.0, so bisect_right never runs off the end
    return tuple(weights), tuple(cum)


def _pick(rnd: random.Random, table: _Table) -> str:
    return table[0][bisect_right(table[1], rnd.random())]


# Household-type mix (shares of households, not of people); tuned for a mean of ≈3.1.
_HOUSEHOLD_TYPES = _table(
    {
        "elderly_alone": 7.5,
        "single_adult": 7.0,
        "couple": 13.0,
        "nuclear": 29.0,
        "single_parent": 6.0,
        "skipped_generation": 7.0,
        "three_generation": 23.0,
        "extended": 7.0,
    }
)

# Education of adults (23+) by birth cohort: older cohorts mostly stopped after Prathom 4.
_EDU_BY_COHORT: tuple[tuple[int, _Table], ...] = (
    (
        1955,
        _table(
            {
                "none": 12,
                "primary": 78,
                "lower_secondary": 4,
                "upper_secondary": 3,
                "vocational": 1,
                "bachelor": 2,
            }
        ),
    ),
    (
        1970,
        _table(
            {
                "none": 4,
                "primary": 64,
                "lower_secondary": 12,
                "upper_secondary": 9,
                "vocational": 5,
                "bachelor": 5,
                "higher": 1,
            }
        ),
    ),
    (
        1985,
        _table(
            {
                "none": 2,
                "primary": 38,
                "lower_secondary": 22,
                "upper_secondary": 18,
                "vocational": 8,
                "bachelor": 11,
                "higher": 1,
            }
        ),
    ),
    (
        9999,
        _table(
            {
                "none": 1,
                "primary": 12,
                "lower_secondary": 22,
                "upper_secondary": 30,
                "vocational": 14,
                "bachelor": 19,
                "higher": 2,
            }
        ),
    ),
)
_EDU_15_17 = _table({"lower_secondary": 20, "upper_secondary": 55, "vocational": 25})
_EDU_18_22 = _table(
    {
        "primary": 3,
        "lower_secondary": 14,
        "upper_secondary": 40,
        "vocational": 18,
        "bachelor": 25,
    }
)
_EDU_TIER = {
    "none": 0,
    "primary": 0,
    "lower_secondary": 0,
    "upper_secondary": 1,
    "vocational": 1,
    "bachelor": 2,
    "higher": 2,
}

# Working-age occupation by education tier (low / middle / high).
_OCC_WORKING: tuple[_Table, ...] = (
    _table(
        {
            "farmer": 50,
            "farm_labourer": 10,
            "general_labourer": 20,
            "trader": 6,
            "government": 0.5,
            "company": 3,
            "unemployed": 5,
            "other": 5.5,
        }
    ),
    _table(
        {
            "farmer": 30,
            "farm_labourer": 5,
            "general_labourer": 22,
            "trader": 12,
            "government": 4,
            "company": 15,
            "unemployed": 6,
            "other": 6,
        }
    ),
    _table(
        {
            "farmer": 12,
            "farm_labourer": 1,
            "general_labourer": 5,
            "trader": 14,
            "government": 35,
            "company": 22,
            "unemployed": 5,
            "other": 6,
        }
    ),
)
_OCC_TEEN = _table(
    {"farmer": 35, "farm_labourer": 20, "general_labourer": 25, "trader": 5, "unemployed": 10, "other": 5}
)
_OCC_60_69 = _table(
    {
        "farmer": 45,
        "elderly_dependent": 40,
        "trader": 5,
        "general_labourer": 4,
        "farm_labourer": 3,
        "other": 3,
    }
)
_OCC_70_PLUS = _table({"elderly_dependent": 75, "farmer": 22, "trader": 2, "other": 1})

# (median baht/year, log-sd, share with no income at all)
_INCOME: dict[str, tuple[float, float, float]] = {
    "farmer": (54_000, 0.35, 0.02),
    "farm_labourer": (50_000, 0.35, 0.02),
    "general_labourer": (72_000, 0.3, 0.02),
    "trader": (95_000, 0.6, 0.02),
    "government": (290_000, 0.4, 0.0),
    "company": (170_000, 0.45, 0.0),
    "other": (68_000, 0.55, 0.04),
    "unemployed": (12_000, 0.8, 0.7),
    "student": (15_000, 0.7, 0.85),
    "elderly_dependent": (36_000, 0.6, 0.15),  # remittances from migrant children
    "child": (0, 0.0, 1.0),
}
_LOG_REMITTANCE_PER_CHILD = math.log(15_000)  # median per grandchild, baht/yr
_INCOME_LOG = {k: (math.log(m) if m > 0 else 0.0, s, z) for k, (m, s, z) in _INCOME.items()}

# Children: many learning disabilities and autism ("other"); the old: mobility, hearing, sight.
_DISABILITY_CHILD = _table({"intellectual": 25, "physical": 25, "other": 35, "hearing": 10, "visual": 5})
_DISABILITY_ADULT = _table({"physical": 50, "hearing": 18, "visual": 11, "mental": 9, "intellectual": 8, "other": 4})
_DISABILITY_OLD = _table({"physical": 55, "hearing": 22, "visual": 15, "mental": 4, "intellectual": 2, "other": 2})
_ILLNESS_YOUNG = _table({"other": 60, "heart": 15, "diabetes": 12, "kidney": 8, "hypertension": 5})
_ILLNESS_ADULT = _table({"hypertension": 40, "diabetes": 28, "kidney": 12, "heart": 8, "other": 12})


def _disability_rate(age: int) -> float:
    if age < 15:
        return 0.008
    if age < 60:
        return 0.017
    if age < 70:
        return 0.045
    if age < 80:
        return 0.08
    return 0.14


def _illness_rate(age: int) -> float:
    if age < 15:
        return 0.006
    if age < 30:
        return 0.02
    if age < 45:
        return 0.07
    if age < 60:
        return 0.2
    if age < 70:
        return 0.35
    return 0.45


# Precomputed per integer age (0..120) so the per-person cost is a list lookup.
_DISABILITY_RATE = tuple(_disability_rate(a) for a in range(121))
_ILLNESS_RATE = tuple(_illness_rate(a) for a in range(121))


@cache
def _names() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(male, female, family) names, sorted: the corpora are frozensets with no order."""
    from pythainlp.corpus import thai_family_names, thai_female_names, thai_male_names

    return (
        tuple(sorted(thai_male_names())),
        tuple(sorted(thai_female_names())),
        tuple(sorted(thai_family_names())),
    )


# ------------------------------------------------------------------ household shapes
# A member spec is (relation, sex, age in years as float, married, family name). The
# composition step only decides who lives together; attributes come later in one pass.
_Spec = tuple[str, str, float, bool, str]


class _Composer:
    """Draws the members of one household of a given type."""

    __slots__ = ("family", "remittance", "rnd")

    def __init__(self, rnd: random.Random, family: tuple[str, ...]) -> None:
        self.rnd = rnd
        self.family = family
        self.remittance = 0  # baht/yr sent home to the head by absent members

    def surname(self) -> str:
        return self.rnd.choice(self.family)

    def elderly_age(self) -> float:
        # Exponential tail above 60 (mean 11 years) reproduces 60-69 ≈ 60 %, 80+ ≈ 15 %.
        return 60.0 + min(self.rnd.expovariate(1 / 11), 39.5)

    def spouse_age(self, head_age: float, head_sex: str) -> float:
        # Husbands are on average ~3 years older than their wives.
        gap = self.rnd.gauss(3.0, 4.0)
        age = head_age - gap if head_sex == "M" else head_age + gap
        return min(max(age, 18.0), 99.0)

    def couple(self, head_age: float, p_male_head: float) -> tuple[list[_Spec], str, float, str, str]:
        """Head plus spouse. Returns members, head's name, mother's age, both names."""
        rnd = self.rnd
        head_sex = "M" if rnd.random() < p_male_head else "F"
        head_name = self.surname()
        spouse_sex = "F" if head_sex == "M" else "M"
        spouse_age = self.spouse_age(head_age, head_sex)
        if spouse_sex == "F":
            # Most wives take the husband's name (optional since the 2005 Name Act).
            spouse_name = head_name if rnd.random() < 0.85 else self.surname()
        else:
            # A married-in husband (matrilocal household) keeps his own name.
            spouse_name = self.surname() if rnd.random() < 0.9 else head_name
        members: list[_Spec] = [
            ("head", head_sex, head_age, True, head_name),
            ("spouse", spouse_sex, spouse_age, True, spouse_name),
        ]
        mother_age = spouse_age if spouse_sex == "F" else head_age
        father_name = head_name if head_sex == "M" else spouse_name
        return members, head_name, mother_age, father_name, spouse_sex

    def births(self, mother_age: float, count: int) -> list[float]:
        """Ages of `count` children of a woman now `mother_age`; unborn ones are dropped."""
        rnd = self.rnd
        at = rnd.uniform(18.0, 30.0)
        ages: list[float] = []
        for _ in range(count):
            age = mother_age - at
            if age < 0.0:
                break
            ages.append(age)
            at += rnd.uniform(1.5, 7.0)
        return ages

    def child_count(self) -> int:
        r = self.rnd.random()
        return 1 if r < 0.45 else 2 if r < 0.9 else 3 if r < 0.98 else 4

    def children(self, mother_age: float, family_name: str, relation: str) -> list[_Spec]:
        rnd = self.rnd
        out: list[_Spec] = []
        for age in self.births(mother_age, self.child_count()):
            # Grown children often have moved out (and re-registered elsewhere).
            if age > 22.0 and rnd.random() < 0.15:
                continue
            sex = "M" if rnd.random() < 0.51 else "F"  # sex ratio at birth ≈ 105:100
            out.append((relation, sex, age, False, family_name))
        return out

    # -- the household types --------------------------------------------------------
    def elderly_alone(self) -> list[_Spec]:
        # Women outlive men by ~7 years, so most elderly living alone are widows.
        sex = "F" if self.rnd.random() < 0.65 else "M"
        return [("head", sex, self.elderly_age(), True, self.surname())]

    def single_adult(self) -> list[_Spec]:
        rnd = self.rnd
        sex = "M" if rnd.random() < 0.65 else "F"
        married = rnd.random() < 0.35  # separated, or spouse registered elsewhere
        return [("head", sex, rnd.triangular(20.0, 60.0, 42.0), married, self.surname())]

    def couple_only(self) -> list[_Spec]:
        # Empty nest: the children have grown up and left, though a migrant son or
        # daughter often stays on the house register while working in Bangkok.
        rnd = self.rnd
        members, _, mother_age, father_name, _ = self.couple(rnd.triangular(40.0, 90.0, 60.0), 0.75)
        if rnd.random() < 0.3:
            age = max(mother_age - rnd.uniform(20.0, 38.0), 18.0)
            sex = "M" if rnd.random() < 0.6 else "F"
            members.append(("child", sex, age, rnd.random() < 0.3, father_name))
        return members

    def nuclear(self) -> list[_Spec]:
        rnd = self.rnd
        members, head_name, mother_age, father_name, _ = self.couple(rnd.uniform(22.0, 55.0), 0.75)
        members += self.children(mother_age, father_name, "child")
        if rnd.random() < 0.1:
            # An elderly parent of the head moved in.
            age = min(members[0][2] + rnd.uniform(22.0, 38.0), 99.0)
            sex = "F" if rnd.random() < 0.7 else "M"
            name = head_name if rnd.random() < 0.8 else self.surname()
            members.append(("parent", sex, age, True, name))
        return members

    def single_parent(self) -> list[_Spec]:
        rnd = self.rnd
        sex = "F" if rnd.random() < 0.8 else "M"
        age = rnd.uniform(25.0, 60.0)
        name = self.surname()
        members: list[_Spec] = [("head", sex, age, rnd.random() < 0.8, name)]
        mother_age = age if sex == "F" else age - rnd.uniform(0.0, 6.0)
        members += self.children(mother_age, name, "child")
        if len(members) == 1:
            members.append(("child", "F", rnd.uniform(0.0, 10.0), False, name))
        return members

    def skipped_generation(self) -> list[_Spec]:
        # Grandparents raising grandchildren while the parents work in Bangkok.
        rnd = self.rnd
        head_age = rnd.triangular(50.0, 85.0, 62.0)
        if rnd.random() < 0.6:
            members, head_name, *_ = self.couple(head_age, 0.6)
        else:
            head_name = self.surname()
            sex = "F" if rnd.random() < 0.75 else "M"
            members = [("head", sex, head_age, True, head_name)]
        r = rnd.random()
        count = 1 if r < 0.5 else 2 if r < 0.88 else 3
        oldest = min(17.9, head_age - 36.0)
        for _ in range(count):
            sex = "M" if rnd.random() < 0.51 else "F"
            # Via a son the grandchild carries the head's name; via a daughter, the
            # son-in-law's.
            name = head_name if rnd.random() < 0.6 else self.surname()
            members.append(("grandchild", sex, rnd.uniform(0.0, oldest), False, name))
        if rnd.random() < 0.85:
            # The migrant parents send money home for their children's keep.
            self.remittance = int(rnd.lognormvariate(_LOG_REMITTANCE_PER_CHILD, 0.6) * count)
        return members

    def three_generation(self) -> list[_Spec]:
        rnd = self.rnd
        head_age = rnd.triangular(48.0, 85.0, 62.0)
        if rnd.random() < 0.7:
            members, head_name, mother_age, father_name, _ = self.couple(head_age, 0.7)
        else:
            head_name = father_name = self.surname()
            sex = "F" if rnd.random() < 0.7 else "M"
            members = [("head", sex, head_age, True, head_name)]
            mother_age = head_age
        # The adult child who stayed is more often a daughter (matrilocal residence).
        child_age = max(mother_age - rnd.uniform(20.0, 35.0), 18.0)
        child_sex = "F" if rnd.random() < 0.55 else "M"
        married = rnd.random() < 0.7
        members.append(("child", child_sex, child_age, married, father_name))
        grand_mother_age = child_age
        grand_name = father_name
        if married:
            if child_sex == "M":
                in_law_name = father_name if rnd.random() < 0.85 else self.surname()
                in_law_age = self.spouse_age(child_age, "M")
                members.append(("relative", "F", in_law_age, True, in_law_name))
                grand_mother_age = in_law_age
            else:
                in_law_name = self.surname()
                members.append(("relative", "M", self.spouse_age(child_age, "F"), True, in_law_name))
                grand_name = in_law_name
        r = rnd.random()
        count = 0 if r < 0.25 else 1 if r < 0.65 else 2 if r < 0.91 else 3 if r < 0.985 else 4
        for age in self.births(grand_mother_age, count):
            sex = "M" if rnd.random() < 0.51 else "F"
            members.append(("grandchild", sex, age, False, grand_name))
        if rnd.random() < 0.35:
            age = max(mother_age - rnd.uniform(18.0, 40.0), 15.0)
            sex = "M" if rnd.random() < 0.5 else "F"
            members.append(("child", sex, age, False, father_name))
        return members

    def extended(self) -> list[_Spec]:
        # Siblings, a parent, nephews/nieces or a lodger living with the head.
        rnd = self.rnd
        head_age = rnd.uniform(30.0, 65.0)
        if rnd.random() < 0.5:
            members, head_name, *_ = self.couple(head_age, 0.7)
        else:
            head_name = self.surname()
            sex = "M" if rnd.random() < 0.55 else "F"
            members = [("head", sex, head_age, rnd.random() < 0.4, head_name)]
        start = len(members)
        if rnd.random() < 0.5:
            for _ in range(1 if rnd.random() < 0.7 else 2):
                age = max(head_age + rnd.uniform(-12.0, 12.0), 15.0)
                sex = "M" if rnd.random() < 0.5 else "F"
                married = rnd.random() < 0.4
                name = head_name if rnd.random() < 0.8 else self.surname()
                members.append(("sibling", sex, age, married, name))
        if rnd.random() < 0.4:
            age = min(head_age + rnd.uniform(20.0, 35.0), 99.0)
            sex = "F" if rnd.random() < 0.7 else "M"
            name = head_name if rnd.random() < 0.75 else self.surname()
            members.append(("parent", sex, age, True, name))
        if rnd.random() < 0.3:
            sex = "M" if rnd.random() < 0.5 else "F"
            name = head_name if rnd.random() < 0.5 else self.surname()
            members.append(("relative", sex, rnd.uniform(3.0, 30.0), False, name))
        if rnd.random() < 0.15 or len(members) == start:
            sex = "M" if rnd.random() < 0.6 else "F"
            members.append(("other", sex, rnd.uniform(18.0, 60.0), False, self.surname()))
        return members

    def household(self) -> tuple[list[_Spec], int]:
        """Members (head first) and the remittance the head receives for them."""
        self.remittance = 0
        kind = _pick(self.rnd, _HOUSEHOLD_TYPES)
        members = getattr(self, _COMPOSERS[kind])()
        return members[:MAX_HOUSEHOLD_SIZE], self.remittance


_COMPOSERS = {
    "elderly_alone": "elderly_alone",
    "single_adult": "single_adult",
    "couple": "couple_only",
    "nuclear": "nuclear",
    "single_parent": "single_parent",
    "skipped_generation": "skipped_generation",
    "three_generation": "three_generation",
    "extended": "extended",
}


# ---------------------------------------------------------------------------- IDs
class _IdAllocator:
    """Unique national IDs: a counter per (category, office) through an affine bijection.

    ``n -> (a*n + b) mod 10**7`` is a permutation of 0..10**7-1 whenever a is coprime to
    10 (odd and not a multiple of 5), so distinct counters give distinct serials.
    """

    __slots__ = ("_a", "_next", "_rnd")

    def __init__(self, seed: int) -> None:
        # A separate stream so that ID layout does not shift the population draws.
        self._rnd = random.Random(f"khm-synth-national-id:{seed}")
        a = self._rnd.randrange(1_000_001, _ID_SERIAL_SPACE)
        while a % 2 == 0 or a % 5 == 0:
            a += 1
        self._a = a
        self._next: dict[str, list[int]] = {}  # prefix -> [counter, offset]

    def allocate(self, category: str, office: str) -> str:
        prefix = category + office
        state = self._next.get(prefix)
        if state is None:
            state = self._next[prefix] = [0, self._rnd.randrange(_ID_SERIAL_SPACE)]
        n = state[0]
        if n >= _ID_SERIAL_SPACE:
            raise ValueError(f"more than {_ID_SERIAL_SPACE:,} people under office {office}")
        state[0] = n + 1
        serial = (self._a * n + state[1]) % _ID_SERIAL_SPACE
        return complete_national_id(f"{prefix}{serial:07d}")


# ----------------------------------------------------------------------- attributes
def _education(rnd: random.Random, age: int, birth_year: int) -> str:
    if age < SCHOOL_AGE:
        return "none"
    if age < 12:
        return "primary"
    if age < 15:
        return "lower_secondary"
    if age < 18:
        return _pick(rnd, _EDU_15_17)
    if age < 23:
        return _pick(rnd, _EDU_18_22)
    for last_year, table in _EDU_BY_COHORT:
        if birth_year < last_year:
            return _pick(rnd, table)
    return _pick(rnd, _EDU_BY_COHORT[-1][1])  # pragma: no cover - the last bound is 9999


def _occupation(rnd: random.Random, age: int, education: str, disabled: bool) -> str:
    if age < SCHOOL_AGE:
        return "child"
    if age < 15:
        return "student"
    if age < 18:
        if rnd.random() < 0.8:
            return "student"
        # Early school leavers help on the farm or take casual work, not office jobs.
        return _pick(rnd, _OCC_TEEN)
    if age < 23:
        # Those enrolled in a bachelor's degree are mostly still studying.
        p_student = 0.85 if education == "bachelor" else 0.3
        if rnd.random() < p_student:
            return "student"
    elif age >= 70:
        return _pick(rnd, _OCC_70_PLUS)
    elif age >= 60:
        return _pick(rnd, _OCC_60_69)
    if disabled and rnd.random() < 0.4:
        return "unemployed"
    return _pick(rnd, _OCC_WORKING[_EDU_TIER[education]])


def _old_age_allowance(age: int) -> int:
    # Monthly old-age allowance by age band: 600 / 700 / 800 / 1,000 baht.
    if age < 60:
        return 0
    if age < 70:
        return 7_200
    if age < 80:
        return 8_400
    if age < 90:
        return 9_600
    return 12_000


def _earnings_factor(age: int) -> float:
    # Age-earnings profile: beginners earn less, earnings peak in the 30s and 40s.
    if age < 20:
        return 0.7
    if age < 25:
        return 0.85
    if age < 30:
        return 1.0
    if age < 50:
        return 1.12
    if age < 60:
        return 1.05
    return 1.0


_EARNINGS_BY_AGE = tuple(_earnings_factor(a) for a in range(121))
_OLD_AGE_ALLOWANCE = tuple(_old_age_allowance(a) for a in range(121))


def _income(rnd: random.Random, occupation: str, age: int, disabled: bool) -> int:
    mu, sigma, p_zero = _INCOME_LOG[occupation]
    income = 0.0
    # School children earn nothing themselves; older students sometimes work part-time.
    if p_zero < 1.0 and age >= 15 and rnd.random() >= p_zero:
        income = rnd.lognormvariate(mu, sigma) * _EARNINGS_BY_AGE[age]
    if occupation != "government":  # civil-service pensioners get no old-age allowance
        income += _OLD_AGE_ALLOWANCE[age]
    if disabled:
        income += 9_600  # disability allowance, 800 baht/month
    if age >= 18 and income < 100_000 and rnd.random() < 0.6:
        # State welfare card: 300 baht/month below 30,000 baht/yr, 200 baht up to 100,000.
        income += 3_600 if income < 30_000 else 2_400
    if age < SCHOOL_AGE and rnd.random() < 0.6:
        income += 7_200  # child support grant for low-income families, 600 baht/month
    return int(round(income, -2))


# ------------------------------------------------------------------------ generator
def _apportion(people: int, weights: Sequence[float]) -> list[int]:
    """Split `people` by weight with the largest-remainder method (exact total)."""
    total = float(sum(weights))
    raw = [people * w / total for w in weights]
    quotas = [int(x) for x in raw]
    short = people - sum(quotas)
    # Ties go to the earlier village so that the split is deterministic.
    order = sorted(range(len(raw)), key=lambda i: (quotas[i] - raw[i], i))
    for i in order[:short]:
        quotas[i] += 1
    return quotas


def _validate(villages: Sequence[VillageWeight], people: int) -> None:
    if people < 0:
        raise ValueError("people must be >= 0")
    seen: set[str] = set()
    for v in villages:
        if len(v.code) != 8 or not v.code.isdigit():
            raise ValueError(f"not an 8-digit village code: {v.code!r}")
        if v.code in seen:
            raise ValueError(f"duplicate village code: {v.code}")
        seen.add(v.code)
        if not v.weight >= 0.0 or math.isinf(v.weight):  # also rejects NaN
            raise ValueError(f"bad weight for village {v.code}: {v.weight!r}")
    if people and not any(v.weight > 0.0 for v in villages):
        raise ValueError("need at least one village with a positive weight")


def generate(
    *,
    villages: Sequence[VillageWeight],
    people: int,
    seed: int,
    as_of: datetime.date = REFERENCE_DATE,
) -> Iterator[SynthHousehold]:
    """Yield households, village by village, holding exactly ``people`` people in total.

    Arguments are checked eagerly (this is not itself a generator function), so a bad
    village list fails at the call, not at the first ``next()``.
    """
    villages = list(villages)
    _validate(villages, people)
    if people == 0:
        return iter(())
    quotas = _apportion(people, [v.weight for v in villages])
    return _generate(villages, quotas, seed, as_of)


def _generate(
    villages: list[VillageWeight], quotas: list[int], seed: int, as_of: datetime.date
) -> Iterator[SynthHousehold]:
    male, female, family = _names()
    rnd = random.Random(seed)
    composer = _Composer(rnd, family)
    ids = _IdAllocator(seed)
    as_of_ord = as_of.toordinal()
    as_of_md = (as_of.month, as_of.day)
    from_ordinal = datetime.date.fromordinal
    choice = rnd.choice
    rand = rnd.random
    illness_rate, disability_rate = _ILLNESS_RATE, _DISABILITY_RATE

    for village, quota in zip(villages, quotas, strict=True):
        code = village.code
        office = code[:4]
        remaining = quota
        seq = 0
        house = 0
        sub = 0
        while remaining > 0:
            specs, remittance = composer.household()
            specs = specs[:remaining]
            remaining -= len(specs)
            seq += 1
            # House numbers run up the village; some plots carry a second house built
            # for a grown child ("45/1"), and a few numbers were retired.
            if house and rand() < 0.08:
                sub += 1
                house_no = f"{house}/{sub}"
            else:
                house += 2 if rand() < 0.03 else 1
                sub = 0
                house_no = str(house)

            members: list[SynthPerson] = []
            for relation, sex, age_f, married, last_name in specs:
                birth = from_ordinal(as_of_ord - int(age_f * _DAYS_PER_YEAR))
                # Exact age in completed years at as_of drives every age rule below.
                age = as_of.year - birth.year - ((birth.month, birth.day) > as_of_md)
                if sex == "M":
                    first_name = choice(male)
                    title = TITLE_BOY if age < CHILD_TITLE_AGE else TITLE_MR
                elif age < CHILD_TITLE_AGE:
                    first_name = choice(female)
                    title = TITLE_GIRL
                else:
                    first_name = choice(female)
                    title = TITLE_MRS if married and rand() < 0.9 else TITLE_MISS
                disability = ""
                if rand() < disability_rate[age]:
                    if age < 15:
                        disability = _pick(rnd, _DISABILITY_CHILD)
                    elif age < 60:
                        disability = _pick(rnd, _DISABILITY_ADULT)
                    else:
                        disability = _pick(rnd, _DISABILITY_OLD)
                illness = ""
                if rand() < illness_rate[age]:
                    illness = _pick(rnd, _ILLNESS_YOUNG if age < 30 else _ILLNESS_ADULT)
                education = _education(rnd, age, birth.year)
                occupation = _occupation(rnd, age, education, bool(disability))
                income = _income(rnd, occupation, age, bool(disability))
                if remittance:
                    income += round(remittance, -2)
                    remittance = 0  # only the head (the first member) receives it
                members.append(
                    SynthPerson(
                        national_id=ids.allocate("1" if birth.year >= ID_CENSUS_YEAR else "3", office),
                        title=title,
                        first_name=first_name,
                        last_name=last_name,
                        sex=sex,
                        birth_date=birth,
                        relation=relation,
                        disability=disability,
                        chronic_illness=illness,
                        education=education,
                        occupation=occupation,
                        income_year=income,
                    )
                )
            yield SynthHousehold(
                code=f"HH{code}{seq:05d}",
                village_code=code,
                house_no=house_no,
                members=tuple(members),
            )


def village_weights_from_population(
    villages: Sequence[tuple[str, str]], subdistrict_population: Mapping[str, int]
) -> list[VillageWeight]:
    """Weights from subdistrict populations, split equally among each one's villages.

    ``villages`` holds (village_code, subdistrict_code) pairs. DOPA publishes population
    per subdistrict but not per village, hence the equal split. A subdistrict missing
    from the mapping gets the median subdistrict population (1 if the mapping is empty,
    which gives every subdistrict the same total).
    """
    median = float(statistics.median(subdistrict_population.values())) if subdistrict_population else 1.0
    per_subdistrict: dict[str, int] = {}
    for _, subdistrict in villages:
        per_subdistrict[subdistrict] = per_subdistrict.get(subdistrict, 0) + 1
    return [
        VillageWeight(
            code=code,
            weight=float(subdistrict_population.get(subdistrict, median)) / per_subdistrict[subdistrict],
        )
        for code, subdistrict in villages
    ]
