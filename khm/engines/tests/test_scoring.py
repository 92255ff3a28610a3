"""Household assessment scoring (khm.engines.scoring) against the shipped instruments.

Every expected number below is worked by hand in a comment from the instrument JSON files
(five-capitals.v1, bmn-2560.v1, needs.v1), never by calling the code under test. Reading the
JSON is fine: it is the data an officer would check against the printed questionnaire.

Maximum points per capital (best option of every item, from five-capitals.v1.json):
  human     = h_education 4 + h_literacy 2 + h_health 3 + h_skills 3 (any_full)
              + h_work 3 + h_income_month 3 (top band) + h_welfare 2               = 20
  physical  = p_tenure 3 + p_house_condition 3 + p_hygiene 4 (1 per option, no cap)
              + p_electricity 3 + p_water 3 + p_phone 3 + p_road 3 + p_digital 3   = 25
  financial = f_income_year 3 + f_balance 3 + f_savings 3 + f_debt 3
              + f_assets 3 (max_points) + f_credit 3 (any_full)                    = 18
  natural   = n_land 3 + n_farm_water 3 + n_land_problems 3 (start) + n_food 3
              + n_income 3 + n_disaster 2                                          = 17
  social    = s_groups 3 (max_points) + s_activities 3 + s_mutual_help 3
              + s_welfare_fund 3 + s_leadership 3                                  = 15
Score on the 1–4 scale: X = 1 + percent/100 × 3, percent and X rounded to 6 decimals.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from khm.engines.scoring import (
    Instruments,
    Problem,
    canonical_json,
    check_answers,
    classify,
    deprivations,
    digest,
    mpi_score,
    score,
    score_capitals,
    suggest_needs,
    tpmap_flags,
    validate,
)

INSTRUMENTS_DIR = Path(__file__).parents[2] / "assessment" / "instruments"


def load(name: str) -> dict[str, Any]:
    return json.loads((INSTRUMENTS_DIR / name).read_text(encoding="utf-8"))


CAPITALS = load("five-capitals.v1.json")
BMN = load("bmn-2560.v1.json")
NEEDS = load("needs.v1.json")
ALL = Instruments(CAPITALS, BMN, NEEDS)


def approx(x: float) -> Any:
    return pytest.approx(x, abs=1e-6)


# --------------------------------------------------------------------------- households

# A fully answered, moderately poor household. Points per item in the comments.
BASE_ANSWERS: dict[str, Any] = {
    # human: 1 + 1 + 2 + 3 + 2 + 1 + 1 = 11 of 20
    "h_education": "primary",  # 1
    "h_literacy": "some",  # 1
    "h_health": "chronic",  # 2
    "h_skills": ["farming"],  # any_full → 3
    "h_work": "some",  # 2
    "h_income_month": 1500,  # band from 1000 → 1
    "h_welfare": "partly",  # 1
    # physical: 3 + 1 + 2 + 3 + 1 + 1 + 1 + 1 = 13 of 25
    "p_tenure": "own_house_land",  # 3
    "p_house_condition": "fair",  # 1
    "p_hygiene": ["toilet", "waste"],  # 1 + 1 = 2
    "p_electricity": "own_meter",  # 3
    "p_water": "partly",  # 1
    "p_phone": "no_internet",  # 1
    "p_road": "dirt",  # 1
    "p_digital": "with_help",  # 1
    # financial: 1 + 0 + 1 + 2 + 1 + 3 = 8 of 18
    "f_income_year": 20000,  # exactly the 20,000 band's min → 1
    "f_balance": "deficit",  # 0
    "f_savings": "irregular",  # 1
    "f_debt": "manageable",  # 2
    "f_assets": ["livestock"],  # 1
    "f_credit": ["village_fund", "baac"],  # any_full → 3
    # natural: 2 + 1 + 1 + 2 + 0 + 1 = 7 of 17
    "n_land": "reform",  # 2
    "n_farm_water": "rain",  # 1
    "n_land_problems": ["drought", "poor_soil"],  # 3 − 2 = 1
    "n_food": "some",  # 2
    "n_income": "none",  # 0
    "n_disaster": "sometimes",  # 1
    # social: 2 + 2 + 2 + 0 + 2 = 8 of 15
    "s_groups": ["village_fund", "elderly"],  # 2
    "s_activities": "sometimes",  # 2
    "s_mutual_help": "sometimes",  # 2
    "s_welfare_fund": "no",  # 0
    "s_leadership": "member",  # 2
}
# human     11/20 = 55 %         → 1 + 0.55 × 3       = 2.65
# physical  13/25 = 52 %         → 1 + 0.52 × 3       = 2.56
# financial  8/18 = 44.444444 %  → 1 + 0.44444444 × 3 = 2.33333332 → 2.333333
# natural    7/17 = 41.176471 %  → 1 + 0.41176471 × 3 = 2.23529413 → 2.235294
# social     8/15 = 53.333333 %  → 1 + 0.53333333 × 3 = 2.59999999 → 2.6
# overall = (2.65 + 2.56 + 2.333333 + 2.235294 + 2.6) / 5 = 12.378627 / 5 = 2.475725
#   → 1.75 ≤ 2.475725 < 2.5 → level 2; physical 2.56 is not below 1.75 or 2.5 → no cap.

HOUSEHOLD_CODES = [
    "bmn04", "bmn05", "bmn08", "bmn09", "bmn10", "bmn11", "bmn12", "bmn13",
    "bmn14", "bmn22", "bmn23", "bmn24", "bmn25", "bmn30", "bmn31",
]  # fmt: skip
PERSON_CODES = [
    "bmn01", "bmn02", "bmn03", "bmn06", "bmn07", "bmn15", "bmn16", "bmn17",
    "bmn18", "bmn19", "bmn20", "bmn21", "bmn26", "bmn27", "bmn28", "bmn29",
]  # fmt: skip
# The 17 TPMAP indicators, by dimension, with the default MPI weights (0.2 per dimension).
TPMAP = {
    "health": ["bmn01", "bmn04", "bmn05", "bmn07"],  # 0.2 / 4 = 0.05 each
    "living": ["bmn08", "bmn09", "bmn10", "bmn11"],  # 0.05 each
    "education": ["bmn15", "bmn16", "bmn17", "bmn19"],  # 0.05 each
    "income": ["bmn20", "bmn21", "bmn22"],  # 0.2 / 3 = 0.0666667 each
    "access": ["bmn27", "bmn28"],  # 0.2 / 2 = 0.1 each
}
WEIGHTED = [c for codes in TPMAP.values() for c in codes]


def member(key: str, age: int | None, **kw: Any) -> dict[str, Any]:
    m = {"key": key, "age": age, "sex": "F", "relation": "member", "disabled": False, "chronic": False}
    m["welfare_card"] = False
    m.update(kw)
    return m


def family() -> list[dict[str, Any]]:
    """Head 45 (card), spouse 47 (no card), grandmother 72 (card), disabled son 12 (no card)."""
    return [
        member("P1", 45, relation="head", welfare_card=True),
        member("P2", 47, sex="M", relation="spouse"),
        member("P3", 72, relation="parent", welfare_card=True),
        member("P4", 12, sex="M", relation="child", disabled=True),
    ]


def assessment(
    members: list[dict[str, Any]] | None = None,
    *,
    hh: dict[str, str] | None = None,
    persons: dict[str, dict[str, str]] | None = None,
    income: dict[str, Any] | None = None,
    capitals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every BMN question answered "pass" (household-level ones except bmn22, which is
    computed from income; every person-level one for every member — answers for indicators
    that do not apply to a member are ignored), then the overrides ``hh`` / ``persons``."""
    members = family() if members is None else members
    hh_answers: dict[str, str] = {c: "pass" for c in HOUSEHOLD_CODES if c != "bmn22"}
    hh_answers.update(hh or {})
    p_answers = {m["key"]: dict.fromkeys(PERSON_CODES, "pass") for m in members}
    for key, answers in (persons or {}).items():
        p_answers.setdefault(key, {}).update(answers)
    return {
        "members": members,
        "capitals": {**BASE_ANSWERS, **(capitals or {})},
        "bmn": {"household": hh_answers, "persons": p_answers},
        # default: 120,000 + 20,000 + 12,000 + 8,000 = 160,000 / 4 = 40,000 ≥ 38,000 → not deprived
        "income": income
        if income is not None
        else {"main": 120000, "secondary": 20000, "other": 12000, "home_produce": 8000},
    }


