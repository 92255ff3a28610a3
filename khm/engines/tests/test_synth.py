"""Tests for the synthetic population generator (pure Python, no database)."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from pythainlp.corpus import thai_family_names, thai_female_names, thai_male_names

from khm.engines import synth
from khm.engines.ids import is_valid_national_id
from khm.engines.synth import (
    DISABILITIES,
    EDUCATION,
    ILLNESSES,
    MAX_HOUSEHOLD_SIZE,
    OCCUPATIONS,
    REFERENCE_DATE,
    RELATIONS,
    SynthHousehold,
    SynthPerson,
    VillageWeight,
    generate,
    village_weights_from_population,
)

# Villages in three different districts (01, 07, 18) with unequal weights.
VILLAGES = (
    VillageWeight("46010101", 1.0),
    VillageWeight("46010102", 2.0),
    VillageWeight("46070301", 3.0),
    VillageWeight("46180205", 4.0),
)
POVERTY_LINE = 38_000  # BMN (จปฐ.) line, baht per person per year


def age_at(person: SynthPerson, when: datetime.date = REFERENCE_DATE) -> int:
    b = person.birth_date
    return when.year - b.year - ((when.month, when.day) < (b.month, b.day))


@pytest.fixture(scope="module")
def households() -> list[SynthHousehold]:
    return list(generate(villages=VILLAGES, people=20_000, seed=42))


@pytest.fixture(scope="module")
def people(households: list[SynthHousehold]) -> list[SynthPerson]:
    return [p for h in households for p in h.members]


def test_same_seed_gives_identical_output() -> None:
    first = list(generate(villages=VILLAGES, people=3_000, seed=7))
    second = list(generate(villages=VILLAGES, people=3_000, seed=7))
    assert first == second


def test_different_seed_gives_different_output() -> None:
    a = list(generate(villages=VILLAGES, people=3_000, seed=7))
    b = list(generate(villages=VILLAGES, people=3_000, seed=8))
    assert [p.national_id for h in a for p in h.members] != [p.national_id for h in b for p in h.members]
    assert [p.first_name for h in a for p in h.members] != [p.first_name for h in b for p in h.members]


def test_output_does_not_depend_on_hash_randomisation() -> None:
    # The name corpora are sets; their iteration order changes with PYTHONHASHSEED.
    code = (
        "import hashlib\n"
        "from khm.engines.synth import VillageWeight, generate\n"
        "hh = list(generate(villages=[VillageWeight('46010101', 1.0)], people=300, seed=3))\n"
        "print(hashlib.sha256(repr(hh).encode()).hexdigest())\n"
    )
    root = Path(__file__).resolve().parents[3]
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    local = list(generate(villages=[VillageWeight("46010101", 1.0)], people=300, seed=3))
    digests.add(hashlib.sha256(repr(local).encode()).hexdigest())
    assert len(digests) == 1


@pytest.mark.parametrize("count", [1, 2, 5, 17, 1_001, 4_321])
def test_total_people_is_exact(count: int) -> None:
    hh = list(generate(villages=VILLAGES, people=count, seed=1))
    assert sum(len(h.members) for h in hh) == count
    assert all(h.members for h in hh)


def test_zero_people_gives_no_households() -> None:
    assert list(generate(villages=VILLAGES, people=0, seed=1)) == []


def test_people_total_in_fixture(people: list[SynthPerson]) -> None:
    assert len(people) == 20_000


def test_national_ids_valid_unique_and_structured(people: list[SynthPerson], households: list[SynthHousehold]) -> None:
    ids = [p.national_id for p in people]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 13 and i.isdigit() and is_valid_national_id(i) for i in ids)
    for h in households:
        for p in h.members:
            # Digits 2-5: registration office = province 46 + the village's district.
            assert p.national_id[1:5] == h.village_code[:4]
            # Digit 1: category 1 from 1984 births on, category 3 for the 1984 census.
            assert p.national_id[0] == ("1" if p.birth_date.year >= 1984 else "3")
    assert {i[0] for i in ids} == {"1", "3"}


def test_national_ids_unique_when_one_office_is_crowded() -> None:
    hh = generate(villages=[VillageWeight("46050101", 1.0)], people=60_000, seed=11)
    ids = [p.national_id for h in hh for p in h.members]
    assert len(set(ids)) == 60_000


def test_names_come_from_the_pythainlp_corpora(people: list[SynthPerson]) -> None:
    male, female, family = thai_male_names(), thai_female_names(), thai_family_names()
    for p in people:
        assert p.first_name in (male if p.sex == "M" else female)
        assert p.last_name in family
    # Uniform draws from thousands of names: plenty of distinct ones.
    assert len({p.first_name for p in people}) > 3_000
    assert len({p.last_name for p in people}) > 4_000


def test_household_members_mostly_share_the_head_family_name(households: list[SynthHousehold]) -> None:
    others = [(h.members[0].last_name, p) for h in households for p in h.members[1:]]
    same = sum(head_name == p.last_name for head_name, p in others)
    assert same / len(others) > 0.55
    children = [(h.members[0], p) for h in households for p in h.members[1:] if p.relation == "child"]
    # A child has the head's name unless the head is a woman married to a man who kept his.
    male_head_children = [(head, c) for head, c in children if head.sex == "M"]
    assert all(c.last_name == head.last_name for head, c in male_head_children)


def test_head_first_and_an_adult(households: list[SynthHousehold]) -> None:
    for h in households:
        relations = [p.relation for p in h.members]
        assert relations[0] == "head"
        assert relations.count("head") == 1
        assert age_at(h.members[0]) >= 18
        assert relations.count("spouse") <= 1
        assert 1 <= len(h.members) <= MAX_HOUSEHOLD_SIZE


def test_household_codes_and_house_numbers(households: list[SynthHousehold]) -> None:
    codes = [h.code for h in households]
    assert len(set(codes)) == len(codes)
    assert all(c.startswith("HH" + h.village_code) for c, h in zip(codes, households, strict=True))
    numbers = [(h.village_code, h.house_no) for h in households]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"[1-9]\d*(/[1-9]\d*)?", no) for _, no in numbers)
    assert any("/" in no for _, no in numbers), "no sub-numbered houses like 45/1"


def test_attribute_codes_are_from_the_published_vocabularies(people: list[SynthPerson]) -> None:
    for p in people:
        assert p.sex in ("M", "F")
        assert p.relation in RELATIONS
        assert p.disability == "" or p.disability in DISABILITIES
        assert p.chronic_illness == "" or p.chronic_illness in ILLNESSES
        assert p.education in EDUCATION
        assert p.occupation in OCCUPATIONS
        assert p.income_year >= 0
        assert p.birth_date <= REFERENCE_DATE
        assert 0 <= age_at(p) <= 100


def test_titles_match_sex_and_age(people: list[SynthPerson]) -> None:
    for p in people:
        child = age_at(p) < 15
        if p.sex == "M":
            assert p.title == ("เด็กชาย" if child else "นาย")
        else:
            assert p.title == "เด็กหญิง" if child else p.title in ("นาง", "นางสาว")
    spouses = [p for p in people if p.relation == "spouse" and p.sex == "F"]
    assert sum(p.title == "นาง" for p in spouses) / len(spouses) > 0.8
    daughters = [p for p in people if p.relation == "child" and p.sex == "F" and 15 <= age_at(p) < 25]
    assert sum(p.title == "นางสาว" for p in daughters) / len(daughters) > 0.8


def test_spread_over_villages_follows_the_weights(households: list[SynthHousehold]) -> None:
    per_village = Counter()
    for h in households:
        per_village[h.village_code] += len(h.members)
    total_weight = sum(v.weight for v in VILLAGES)
    for v in VILLAGES:
        assert per_village[v.code] == pytest.approx(20_000 * v.weight / total_weight, abs=1)


def test_zero_weight_village_gets_nobody() -> None:
    villages = [VillageWeight("46010101", 0.0), VillageWeight("46010102", 1.0)]
    hh = list(generate(villages=villages, people=500, seed=2))
    assert {h.village_code for h in hh} == {"46010102"}


def test_mean_household_size_is_rural_northeast(households: list[SynthHousehold]) -> None:
    sizes = [len(h.members) for h in households]
    assert 2.6 <= statistics.mean(sizes) <= 3.6
    counts = Counter(sizes)
    # One-person (mostly elderly) households are common, very large ones rare.
    assert 0.08 < counts[1] / len(sizes) < 0.25
    assert sum(n for size, n in counts.items() if size >= 7) / len(sizes) < 0.05


def test_skipped_generation_households_exist(households: list[SynthHousehold]) -> None:
    skipped = [
        h
        for h in households
        if any(p.relation == "grandchild" for p in h.members)
        and not any(p.relation == "child" and 18 <= age_at(p) < 60 for p in h.members)
    ]
    assert len(skipped) / len(households) > 0.03


def test_ageing_population(people: list[SynthPerson]) -> None:
    ages = [age_at(p) for p in people]
    n = len(ages)
    assert 0.16 <= sum(a >= 60 for a in ages) / n <= 0.26
    assert 0.11 <= sum(a < 15 for a in ages) / n <= 0.20
    males = sum(p.sex == "M" for p in people) / n
    assert 0.46 <= males <= 0.52  # Kalasin 2021: 49.4 % male


def test_elderly_living_alone_are_mostly_women(households: list[SynthHousehold]) -> None:
    alone = [h.members[0] for h in households if len(h.members) == 1 and age_at(h.members[0]) >= 60]
    assert len(alone) > 100
    assert sum(p.sex == "F" for p in alone) / len(alone) > 0.55


def test_children_education_and_occupation_fit_their_age(people: list[SynthPerson]) -> None:
    for p in people:
        age = age_at(p)
        if age < 6:
            assert (p.education, p.occupation) == ("none", "child")
        elif age < 12:
            assert (p.education, p.occupation) == ("primary", "student")
        elif age < 15:
            assert (p.education, p.occupation) == ("lower_secondary", "student")
        if p.occupation in ("government", "company"):
            assert age >= 18
        if p.occupation == "elderly_dependent":
            assert age >= 60
        if p.education in ("bachelor", "higher"):
            assert age >= 18


def test_older_cohorts_have_less_schooling(people: list[SynthPerson]) -> None:
    def share_beyond_primary(group: list[SynthPerson]) -> float:
        return sum(p.education not in ("none", "primary") for p in group) / len(group)

    old = [p for p in people if age_at(p) >= 70]
    young = [p for p in people if 25 <= age_at(p) < 40]
    assert share_beyond_primary(young) > share_beyond_primary(old) + 0.3


def test_incomes_are_skewed_and_mostly_zero_for_children(people: list[SynthPerson]) -> None:
    kids = [p for p in people if age_at(p) < 15]
    assert sum(p.income_year == 0 for p in kids) / len(kids) > 0.6
    adults = [p.income_year for p in people if age_at(p) >= 15]
    assert 40_000 <= statistics.median(adults) <= 65_000
    assert statistics.mean(adults) > statistics.median(adults)  # right-skewed
    assert any(i == 0 for i in adults)
    working = [p for p in people if 25 <= age_at(p) < 60]
    by_occupation = {
        occ: statistics.median(p.income_year for p in working if p.occupation == occ)
        for occ in ("farmer", "general_labourer", "company", "government")
    }
    assert by_occupation["farmer"] < by_occupation["general_labourer"] < by_occupation["company"]
    assert by_occupation["company"] < by_occupation["government"]


def test_share_of_households_under_the_bmn_line(households: list[SynthHousehold]) -> None:
    poor = sum(sum(p.income_year for p in h.members) / len(h.members) < POVERTY_LINE for h in households)
    assert 0.10 <= poor / len(households) <= 0.25


def test_disability_and_chronic_illness_prevalence(people: list[SynthPerson]) -> None:
    n = len(people)
    assert 0.015 <= sum(bool(p.disability) for p in people) / n <= 0.04

    def illness_rate(lo: int, hi: int) -> float:
        group = [p for p in people if lo <= age_at(p) < hi]
        return sum(bool(p.chronic_illness) for p in group) / len(group)

    assert illness_rate(0, 15) < illness_rate(15, 45) < illness_rate(45, 60) < illness_rate(60, 200)
    assert illness_rate(60, 200) > 0.25


def test_as_of_moves_the_population_in_time() -> None:
    when = datetime.date(2030, 6, 15)
    hh = list(generate(villages=VILLAGES, people=2_000, seed=5, as_of=when))
    for p in (p for h in hh for p in h.members):
        assert p.birth_date <= when
        assert (p.title in ("เด็กชาย", "เด็กหญิง")) == (age_at(p, when) < 15)


@pytest.mark.parametrize(
    ("villages", "people"),
    [
        (VILLAGES, -1),
        ([VillageWeight("4601010", 1.0)], 10),
        ([VillageWeight("46010101", 1.0), VillageWeight("46010101", 2.0)], 10),
        ([VillageWeight("46010101", 0.0)], 10),
        ([VillageWeight("46010101", -1.0)], 10),
        ([VillageWeight("46010101", float("nan"))], 10),
        ([], 10),
    ],
)
def test_bad_arguments_fail_at_the_call(villages: list[VillageWeight], people: int) -> None:
    with pytest.raises(ValueError):
        generate(villages=villages, people=people, seed=1)  # no next(): checked eagerly


def test_village_weights_split_subdistrict_population_equally() -> None:
    villages = [
        ("46010101", "460101"),
        ("46010102", "460101"),
        ("46010201", "460102"),
        ("46010301", "460103"),  # not in the mapping: gets the median
        ("46010302", "460103"),
    ]
    population = {"460101": 6_000, "460102": 3_000, "460199": 10_000}
    weights = village_weights_from_population(villages, population)
    assert [w.code for w in weights] == [code for code, _ in villages]
    assert [w.weight for w in weights] == [3_000.0, 3_000.0, 3_000.0, 3_000.0, 3_000.0]


def test_village_weights_drive_generate() -> None:
    villages = [("46010101", "460101"), ("46010102", "460101"), ("46010201", "460102")]
    weights = village_weights_from_population(villages, {"460101": 2_000, "460102": 6_000})
    assert [w.weight for w in weights] == [1_000.0, 1_000.0, 6_000.0]
    per_village = Counter()
    for h in generate(villages=weights, people=8_000, seed=3):
        per_village[h.village_code] += len(h.members)
    assert per_village == {"46010101": 1_000, "46010102": 1_000, "46010201": 6_000}


def test_engine_does_not_import_django() -> None:
    source = Path(synth.__file__).read_text(encoding="utf-8")
    imports = [line for line in source.splitlines() if re.match(r"\s*(from|import)\s", line)]
    assert not [line for line in imports if "django" in line]
    assert all(
        "khm" not in line or line.strip().startswith(("from khm.engines", "import khm.engines")) for line in imports
    )