def capital_result(**overrides: Any) -> dict[str, Any]:
    return score_capitals(CAPITALS, {**BASE_ANSWERS, **overrides})


def capitals_with(human: Any, physical: Any, financial: Any, natural: Any, social: Any) -> dict[str, Any]:
    return {
        "human": {"score": human},
        "physical": {"score": physical},
        "financial": {"score": financial},
        "natural": {"score": natural},
        "social": {"score": social},
    }


def paths(problems: list[Problem]) -> list[str]:
    return [p.path for p in problems]


# --------------------------------------------------------------------------- the instruments


def test_shipped_instruments_are_valid() -> None:
    assert validate(CAPITALS) == []
    assert validate(BMN) == []
    assert validate(NEEDS) == []


def test_bmn_instrument_matches_the_published_structure() -> None:
    """31 BMN indicators (15 household-level, 16 person-level); 17 of them are TPMAP
    indicators in 5 dimensions; MPI weights 0.2 per dimension, equal inside."""
    inds = {i["code"]: i for i in BMN["indicators"]}
    assert len(inds) == 31
    assert sorted(c for c, i in inds.items() if i["level"] == "household") == HOUSEHOLD_CODES
    assert sorted(c for c, i in inds.items() if i["level"] == "person") == PERSON_CODES
    tpmap = {c: i["dimension"] for c, i in inds.items() if i.get("dimension")}
    assert tpmap == {c: dim for dim, codes in TPMAP.items() for c in codes}
    weights = BMN["mpi"]["weights"]["dimensions"]
    for dim, codes in TPMAP.items():
        assert sorted(weights[dim]) == codes
        assert sum(weights[dim].values()) == approx(0.2)
        assert all(w == approx(0.2 / len(codes)) for w in weights[dim].values())
    assert BMN["mpi"]["k"] == approx(1 / 3)
    assert BMN["income"]["threshold"] == 38000


# --------------------------------------------------------------------------- 1. capitals


def test_base_household_capital_scores_by_hand() -> None:
    caps = score_capitals(CAPITALS, BASE_ANSWERS)
    expected = {
        # code: (points, max, items, percent, score) — see the comment under BASE_ANSWERS
        "human": (11, 20, 7, 55.0, 2.65),
        "physical": (13, 25, 8, 52.0, 2.56),
        "financial": (8, 18, 6, 44.444444, 2.333333),
        "natural": (7, 17, 6, 41.176471, 2.235294),
        "social": (8, 15, 5, 53.333333, 2.6),
    }
    assert set(caps) == set(expected)
    for code, (points, mx, items, pct, sc) in expected.items():
        got = caps[code]
        assert (got["points"], got["max"], got["answered"], got["items"]) == (points, mx, items, items), code
        assert got["percent"] == approx(pct), code
        assert got["score"] == approx(sc), code


def test_base_household_overall_and_level() -> None:
    result = score(ALL, assessment())
    # overall = 12.378627 / 5 = 2.475725 → level 2 (below the 2.5 cut point), no cap.
    assert result["overall"] == approx(2.475725)
    assert result["level"] == 2
    assert result["basis"] == "overall"
    assert result["capped_by"] is None


@pytest.mark.parametrize(
    ("skills", "human_points"),
    [
        (["farming"], 11),  # base: any skill → full 3 points
        (["handicraft"], 11),  # a different single skill → also full 3
        (["farming", "trade", "service"], 11),  # three skills → still 3, not 3 × 3 (no summing)
        (["none"], 8),  # only "none" → 0: 11 − 3 = 8
    ],
)
def test_any_full_h_skills(skills: list[str], human_points: int) -> None:
    human = capital_result(h_skills=skills)["human"]
    assert human["points"] == human_points
    assert human["max"] == 20


def test_any_full_none_only_gives_zero_and_lowers_the_score() -> None:
    human = capital_result(h_skills=["none"])["human"]
    # 8 / 20 = 40 % → 1 + 0.40 × 3 = 2.2
    assert human["percent"] == approx(40.0)
    assert human["score"] == approx(2.2)


@pytest.mark.parametrize(
    ("credit", "financial_points"),
    [
        (["commercial"], 8),  # any source → 3 (base has 3 as well)
        (["village_fund", "coop", "baac", "state_bank", "commercial"], 8),  # all five → still 3
        (["none"], 5),  # no source → 0: 8 − 3 = 5
    ],
)
def test_any_full_f_credit(credit: list[str], financial_points: int) -> None:
    fin = capital_result(f_credit=credit)["financial"]
    assert fin["points"] == financial_points
    assert fin["max"] == 18


@pytest.mark.parametrize(
    ("problems", "natural_points"),
    [
        (["none"], 9),  # no problem → 3; natural = 7 − 1 + 3 = 9
        (["flood"], 8),  # 3 − 1 = 2; natural = 7 − 1 + 2 = 8
        (["drought", "poor_soil"], 7),  # base: 3 − 2 = 1
        (["flood", "drought", "saline"], 6),  # 3 − 3 = 0; natural = 7 − 1 + 0 = 6
        (["flood", "drought", "saline", "poor_soil", "dispute"], 6),  # 3 − 5 = −2 → floor 0
    ],
)
def test_start_minus_n_land_problems(problems: list[str], natural_points: int) -> None:
    nat = capital_result(n_land_problems=problems)["natural"]
    assert nat["points"] == natural_points
    assert nat["max"] == 17  # the item's max stays its start (3) whatever is answered


def test_sum_with_max_points_cap() -> None:
    # f_assets: all four assets are 4 × 1 = 4 points, capped at max_points 3;
    # financial = 8 − 1 (base livestock) + 3 = 10 of 18.
    fin = capital_result(f_assets=["machine", "livestock", "vehicle", "tools"])["financial"]
    assert (fin["points"], fin["max"]) == (10, 18)
    # f_assets answered with nothing ticked: 0 points; financial = 8 − 1 = 7 of 18.
    assert capital_result(f_assets=[])["financial"]["points"] == 7
    # s_groups: six groups = 6 points, capped at 3; social = 8 − 2 + 3 = 9 of 15.
    soc = capital_result(s_groups=["village_fund", "savings", "occupation", "enterprise", "elderly", "volunteer"])[
        "social"
    ]
    assert (soc["points"], soc["max"]) == (9, 15)
    # 9 / 15 = 60 % → 1 + 0.6 × 3 = 2.8
    assert soc["score"] == approx(2.8)
    # p_hygiene has no max_points: all four = 4 points (its max is 4); physical = 13 − 2 + 4 = 15 of 25.
    phys = capital_result(p_hygiene=["toilet", "waste", "tidy", "no_breeding"])["physical"]
    assert (phys["points"], phys["max"]) == (15, 25)


@pytest.mark.parametrize(
    ("income", "band_points"),
    [
        (0, 0),
        (999, 0),
        (1000, 1),  # exactly the band's min
        (1999.99, 1),
        (2000, 2),  # exactly the band's min
        (3199, 2),
        (3200, 3),  # exactly the band's min
        (25000, 3),
    ],
)
def test_number_bands_h_income_month(income: float, band_points: int) -> None:
    # human = 11 − 1 (base 1,500 baht → 1) + band points
    assert capital_result(h_income_month=income)["human"]["points"] == 10 + band_points


@pytest.mark.parametrize(
    ("income", "band_points"),
    [
        (0, 0),
        (19999, 0),
        (20000, 1),  # exactly the band's min
        (37999.99, 1),
        (38000, 2),  # exactly the band's min (the BMN threshold)
        (59999, 2),
        (60000, 3),  # exactly the band's min
    ],
)
def test_number_bands_f_income_year(income: float, band_points: int) -> None:
    # financial = 8 − 1 (base 20,000 baht → 1) + band points
    assert capital_result(f_income_year=income)["financial"]["points"] == 7 + band_points


def test_max_counts_only_answered_items() -> None:
    """Physical has 8 items; 4 answered is exactly half (min_answered_share 0.5) → scored.
    p_tenure 3 + p_house_condition 1 (fair) + p_hygiene 2 + p_electricity 3 = 9 points of
    max 3 + 3 + 4 + 3 = 13 → 69.230769 % → 1 + 0.69230769 × 3 = 3.07692307 → 3.076923."""
    answers = {k: v for k, v in BASE_ANSWERS.items() if not k.startswith("p_")}
    answers.update(p_tenure="own_house_land", p_house_condition="fair", p_hygiene=["toilet", "waste"])
    answers["p_electricity"] = "own_meter"
    phys = score_capitals(CAPITALS, answers)["physical"]
    assert (phys["points"], phys["max"], phys["answered"], phys["items"]) == (9, 13, 4, 8)
    assert phys["percent"] == approx(69.230769)
    assert phys["score"] == approx(3.076923)


def test_none_answer_counts_as_unanswered() -> None:
    # h_education None: human = 11 − 1 = 10 of max 20 − 4 = 16, 6 of 7 answered
    # → 62.5 % → 1 + 0.625 × 3 = 2.875
    human = capital_result(h_education=None)["human"]
    assert (human["points"], human["max"], human["answered"]) == (10, 16, 6)
    assert human["score"] == approx(2.875)


def test_capital_with_fewer_than_half_answered_has_no_score() -> None:
    # Human has 7 items: 4 answered (4/7 = 0.57 ≥ 0.5) is scored, 3 answered (0.43) is not.
    four = {k: v for k, v in BASE_ANSWERS.items() if k not in ("h_work", "h_income_month", "h_welfare")}
    human4 = score_capitals(CAPITALS, four)["human"]
    # education 1 + literacy 1 + health 2 + skills 3 = 7 of 4 + 2 + 3 + 3 = 12 → 58.333333 %
    # → 1 + 0.58333333 × 3 = 2.74999999 → 2.75
    assert (human4["points"], human4["max"], human4["answered"]) == (7, 12, 4)
    assert human4["score"] == approx(2.75)

    three = {k: v for k, v in four.items() if k != "h_skills"}
    data = assessment(capitals={})
    data["capitals"] = three
    result = score(ALL, data)
    human3 = result["capitals"]["human"]
    assert human3["answered"] == 3
    assert human3["percent"] is None
    assert human3["score"] is None
    # the other four capitals are still scored, but there is no overall and no level
    assert result["capitals"]["physical"]["score"] == approx(2.56)
    assert result["overall"] is None
    assert result["level"] is None
    assert result["capped_by"] is None


def test_half_way_household_is_exactly_level_3() -> None:
    """Every capital at exactly 50 % (some capitals with items left unanswered so that the
    maximum is even) → every score 1 + 0.5 × 3 = 2.5 → overall 2.5 → exactly the cut point of
    level 3; physical 2.5 is not *below* 2.5 → no cap."""
    answers = {
        # human, all 7 answered: 1 + 1 + 2 + 3 + 2 + 1 (1,000 baht, band min) + 0 = 10 of 20
        "h_education": "primary",
        "h_literacy": "some",
        "h_health": "chronic",
        "h_skills": ["farming"],
        "h_work": "some",
        "h_income_month": 1000,
        "h_welfare": "missing",
        # physical, 6 of 8 answered (no p_tenure, p_hygiene): 1 + 3 + 3 + 1 + 0 + 1 = 9 of 6 × 3 = 18
        "p_house_condition": "fair",
        "p_electricity": "own_meter",
        "p_water": "yes",
        "p_phone": "no_internet",
        "p_road": "impassable",
        "p_digital": "with_help",
        # financial, all 6: 2 (38,000, band min) + 2 + 1 + 2 + 2 + 0 = 9 of 18
        "f_income_year": 38000,
        "f_balance": "even",
        "f_savings": "irregular",
        "f_debt": "manageable",
        "f_assets": ["machine", "tools"],
        "f_credit": ["none"],
        # natural, 4 of 6 (no n_land, n_disaster): 2 + 2 (3 − 1) + 2 + 0 = 6 of 4 × 3 = 12
        "n_farm_water": "pond",
        "n_land_problems": ["flood"],
        "n_food": "some",
        "n_income": "none",
        # social, 4 of 5 (no s_groups): 2 + 2 + 0 + 2 = 6 of 4 × 3 = 12
        "s_activities": "sometimes",
        "s_mutual_help": "sometimes",
        "s_welfare_fund": "no",
        "s_leadership": "member",
    }
    data = assessment()
    data["capitals"] = answers
    result = score(ALL, data)
    for code, (points, mx) in {
        "human": (10, 20),
        "physical": (9, 18),
        "financial": (9, 18),
        "natural": (6, 12),
        "social": (6, 12),
    }.items():
        cap = result["capitals"][code]
        assert (cap["points"], cap["max"]) == (points, mx), code
        assert cap["percent"] == approx(50.0), code
        assert cap["score"] == approx(2.5), code
    assert result["overall"] == approx(2.5)
    assert result["level"] == 3
    assert result["capped_by"] is None


# --------------------------------------------------------------------------- 2. levels


@pytest.mark.parametrize(
    ("scores", "overall", "level"),
    [
        ((1.0, 1.0, 1.0, 1.0, 1.0), 1.0, 1),
        ((1.749999, 1.749999, 1.749999, 1.749999, 1.749999), 1.749999, 1),  # just under 1.75
        ((1.75, 1.75, 1.75, 1.75, 1.75), 1.75, 2),  # exactly on the cut point
        ((2.499999, 2.499999, 2.499999, 2.499999, 2.499999), 2.499999, 2),
        ((2.5, 2.5, 2.5, 2.5, 2.5), 2.5, 3),  # exactly on the cut point
        ((3.0, 2.5, 2.0, 2.5, 2.5), 2.5, 3),  # (3 + 2.5 + 2 + 2.5 + 2.5) / 5 = 12.5 / 5 = 2.5
        ((3.249999, 3.249999, 3.249999, 3.249999, 3.249999), 3.249999, 3),
        ((3.25, 3.25, 3.25, 3.25, 3.25), 3.25, 4),  # exactly on the cut point
        ((4.0, 4.0, 4.0, 4.0, 4.0), 4.0, 4),
    ],
)
def test_levels_on_the_overall_mean(scores: tuple[float, ...], overall: float, level: int) -> None:
    # physical is never below 1.75 / 2.5 where the level would exceed the cap, so no cap applies
    out = classify(CAPITALS, capitals_with(*scores))
    assert out["overall"] == approx(overall)
    assert out["level"] == level
    assert out["capped_by"] is None


@pytest.mark.parametrize(
    ("physical", "overall", "level", "capped_by"),
    [
        # others 4.0: overall = (16 + physical) / 5; without a cap every one of these is level 4
        (1.5, 3.5, 2, "physical"),  # 1.5 < 1.75 → at most level 2
        (1.749999, 3.55, 2, "physical"),  # (16 + 1.749999) / 5 = 3.5499998 → 3.55; still below 1.75
        (1.75, 3.55, 3, "physical"),  # exactly 1.75 is not below 1.75, but below 2.5 → at most 3
        (2.0, 3.6, 3, "physical"),  # 2.0 < 2.5 → at most level 3
        (2.5, 3.7, 4, None),  # exactly 2.5 is not below 2.5 → no cap
        (3.0, 3.8, 4, None),
    ],
)
def test_physical_capital_caps(physical: float, overall: float, level: int, capped_by: str | None) -> None:
    out = classify(CAPITALS, capitals_with(4.0, physical, 4.0, 4.0, 4.0))
    assert out["overall"] == approx(overall)
    assert out["level"] == level
    assert out["capped_by"] == capped_by


def test_caps_never_raise_a_level() -> None:
    # all 1.5 → overall 1.5 → level 1; physical 1.5 < 1.75 caps at 2, which is above 1 → nothing
    out = classify(CAPITALS, capitals_with(1.5, 1.5, 1.5, 1.5, 1.5))
    assert (out["level"], out["capped_by"]) == (1, None)
    # overall (2.6 + 1.7 + 2.6 + 2.6 + 2.6) / 5 = 12.1 / 5 = 2.42 → level 2; cap 2 → still 2
    out = classify(CAPITALS, capitals_with(2.6, 1.7, 2.6, 2.6, 2.6))
    assert out["overall"] == approx(2.42)
    assert (out["level"], out["capped_by"]) == (2, None)


def test_cap_through_the_whole_pipeline() -> None:
    """Base household with a very good human, financial, natural and social capital but a poor
    physical one: the overall level is 4, the physical cap brings it to 2."""
    best = {
        "h_education": "higher",  # 4
        "h_literacy": "all",  # 2
        "h_health": "healthy",  # 3
        "h_skills": ["trade"],  # 3
        "h_work": "all",  # 3
        "h_income_month": 3200,  # 3
        "h_welfare": "receiving",  # 2  → human 20/20 = 100 % → 4.0
        "f_income_year": 60000,  # 3
        "f_balance": "surplus",  # 3
        "f_savings": "regular",  # 3
        "f_debt": "none",  # 3
        "f_assets": ["machine", "vehicle", "tools"],  # 3
        "f_credit": ["baac"],  # 3  → financial 18/18 → 4.0
        "n_land": "title",  # 3
        "n_farm_water": "irrigation",  # 3
        "n_land_problems": ["none"],  # 3
        "n_food": "much",  # 3
        "n_income": "main",  # 3
        "n_disaster": "no",  # 2  → natural 17/17 → 4.0
        "s_groups": ["savings", "occupation", "volunteer"],  # 3
        "s_activities": "regularly",  # 3
        "s_mutual_help": "yes",  # 3
        "s_welfare_fund": "yes",  # 3
        "s_leadership": "committee",  # 3  → social 15/15 → 4.0
        # physical: 1 + 0 + 0 + 1 + 1 + 1 + 1 + 0 = 5 of 25 = 20 % → 1 + 0.2 × 3 = 1.6
        "p_tenure": "renting",  # 1
        "p_house_condition": "poor",  # 0
        "p_hygiene": [],  # 0
        "p_electricity": "neighbour",  # 1
        "p_water": "partly",  # 1
        "p_phone": "no_internet",  # 1
        "p_road": "dirt",  # 1
        "p_digital": "no",  # 0
    }
    data = assessment()
    data["capitals"] = best
    result = score(ALL, data)
    assert result["capitals"]["physical"]["score"] == approx(1.6)
    # overall (4 × 4.0 + 1.6) / 5 = 17.6 / 5 = 3.52 → level 4; physical 1.6 < 1.75 → at most 2
    assert result["overall"] == approx(3.52)
    assert result["level"] == 2
    assert result["capped_by"] == "physical"


def test_level_rule_is_data_basis_one_capital_without_caps() -> None:
    modified = copy.deepcopy(CAPITALS)
    modified["level_rule"] = {"basis": "capital", "capital": "physical"}
    assert validate(modified) == []
    scores = capitals_with(1.0, 3.3, 1.0, 1.0, 1.0)
    # default rule: overall (4 × 1.0 + 3.3) / 5 = 1.46 → level 1
    default = classify(CAPITALS, scores)
    assert (default["overall"], default["level"], default["basis"]) == (approx(1.46), 1, "overall")
    # modified rule: the level is read from physical 3.3 alone → ≥ 3.25 → level 4
    out = classify(modified, scores)
    assert out["basis"] == "physical"
    assert out["level"] == 4
    assert out["capped_by"] is None
    assert out["overall"] == approx(1.46)  # the overall mean is still reported
    # and a physical score of 1.6 → level 1 even though the other capitals are perfect
    out = classify(modified, capitals_with(4.0, 1.6, 4.0, 4.0, 4.0))
    assert (out["level"], out["capped_by"]) == (1, None)


def test_level_rule_is_data_no_caps() -> None:
    modified = copy.deepcopy(CAPITALS)
    modified["level_rule"] = {"basis": "overall", "caps": []}
    assert validate(modified) == []
    # physical 1.5 with others 4.0: overall 3.5 → level 4, and nothing caps it now
    out = classify(modified, capitals_with(4.0, 1.5, 4.0, 4.0, 4.0))
    assert (out["level"], out["capped_by"]) == (4, None)


def test_cut_points_are_data() -> None:
    modified = copy.deepcopy(CAPITALS)
    modified["levels"][2]["from"] = 2.0  # level 3 from 2.0 instead of 2.5
    assert validate(modified) == []
    # overall 2.2 is level 2 with the shipped cut points, level 3 with the modified ones
    scores = capitals_with(2.2, 2.6, 2.2, 2.0, 2.0)  # (2.2 + 2.6 + 2.2 + 2.0 + 2.0) / 5 = 2.2
    assert classify(CAPITALS, scores)["level"] == 2
    assert classify(modified, scores)["level"] == 3


# --------------------------------------------------------------------------- 3. BMN deprivations


def test_household_level_answers() -> None:
    data = assessment(hh={"bmn08": "fail", "bmn09": "pass", "bmn10": "na"})
    del data["bmn"]["household"]["bmn11"]
    hh = deprivations(BMN, data)["household"]
    # fail → 1, pass → 0, na → 0, missing → None
    assert (hh["bmn08"], hh["bmn09"], hh["bmn10"], hh["bmn11"]) == (1, 0, 0, None)


def test_everything_passed_is_deprived_in_nothing() -> None:
    dep = deprivations(BMN, assessment())
    assert set(dep["household"]) == set(HOUSEHOLD_CODES) | set(PERSON_CODES)
    assert all(flag == 0 for flag in dep["household"].values())
    assert dep["persons"] == {"P1": [], "P2": [], "P3": [], "P4": []}


def test_person_level_counts_only_members_it_applies_to() -> None:
    members = [member("P1", 45), member("P2", 16), member("P3", 70)]
    # bmn20 (work, ages 15–59): P3 (70) failing does not count → P1, P2 pass → 0
    dep = deprivations(BMN, assessment(members, persons={"P3": {"bmn20": "fail"}}))
    assert dep["household"]["bmn20"] == 0
    assert dep["persons"]["P3"] == []
    # P2 (16) failing counts → 1, and only P2 carries it
    dep = deprivations(BMN, assessment(members, persons={"P2": {"bmn20": "fail"}}))
    assert dep["household"]["bmn20"] == 1
    assert dep["persons"] == {"P1": [], "P2": ["bmn20"], "P3": []}
    # bmn21 (elderly income, 60+): P1 (45) failing does not count; P3 (70) failing does
    assert deprivations(BMN, assessment(members, persons={"P1": {"bmn21": "fail"}}))["household"]["bmn21"] == 0
    dep = deprivations(BMN, assessment(members, persons={"P3": {"bmn21": "fail"}}))
    assert dep["household"]["bmn21"] == 1
    assert dep["persons"]["P3"] == ["bmn21"]


@pytest.mark.parametrize(
    ("age", "bmn20_applies", "bmn21_applies"),
    [(14, False, False), (15, True, False), (59, True, False), (60, False, True), (90, False, True)],
)
def test_age_range_edges_are_inclusive(age: int, bmn20_applies: bool, bmn21_applies: bool) -> None:
    members = [member("P1", age)]
    data = assessment(members, persons={"P1": {"bmn20": "fail", "bmn21": "fail"}})
    hh = deprivations(BMN, data)["household"]
    assert hh["bmn20"] == (1 if bmn20_applies else 0)
    assert hh["bmn21"] == (1 if bmn21_applies else 0)


def test_disability_indicator_counts_only_disabled_members() -> None:
    # bmn28 applies only to members with disabled=True.
    nobody = [member("P1", 45), member("P2", 70)]
    # a non-disabled member "failing" bmn28 does not count
    assert deprivations(BMN, assessment(nobody, persons={"P1": {"bmn28": "fail"}}))["household"]["bmn28"] == 0
    with_disabled = [member("P1", 45), member("P2", 70, disabled=True)]
    dep = deprivations(BMN, assessment(with_disabled, persons={"P2": {"bmn28": "fail"}}))
    assert dep["household"]["bmn28"] == 1
    assert dep["persons"]["P2"] == ["bmn28"]
    # the disabled member's answer is missing, the non-disabled one's "fail" is ignored → None
    data = assessment(with_disabled, persons={"P1": {"bmn28": "fail"}})
    del data["bmn"]["persons"]["P2"]["bmn28"]
    assert deprivations(BMN, data)["household"]["bmn28"] is None


def test_unanswered_applicable_member_gives_missing_unless_someone_fails() -> None:
    members = [member("P1", 45), member("P2", 30)]
    # P2 did not answer bmn20, P1 passed → nobody fails, one applicable member unanswered → None
    data = assessment(members)
    del data["bmn"]["persons"]["P2"]["bmn20"]
    assert deprivations(BMN, data)["household"]["bmn20"] is None
    # P1 failed → the household is deprived whatever P2 would have said → 1
    data = assessment(members, persons={"P1": {"bmn20": "fail"}})
    del data["bmn"]["persons"]["P2"]["bmn20"]
    assert deprivations(BMN, data)["household"]["bmn20"] == 1
    # "na" is an answer: P2 "na", P1 pass → 0
    data = assessment(members, persons={"P2": {"bmn20": "na"}})
    assert deprivations(BMN, data)["household"]["bmn20"] == 0


def test_nobody_applicable_gives_not_deprived() -> None:
    # Two adults, no answers at all for the child indicators: nobody aged 0 (bmn01),
    # 3–5 (bmn15), 15–17 (bmn17), nobody disabled (bmn28) or chronic (bmn29) → 0, not None
    members = [member("P1", 45), member("P2", 30)]
    data = assessment(members)
    for key in ("P1", "P2"):
        for code in ("bmn01", "bmn15", "bmn17", "bmn28", "bmn29"):
            del data["bmn"]["persons"][key][code]
    hh = deprivations(BMN, data)["household"]
    assert [hh[c] for c in ("bmn01", "bmn15", "bmn17", "bmn28", "bmn29")] == [0, 0, 0, 0, 0]


def test_income_indicator_from_income_sources() -> None:
    three = [member("P1", 45), member("P2", 40), member("P3", 10)]
    # 100,000 / 3 = 33,333.33 < 38,000 → deprived; every member carries bmn22
    dep = deprivations(BMN, assessment(three, income={"main": 100000, "secondary": 0, "other": 0, "home_produce": 0}))
    assert dep["income_per_person"] == approx(33333.33)
    assert dep["household"]["bmn22"] == 1
    assert dep["persons"] == {"P1": ["bmn22"], "P2": ["bmn22"], "P3": ["bmn22"]}
    # 114,000 / 3 = 38,000 exactly → not below the threshold → not deprived
    dep = deprivations(BMN, assessment(three, income={"main": 114000}))
    assert dep["income_per_person"] == approx(38000.0)
    assert dep["household"]["bmn22"] == 0
    # all four sources are added: 40,000 + 0 + 6,000 + 30,000 = 76,000 / 2 = 38,000 → 0
    two = three[:2]
    dep = deprivations(
        BMN, assessment(two, income={"main": 40000, "secondary": 0, "other": 6000, "home_produce": 30000})
    )
    assert dep["income_per_person"] == approx(38000.0)
    assert dep["household"]["bmn22"] == 0
    # without home produce: 46,000 / 2 = 23,000 → deprived
    dep = deprivations(BMN, assessment(two, income={"main": 40000, "secondary": 0, "other": 6000, "home_produce": 0}))
    assert dep["income_per_person"] == approx(23000.0)
    assert dep["household"]["bmn22"] == 1


def test_income_indicator_computed_income_wins_over_the_answer() -> None:
    # 100,000 / 2 = 50,000 ≥ 38,000 → 0, although the interviewer ticked "fail"
    two = [member("P1", 45), member("P2", 40)]
    dep = deprivations(BMN, assessment(two, hh={"bmn22": "fail"}, income={"main": 100000}))
    assert dep["household"]["bmn22"] == 0
    # no income figures at all → the ticked answer is used
    dep = deprivations(BMN, assessment(two, hh={"bmn22": "fail"}, income={}))
    assert dep["income_per_person"] is None
    assert dep["household"]["bmn22"] == 1
    # no figures and no answer → missing
    assert deprivations(BMN, assessment(two, income={}))["household"]["bmn22"] is None


def test_household_failures_are_added_to_every_member() -> None:
    members = [member("P1", 45), member("P2", 16), member("P3", 70)]
    data = assessment(members, hh={"bmn08": "fail", "bmn24": "fail"}, persons={"P2": {"bmn20": "fail"}})
    dep = deprivations(BMN, data)
    # in the instrument's order: bmn08 (household), bmn20 (P2's own), bmn24 (household)
    assert dep["persons"] == {
        "P1": ["bmn08", "bmn24"],
        "P2": ["bmn08", "bmn20", "bmn24"],
        "P3": ["bmn08", "bmn24"],
    }
    result = score(ALL, data)
    assert result["bmn"]["deprived"] == ["bmn08", "bmn20", "bmn24"]
    assert result["bmn"]["threshold"] == 38000


# --------------------------------------------------------------------------- 4. TPMAP


def tpmap(members: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    data = assessment(members, **kw)
    return tpmap_flags(BMN, deprivations(BMN, data), members)


def test_tpmap_poor_without_welfare_card_is_not_target_poor() -> None:
    members = [member("P1", 45, welfare_card=True), member("P2", 30, welfare_card=False)]
    out = tpmap(members, persons={"P2": {"bmn20": "fail"}})  # bmn20: income dimension
    assert out["tpmap_poor"] is True
    assert out["target_poor"] is False
    assert out["poor_persons"] == ["P2"]
    assert out["target_persons"] == []
    assert out["dimensions_failed"] == ["income"]


def test_tpmap_poor_with_welfare_card_is_target_poor() -> None:
    members = [member("P1", 45, welfare_card=True), member("P2", 30, welfare_card=False)]
    out = tpmap(members, persons={"P1": {"bmn20": "fail"}})
    assert (out["tpmap_poor"], out["target_poor"]) == (True, True)
    assert (out["poor_persons"], out["target_persons"]) == (["P1"], ["P1"])
    assert out["dimensions_failed"] == ["income"]


def test_failing_only_non_tpmap_indicators_is_neither() -> None:
    members = [member("P1", 45, welfare_card=True)]
    # bmn24 (alcohol, household) and bmn26 (person, 6+) have no TPMAP dimension
    out = tpmap(members, hh={"bmn24": "fail"}, persons={"P1": {"bmn26": "fail"}})
    assert out == {
        "tpmap_poor": False,
        "target_poor": False,
        "poor_persons": [],
        "target_persons": [],
        "dimensions_failed": [],
    }


def test_household_tpmap_failure_counts_for_every_member() -> None:
    # bmn08 (living, household level) fails; P3 (72) fails bmn27 (access).
    # Every member fails bmn08 → all four are TPMAP poor; P1 and P3 hold a card → target.
    out = tpmap(family(), hh={"bmn08": "fail"}, persons={"P3": {"bmn27": "fail"}})
    assert out["tpmap_poor"] is True
    assert out["target_poor"] is True
    assert out["poor_persons"] == ["P1", "P2", "P3", "P4"]
    assert out["target_persons"] == ["P1", "P3"]
    assert out["dimensions_failed"] == ["access", "living"]


def test_dimensions_failed_lists_each_dimension_once() -> None:
    members = [member("P1", 8, welfare_card=True), member("P2", 40)]
    # bmn04 + bmn05 (health, household), bmn16 (education, P1 aged 8), bmn22 via income
    # 30,000 / 2 = 15,000 < 38,000 (income)
    out = tpmap(
        members,
        hh={"bmn04": "fail", "bmn05": "fail"},
        persons={"P1": {"bmn16": "fail"}},
        income={"main": 30000},
    )
    assert out["dimensions_failed"] == ["education", "health", "income"]


# --------------------------------------------------------------------------- 5. MPI


def flags(*deprived: str) -> dict[str, int | None]:
    """Household flags: 0 for every weighted indicator, 1 for ``deprived``."""
    out: dict[str, int | None] = dict.fromkeys(WEIGHTED, 0)
    out.update(dict.fromkeys(deprived, 1))
    return out


def test_mpi_nothing_deprived() -> None:
    assert mpi_score(BMN, flags()) == (0.0, False)


def test_mpi_below_k_is_not_poor() -> None:
    # bmn08 0.05 (living 0.2 / 4) + bmn22 0.0666667 (income 0.2 / 3) + bmn27 0.1 (access 0.2 / 2)
    # = 0.2166667 → rounded 0.216667 < k = 1/3 → not poor
    c, poor = mpi_score(BMN, flags("bmn08", "bmn22", "bmn27"))
    assert c == approx(0.216667)
    assert poor is False


def test_mpi_above_k_is_poor() -> None:
    # all of living 4 × 0.05 = 0.2 + all of access 2 × 0.1 = 0.2 → 0.4 ≥ 1/3 → poor
    c, poor = mpi_score(BMN, flags("bmn08", "bmn09", "bmn10", "bmn11", "bmn27", "bmn28"))
    assert c == approx(0.4)
    assert poor is True


def test_mpi_everything_deprived() -> None:
    c, poor = mpi_score(BMN, flags(*WEIGHTED))
    assert c == approx(1.0)
    assert poor is True


def test_mpi_exactly_k_is_poor() -> None:
    # all of health 4 × 0.05 = 0.2 + two income indicators 2 × 1/15 = 0.1333333 → 1/3 = k.
    # Alkire–Foster: poor when c ≥ k (khm.engines.mpi counts 1/6 + 1/6 ≥ 1/3 as reaching k).
    c, poor = mpi_score(BMN, flags("bmn01", "bmn04", "bmn05", "bmn07", "bmn20", "bmn21"))
    assert c == approx(1 / 3)
    assert poor is True


def test_mpi_missing_weighted_indicator_gives_none() -> None:
    missing = flags("bmn08", "bmn09", "bmn10", "bmn11", "bmn27", "bmn28")
    missing["bmn20"] = None
    assert mpi_score(BMN, missing) == (None, None)
    # an indicator without a weight (bmn24) being missing does not matter: 0.2 + 0.2 = 0.4
    unweighted = flags("bmn08", "bmn09", "bmn10", "bmn11", "bmn27", "bmn28")
    unweighted["bmn24"] = None
    assert mpi_score(BMN, unweighted) == (approx(0.4), True)


def test_mpi_through_score_with_a_missing_answer() -> None:
    data = assessment()
    del data["bmn"]["household"]["bmn09"]  # living, weighted
    result = score(ALL, data)
    assert result["bmn"]["household"]["bmn09"] is None
    assert (result["mpi_score"], result["mpi_poor"]) == (None, None)


# --------------------------------------------------------------------------- 6. needs


def needs_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["code"]: n for n in score(ALL, data)["needs"]}


def test_base_household_needs_nothing() -> None:
    # everything passed, 40,000 baht per person, no poor house, no capital below 1.75 → no needs
    assert score(ALL, assessment())["needs"] == []


def test_housing_repair_from_bmn_or_house_condition() -> None:
    only_bmn = needs_of(assessment(hh={"bmn08": "fail"}))["housing_repair"]
    assert only_bmn["reasons"] == ["bmn:bmn08"]
    assert only_bmn["persons"] == []  # household-level indicator: concerns no one in particular
    assert only_bmn["agency_types"] == ["local_government", "social_development", "housing"]
    assert (only_bmn["priority"], only_bmn["capital"]) == (1, "physical")
    only_item = needs_of(assessment(capitals={"p_house_condition": "poor"}))["housing_repair"]
    assert only_item["reasons"] == ["item:p_house_condition"]
    both = needs_of(assessment(hh={"bmn08": "fail"}, capitals={"p_house_condition": "poor"}))["housing_repair"]
    assert both["reasons"] == ["bmn:bmn08", "item:p_house_condition"]
    # house "fair" and bmn08 passed → no housing repair
    assert "housing_repair" not in needs_of(assessment())


def test_welfare_card_needs_low_income_and_an_adult_without_card() -> None:
    poor_income = {"main": 60000}  # 60,000 / 4 = 15,000 < 38,000
    # family(): P2 (47) has no card → both conditions hold
    need = needs_of(assessment(income=poor_income))["welfare_card"]
    assert need["reasons"] == ["income<1.0×threshold", "member:age_min=18,welfare_card=False"]
    assert need["persons"] == ["P2"]  # P4 (12) has no card either, but is not an adult
    assert need["agency_types"] == ["social_development"]
    # low income, but every adult holds a card (the child without one does not count) → no
    carded = family()
    carded[1]["welfare_card"] = True
    assert "welfare_card" not in needs_of(assessment(carded, income=poor_income))
    # an adult without a card, but 160,000 / 4 = 40,000 ≥ 38,000 → no
    assert "welfare_card" not in needs_of(assessment())
    # exactly the threshold: 152,000 / 4 = 38,000 is not below it → no
    assert "welfare_card" not in needs_of(assessment(income={"main": 152000}))


def test_care_lists_the_persons_concerned() -> None:
    # P3 (72) fails bmn27 (elderly care), P4 (12, disabled) fails bmn28 (disability care)
    need = needs_of(assessment(persons={"P3": {"bmn27": "fail"}, "P4": {"bmn28": "fail"}}))["care"]
    assert need["reasons"] == ["bmn:bmn27", "bmn:bmn28"]
    assert need["persons"] == ["P3", "P4"]
    # from the capitals answer alone: reason listed, no person named
    need = needs_of(assessment(capitals={"h_health": "dependent_no_carer"}))["care"]
    assert need["reasons"] == ["item:h_health"]
    assert need["persons"] == []


def test_job_training_names_only_the_failing_member() -> None:
    need = needs_of(assessment(persons={"P2": {"bmn20": "fail"}}))["job_training"]
    assert (need["reasons"], need["persons"]) == (["bmn:bmn20"], ["P2"])


def test_capital_below_threshold_triggers_a_need() -> None:
    # financial: income 0 → 0, deficit 0, no savings 0, informal debt 0, no assets 0, no credit 0
    # → 0 / 18 = 0 % → 1.0 < 1.75 → "savings"; informal debt → "debt" too
    poor_fin = {
        "f_income_year": 0,
        "f_balance": "deficit",
        "f_savings": "none",
        "f_debt": "informal",
        "f_assets": [],
        "f_credit": ["none"],
    }
    needs = needs_of(assessment(capitals=poor_fin))
    assert needs["savings"]["reasons"] == ["capital:financial<1.75"]
    assert needs["debt"]["reasons"] == ["item:f_debt"]


def test_needs_sorted_by_priority_then_code() -> None:
    """The family: bmn08 fails (household), P3 fails bmn27, P4 fails bmn28, the house is poor,
    income 80,000 / 4 = 20,000 < 38,000 (bmn22 deprived), P2 (47) has no card. Triggered:
      care (1)            bmn27, bmn28                       persons P3, P4
      housing_repair (1)  bmn08, p_house_condition = poor
      income_support (1)  bmn22, income below 1.0 × threshold
      welfare_card (2)    income below threshold + adult without card (P2)
    Not triggered: capitals human 2.65, physical 12/25 → 2.44, financial 2.333333,
    natural 2.235294, social 2.6 are all ≥ 1.75; tenure, water, electricity, debt, land fine."""
    data = assessment(
        hh={"bmn08": "fail"},
        persons={"P3": {"bmn27": "fail"}, "P4": {"bmn28": "fail"}},
        income={"main": 60000, "secondary": 0, "other": 6000, "home_produce": 14000},
        capitals={"p_house_condition": "poor"},
    )
    result = score(ALL, data)
    assert [(n["priority"], n["code"]) for n in result["needs"]] == [
        (1, "care"),
        (1, "housing_repair"),
        (1, "income_support"),
        (2, "welfare_card"),
    ]
    needs = {n["code"]: n for n in result["needs"]}
    assert needs["care"]["persons"] == ["P3", "P4"]
    assert needs["income_support"]["reasons"] == ["bmn:bmn22", "income<1.0×threshold"]
    assert needs["welfare_card"]["persons"] == ["P2"]
    # the rest of the result, by hand:
    assert result["capitals"]["physical"]["score"] == approx(2.44)  # 12/25 = 48 % → 1 + 1.44
    # overall (2.65 + 2.44 + 2.333333 + 2.235294 + 2.6) / 5 = 12.258627 / 5 = 2.451725 → level 2
    assert result["overall"] == approx(2.451725)
    assert (result["level"], result["capped_by"]) == (2, None)
    assert result["bmn"]["income_per_person"] == approx(20000.0)
    assert result["bmn"]["deprived"] == ["bmn08", "bmn22", "bmn27", "bmn28"]
    assert result["bmn"]["persons"] == {
        "P1": ["bmn08", "bmn22"],
        "P2": ["bmn08", "bmn22"],
        "P3": ["bmn08", "bmn22", "bmn27"],
        "P4": ["bmn08", "bmn22", "bmn28"],
    }
    # TPMAP: everyone fails bmn08 → all poor; cards P1, P3 → target poor
    assert (result["tpmap_poor"], result["target_poor"]) == (True, True)
    assert result["target_persons"] == ["P1", "P3"]
    assert result["dimensions_failed"] == ["access", "income", "living"]
    # MPI: 0.05 + 0.0666667 + 0.1 + 0.1 = 0.3166667 → 0.316667 < 1/3 → not poor
    assert result["mpi_score"] == approx(0.316667)
    assert result["mpi_poor"] is False


def test_needs_without_rules_or_bmn() -> None:
    assert suggest_needs(None, BMN, {}) == []
    # capitals only: no BMN section in the result, needs from answers still work
    data = assessment(capitals={"p_tenure": "with_others"})
    result = score(Instruments(CAPITALS, None, NEEDS), data)
    assert "bmn" not in result
    assert [n["code"] for n in result["needs"]] == ["secure_housing"]


# --------------------------------------------------------------------------- 7. validation


def broken(definition: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(definition)


def assert_one_problem(problems: list[Problem], path: str) -> None:
    assert paths(problems) == [path]
    assert problems[0].th.strip()
    assert problems[0].en.strip()


def test_validate_level_cut_points_out_of_order() -> None:
    d = broken(CAPITALS)
    d["levels"][2]["from"] = 1.5  # 1.0, 1.75, 1.5, 3.25
    assert_one_problem(validate(d), "levels[2].from")


def test_validate_levels_numbered_in_order() -> None:
    d = broken(CAPITALS)
    d["levels"][3]["level"] = 5
    assert_one_problem(validate(d), "levels[3].level")


def test_validate_unknown_capital_in_caps() -> None:
    d = broken(CAPITALS)
    d["level_rule"]["caps"][0]["capital"] = "spiritual"
    assert_one_problem(validate(d), "level_rule.caps[0].capital")


def test_validate_unknown_basis_capital() -> None:
    d = broken(CAPITALS)
    d["level_rule"] = {"basis": "capital", "capital": "cultural"}
    assert_one_problem(validate(d), "level_rule.capital")


def test_validate_option_without_points() -> None:
    d = broken(CAPITALS)
    del d["capitals"][0]["items"][0]["options"][1]["points"]  # h_education / primary
    assert_one_problem(validate(d), "capitals[0].items[0].options[1].points")


def test_validate_duplicate_item_code_in_one_capital() -> None:
    d = broken(CAPITALS)
    d["capitals"][0]["items"][1]["code"] = "h_education"
    assert_one_problem(validate(d), "capitals[0].items[1].code")


def test_validate_item_code_in_two_capitals() -> None:
    d = broken(CAPITALS)
    d["capitals"][1]["items"][0]["code"] = "h_education"  # p_tenure renamed
    assert_one_problem(validate(d), "capitals[1].items")


def test_validate_number_bands_must_rise() -> None:
    d = broken(CAPITALS)
    d["capitals"][0]["items"][5]["bands"][2]["min"] = 500  # h_income_month: 0, 1000, 500, 3200
    assert_one_problem(validate(d), "capitals[0].items[5].bands[2].min")


def test_validate_missing_capital() -> None:
    d = broken(CAPITALS)
    d["capitals"] = [c for c in d["capitals"] if c["code"] != "social"]
    d["level_rule"]["caps"] = []
    problems = validate(d)
    assert_one_problem(problems, "capitals")
    assert "social" in problems[0].en


def test_validate_mpi_weights_not_summing_to_one() -> None:
    d = broken(BMN)
    d["mpi"]["weights"]["dimensions"]["access"]["bmn27"] = 0.2  # total 1.1
    problems = validate(d)
    assert_one_problem(problems, "mpi.weights")
    assert "1.1000" in problems[0].en


@pytest.mark.parametrize("k", [0, -0.1, 1.5, "1/3", None])
def test_validate_mpi_k_out_of_range(k: Any) -> None:
    d = broken(BMN)
    d["mpi"]["k"] = k
    assert_one_problem(validate(d), "mpi.k")


def test_validate_mpi_weight_for_unknown_indicator() -> None:
    d = broken(BMN)
    weights = d["mpi"]["weights"]["dimensions"]["access"]
    weights["bmn99"] = weights.pop("bmn28")
    problems = validate(d)
    # the unknown code is named, and its 0.1 is not counted: the weights now sum to 0.9
    assert paths(problems) == ["mpi.weights.access.bmn99", "mpi.weights"]
    assert "0.9000" in problems[1].en
    assert all(p.th and p.en for p in problems)


def test_validate_unknown_dimension() -> None:
    d = broken(BMN)
    d["indicators"][0]["dimension"] = "wealth"
    assert_one_problem(validate(d), "indicators[0].dimension")


def test_validate_unknown_condition_in_needs_rule() -> None:
    d = broken(NEEDS)
    d["rules"][0]["when"] = {"tambon": "460101"}
    assert_one_problem(validate(d), "rules[0].when")
    d = broken(NEEDS)
    d["rules"][0]["when"]["any"][1] = {"itme": "p_house_condition", "in": ["poor"]}  # misspelt
    assert_one_problem(validate(d), "rules[0].when.any[1]")


def test_validate_unknown_agency_type() -> None:
    d = broken(NEEDS)
    d["rules"][0]["agency_types"].append("police")
    problems = validate(d)
    assert_one_problem(problems, "rules[0].agency_types")
    assert "police" in problems[0].en


def test_validate_duplicate_rule_code() -> None:
    d = broken(NEEDS)
    d["rules"][1]["code"] = "housing_repair"
    assert_one_problem(validate(d), "rules[1].code")


def test_validate_wrong_format_or_kind() -> None:
    d = broken(NEEDS)
    d["format"] = "khm-instrument/0"
    assert_one_problem(validate(d), "format")
    d = broken(NEEDS)
    d["kind"] = "survey"
    assert_one_problem(validate(d), "kind")
    assert paths(validate([])) == [""]


def test_check_answers_accepts_a_correct_assessment() -> None:
    assert check_answers(CAPITALS, BMN, assessment()) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"capitals": {"h_eduction": "primary"}}, "capitals.h_eduction"),  # unknown item (typo)
        ({"capitals": {"h_education": "phd"}}, "capitals.h_education"),  # not an option
        ({"capitals": {"h_skills": ["farming", "fishing"]}}, "capitals.h_skills"),  # not an option
        ({"capitals": {"h_skills": "farming"}}, "capitals.h_skills"),  # a multi item needs a list
        ({"capitals": {"h_income_month": -5}}, "capitals.h_income_month"),  # negative number
        ({"capitals": {"h_income_month": "1500"}}, "capitals.h_income_month"),  # text, not a number
        ({"income": {"main": -100}}, "income.main"),  # negative income
        ({"hh": {"bmn08": "maybe"}}, "bmn.household.bmn08"),
        ({"hh": {"bmn20": "pass"}}, "bmn.household.bmn20"),  # a person indicator at household level
        ({"persons": {"P1": {"bmn20": "maybe"}}}, "bmn.persons.P1.bmn20"),
        ({"persons": {"P1": {"bmn08": "fail"}}}, "bmn.persons.P1.bmn08"),  # a household indicator
        ({"persons": {"P9": {"bmn20": "fail"}}}, "bmn.persons.P9"),  # not in the roster
    ],
)
def test_check_answers_flags(change: dict[str, Any], path: str) -> None:
    data = assessment(hh=change.get("hh"), persons=change.get("persons"), capitals=change.get("capitals"))
    if "income" in change:
        data["income"].update(change["income"])
    problems = check_answers(CAPITALS, BMN, data)
    assert_one_problem(problems, path)


def test_check_answers_roster() -> None:
    members = [member("P1", 45), member("P1", 40), member("P3", 140)]
    data = assessment(members)
    problems = check_answers(CAPITALS, BMN, data)
    assert paths(problems) == ["members[1].key", "members[2].age"]
    assert all(p.th and p.en for p in problems)


def test_check_answers_bmn_null_does_not_crash() -> None:
    data = assessment()
    data["bmn"] = None
    assert isinstance(check_answers(CAPITALS, BMN, data), list)


# --------------------------------------------------------------------------- 8. reproducibility


def reversed_keys(value: Any) -> Any:
    """The same value with every dict's keys inserted in reverse order (lists unchanged)."""
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


def rich_assessment() -> dict[str, Any]:
    return assessment(
        hh={"bmn08": "fail"},
        persons={"P3": {"bmn27": "fail"}, "P4": {"bmn28": "fail"}},
        income={"main": 60000, "secondary": 0, "other": 6000, "home_produce": 14000},
        capitals={"p_house_condition": "poor"},
    )


def test_digest_is_sha256_of_sorted_compact_json() -> None:
    # keys sorted, no spaces, Thai kept as UTF-8
    assert canonical_json({"b": 1, "a": [1, "ก"]}) == '{"a":[1,"ก"],"b":1}'
    assert digest({"b": 1, "a": [1, "ก"]}) == hashlib.sha256('{"a":[1,"ก"],"b":1}'.encode()).hexdigest()


def test_score_is_deterministic() -> None:
    data = rich_assessment()
    first, second = score(ALL, data), score(ALL, data)
    assert canonical_json(first) == canonical_json(second)
    assert digest(first) == digest(second)


def test_score_ignores_key_order() -> None:
    data = rich_assessment()
    shuffled_data = reversed_keys(copy.deepcopy(data))
    shuffled = Instruments(reversed_keys(CAPITALS), reversed_keys(BMN), NEEDS)
    assert list(shuffled_data) != list(data)  # really a different insertion order
    assert list(shuffled_data["members"][0]) != list(data["members"][0])
    assert canonical_json(score(shuffled, shuffled_data)) == canonical_json(score(ALL, data))
    assert digest(score(shuffled, shuffled_data)) == digest(score(ALL, data))
    assert shuffled.key() == ALL.key()


def test_score_ignores_key_order_of_needs_rules() -> None:
    data = rich_assessment()
    shuffled_needs = reversed_keys(NEEDS)
    assert shuffled_needs["rules"][1]["when"] == {"in": ["none", "with_others"], "item": "p_tenure"}
    assert validate(shuffled_needs) == []
    shuffled = Instruments(CAPITALS, BMN, shuffled_needs)
    assert digest(score(shuffled, data)) == digest(score(ALL, data))


def test_score_does_not_change_its_inputs() -> None:
    data = rich_assessment()
    before = (canonical_json(data), canonical_json(CAPITALS), canonical_json(BMN), canonical_json(NEEDS))
    score(ALL, data)
    assert (canonical_json(data), canonical_json(CAPITALS), canonical_json(BMN), canonical_json(NEEDS)) == before


def test_one_changed_answer_changes_the_digest() -> None:
    data = rich_assessment()
    base = digest(score(ALL, data))
    changed = copy.deepcopy(data)
    changed["capitals"]["s_welfare_fund"] = "yes"  # social 8 → 11 of 15
    assert digest(score(ALL, changed)) != base
    changed = copy.deepcopy(data)
    changed["bmn"]["persons"]["P1"]["bmn26"] = "fail"  # a non-TPMAP person indicator
    assert digest(score(ALL, changed)) != base


# --------------------------------------------------------------------------- answers that look right but are not


def _paths(problems: list[Any]) -> set[str]:
    return {p.path for p in problems}


def test_check_answers_refuses_quietly_wrong_answers() -> None:
    data = assessment(
        income={"mian": 40000}, capitals={"n_land_problems": ["flood", "flood"], "h_skills": ["none", "farming"]}
    )
    problems = check_answers(CAPITALS, BMN, data)
    assert {"income.mian", "capitals.n_land_problems", "capitals.h_skills"} <= _paths(problems)
    assert all(p.th and p.en for p in problems)


def test_member_of_unknown_age_makes_age_bound_indicators_missing_not_passed() -> None:
    # One adult of unknown age and no person answers: bmn20 (15–59) cannot be decided → None,
    # so the household's MPI score is missing rather than computed as if nothing failed.
    members = [{"key": "X", "age": None, "sex": "F", "relation": "head"}]
    data = assessment(members)
    data["bmn"]["persons"] = {}
    dep = deprivations(BMN, data)
    assert dep["household"]["bmn20"] is None
    assert dep["household"]["bmn28"] == 0  # disability is not age-bound: nobody it applies to
    # An answer given for that member counts: a "fail" deprives the household.
    data["bmn"]["persons"] = {"X": {"bmn20": "fail"}}
    assert deprivations(BMN, data)["household"]["bmn20"] == 1


def test_needs_rule_with_a_non_numeric_share_is_refused() -> None:
    broken = copy.deepcopy(NEEDS)
    rule = next(r for r in broken["rules"] if r["code"] == "income_support")
    rule["when"] = {"income_below_threshold": "half"}
    problems = validate(broken)
    assert any(p.path.endswith("income_below_threshold") and p.th and p.en for p in problems)


def test_income_threshold_follows_the_survey_period_of_the_round() -> None:
    from khm.engines.scoring import income_threshold

    # The shipped periods: 2550–2554 → 23,000; 2555–2559 → 30,000; 2560–2565 → 38,000;
    # 2566–2570 → 40,000; outside them (or no round) the default 38,000.
    assert income_threshold(BMN, "2553") == 23000
    assert income_threshold(BMN, "2562") == 38000
    assert income_threshold(BMN, 2568) == 40000
    assert income_threshold(BMN, None) == 38000
    assert income_threshold(BMN, "2590") == 38000
    # 4 members and 156,000 baht → 39,000 a person: not deprived in 2562, deprived in 2568.
    data = assessment(income={"main": 156000, "secondary": 0, "other": 0, "home_produce": 0})
    assert deprivations(BMN, {**data, "round": "2562"})["household"]["bmn22"] == 0
    assert deprivations(BMN, {**data, "round": "2568"})["household"]["bmn22"] == 1


def test_overlapping_income_periods_are_refused() -> None:
    broken = copy.deepcopy(BMN)
    broken["income"]["thresholds"][3]["from_be"] = 2564  # overlaps 2560–2565
    problems = validate(broken)
    assert [p.path for p in problems] == ["income.thresholds[3].from_be"]
