"""The Alkire–Foster engine (khm.engines.mpi) and ``khm mpi`` end to end.

Measures are checked against a small example worked by hand, against an independent
implementation in exact rational arithmetic (fractions), and against the identities of the
method: M0 = H × A, contributions sum to 1, subgroup M0 weighted by population share sums
to the total.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from khm.cli import main
from khm.engines import mpi
from khm.engines.mpi import MPIError

# --------------------------------------------------------------------------- the worked example

WEIGHTS = {
    "dimensions": {
        "health": {"weight": "1/3", "indicators": {"h1": 0.5, "h2": 0.5}},
        "education": {"weight": "1/3", "indicators": ["e1"]},
        "living": {"weight": "1/3", "indicators": ["l1", "l2"]},
    }
}
INDICATORS = ["h1", "h2", "e1", "l1", "l2"]
HOUSEHOLDS = [
    # id, h1, h2, e1, l1, l2, sex of head, village code, age of head, size
    ("A", 1, 1, 1, 1, 1, "F", "46010101", 34, 5),
    ("B", 1, 0, 1, 0, 0, "F", "46010102", 61, 2),
    ("C", 0, 0, 0, 1, 1, "M", "46020101", 45, 10),
    ("D", 1, 0, 0, 0, 0, "M", "46020101", 70, 1),
]


def frame(rows: Sequence[Sequence[Any]] = HOUSEHOLDS) -> pl.DataFrame:
    return pl.DataFrame(
        [list(r) for r in rows],
        schema=["id", *INDICATORS, "sex_head", "village", "age_head", "size"],
        orient="row",
    )


def test_worked_example_by_hand() -> None:
    """Three dimensions of weight 1/3; health = h1, h2 and living = l1, l2 (shares 1/2 each),
    education = e1. Indicator weights: h1 = h2 = l1 = l2 = 1/6, e1 = 1/3. k = 1/3.

    Scores c_i = Σ w_j g_ij:  A = 1/6+1/6+1/3+1/6+1/6 = 1;  B = 1/6+1/3 = 1/2;
    C = 1/6+1/6 = 1/3 (exactly k: poor);  D = 1/6 (< k: not poor, its h1 is censored).

    H  = 3/4                      (A, B, C poor of 4)
    A  = (1 + 1/2 + 1/3) / 3 = 11/18
    M0 = (1 + 1/2 + 1/3) / 4 = 11/24 = H × A = 3/4 × 11/18
    uncensored h: h1 3/4 (A, B, D), h2 1/4, e1 1/2, l1 1/2, l2 1/2
    censored h:   h1 1/2 (D censored), h2 1/4, e1 1/2, l1 1/2, l2 1/2
    M0 again = Σ w_j × censored_j = 1/12 + 1/24 + 1/6 + 1/12 + 1/12 = 11/24
    contributions w_j h_j / M0: h1 (1/12)/(11/24) = 2/11, h2 1/11, e1 4/11, l1 2/11, l2 2/11
    by dimension: health 3/11, education 4/11, living 4/11.
    By sex of head: F = {A, B}: H 1, A 3/4, M0 3/4; M = {C, D}: H 1/2, A 1/3, M0 1/6;
    1/2 × 3/4 + 1/2 × 1/6 = 9/24 + 2/24 = 11/24; contributions to M0: F 9/11, M 2/11.
    """
    w = mpi.parse_weights(WEIGHTS)
    r = mpi.compute(frame(), w, mpi.parse_k("1/3"), by=["sex_head"])
    o = r["overall"]
    assert o["n"] == 4 and o["population"] == 4 and o["poor"] == 3
    assert o["H"] == pytest.approx(3 / 4)
    assert o["A"] == pytest.approx(11 / 18)
    assert o["M0"] == pytest.approx(11 / 24)
    assert o["uncensored_headcount"] == pytest.approx({"h1": 0.75, "h2": 0.25, "e1": 0.5, "l1": 0.5, "l2": 0.5})
    assert o["censored_headcount"] == pytest.approx({"h1": 0.5, "h2": 0.25, "e1": 0.5, "l1": 0.5, "l2": 0.5})
    assert o["contribution"]["indicator"] == pytest.approx(
        {"h1": 2 / 11, "h2": 1 / 11, "e1": 4 / 11, "l1": 2 / 11, "l2": 2 / 11}
    )
    assert o["contribution"]["dimension"] == pytest.approx({"health": 3 / 11, "education": 4 / 11, "living": 4 / 11})
    assert o["absolute_contribution"]["dimension"] == pytest.approx(
        {"health": 1 / 8, "education": 1 / 6, "living": 1 / 6}
    )
    f, m = r["by"]["sex_head"]["F"], r["by"]["sex_head"]["M"]
    assert (f["H"], f["A"], f["M0"]) == pytest.approx((1, 3 / 4, 3 / 4))
    assert (m["H"], m["A"], m["M0"]) == pytest.approx((1 / 2, 1 / 3, 1 / 6))
    assert f["population_share"] == m["population_share"] == 0.5
    assert (f["contribution_to_M0"], m["contribution_to_M0"]) == pytest.approx((9 / 11, 2 / 11))
    assert r["weights"]["indicator"] == pytest.approx({"h1": 1 / 6, "h2": 1 / 6, "e1": 1 / 3, "l1": 1 / 6, "l2": 1 / 6})


def test_k_one_is_the_intersection_and_a_tiny_k_the_union() -> None:
    """k = 1: poor only when deprived in every indicator (A alone): H 1/4, A 1, M0 1/4.
    k → 0 (any k up to the smallest weight, 1/6): poor when deprived in anything: all four,
    H 1, A = (1 + 1/2 + 1/3 + 1/6)/4 = 1/2, M0 = 1/2 = Σ w_j × uncensored_j, nothing censored."""
    w = mpi.parse_weights(WEIGHTS)
    one = mpi.compute(frame(), w, 1.0)["overall"]
    assert (one["H"], one["A"], one["M0"]) == pytest.approx((1 / 4, 1, 1 / 4))
    for k in (1e-6, 1 / 6):
        union = mpi.compute(frame(), w, k)["overall"]
        assert (union["H"], union["A"], union["M0"]) == pytest.approx((1, 1 / 2, 1 / 2))
        assert union["censored_headcount"] == union["uncensored_headcount"]
    nobody = frame([("Z", 0, 0, 0, 0, 0, "F", "46010101", 30, 1), *HOUSEHOLDS[:1]])
    z = mpi.compute(nobody, w, 1e-6)["overall"]
    assert z["H"] == 0.5  # a unit deprived in nothing is never poor, however small k


def test_nobody_poor_gives_zero_and_nulls() -> None:
    w = mpi.parse_weights(WEIGHTS)
    r = mpi.compute(frame(HOUSEHOLDS[1:]), w, 1.0)["overall"]
    assert r["H"] == 0 and r["M0"] == 0 and r["A"] is None
    assert set(r["contribution"]["indicator"].values()) == {None}
    assert r["absolute_contribution"]["indicator"]["h1"] == 0


# --------------------------------------------------------------------------- an independent implementation


def reference(
    rows: list[dict[str, Any]], weights: dict[str, Fraction], k: Fraction, sw: str | None
) -> dict[str, Any] | None:
    """Alkire–Foster in exact rational arithmetic, written straight from the definitions."""
    units = [r for r in rows if all(r[j] is not None for j in weights)]
    P = sum((Fraction(r[sw]) if sw else Fraction(1) for r in units), Fraction(0))
    if P == 0:
        return None
    poor_sum = Fraction(0)
    score_sum = Fraction(0)
    cens = dict.fromkeys(weights, Fraction(0))
    unc = dict.fromkeys(weights, Fraction(0))
    for r in units:
        s = Fraction(r[sw]) if sw else Fraction(1)
        c = sum((w * r[j] for j, w in weights.items()), Fraction(0))
        poor = c > 0 and c >= k
        for j in weights:
            unc[j] += s * r[j]
            if poor:
                cens[j] += s * r[j]
        if poor:
            poor_sum += s
            score_sum += s * c
    m0 = score_sum / P
    return {
        "n": len(units),
        "population": P,
        "H": poor_sum / P,
        "A": score_sum / poor_sum if poor_sum else None,
        "M0": m0,
        "censored_headcount": {j: v / P for j, v in cens.items()},
        "uncensored_headcount": {j: v / P for j, v in unc.items()},
        "contribution": {j: weights[j] * cens[j] / P / m0 if m0 else None for j in weights},
    }


def close(a: Any, b: Any) -> bool:
    if b is None or a is None:
        return a is None and b is None
    return a == pytest.approx(float(b), rel=1e-12, abs=1e-15)


def random_rows(rnd: random.Random, n: int, indicators: list[str], *, missing: float = 0.03) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        level = rnd.random()  # a latent poverty level makes deprivations correlate
        row: dict[str, Any] = {"id": f"u{i:05d}"}
        for j in indicators:
            row[j] = None if rnd.random() < missing else int(rnd.random() < 0.15 + 0.6 * level**2)
        row["sw"] = rnd.choice([1, 2, 3, 5, 0.5, 12.25])
        row["district"] = rnd.choice(["4601", "4602", "4603", "4615"])
        row["sex_head"] = rnd.choice(["F", "M"])
        row["size"] = rnd.randint(1, 9)
        rows.append(row)
    return rows


RANDOM_WEIGHTS = {
    "dimensions": {
        "health": {"weight": "1/4", "indicators": {"a1": "1/3", "a2": "2/3"}},
        "living": {"weight": "1/4", "indicators": ["b1", "b2", "b3"]},
        "education": {"weight": "1/4", "indicators": ["c1"]},
        "income": {"weight": "1/4", "indicators": {"d1": 0.5, "d2": 0.5}},
    }
}
EXACT = {
    "a1": Fraction(1, 12),
    "a2": Fraction(1, 6),
    "b1": Fraction(1, 12),
    "b2": Fraction(1, 12),
    "b3": Fraction(1, 12),
    "c1": Fraction(1, 4),
    "d1": Fraction(1, 8),
    "d2": Fraction(1, 8),
}


@pytest.mark.parametrize("k", [Fraction(1, 12), Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(1)])
@pytest.mark.parametrize("sw", [None, "sw"])
def test_agrees_with_an_independent_implementation(k: Fraction, sw: str | None) -> None:
    rows = random_rows(random.Random(7), 600, list(EXACT))
    w = mpi.parse_weights(RANDOM_WEIGHTS)
    assert w.indicators == pytest.approx({j: float(v) for j, v in EXACT.items()})
    r = mpi.compute(pl.DataFrame(rows), w, float(k), by=["district", "sex_head"], sample_weight=sw, id_column="id")
    checks: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(r["overall"], reference(rows, EXACT, k, sw))]
    for col in ("district", "sex_head"):
        for value, got in r["by"][col].items():
            checks.append((got, reference([x for x in rows if x[col] == value], EXACT, k, sw)))
    for got, want in checks:
        assert want is not None
        assert got["n"] == want["n"]
        for key in ("population", "H", "A", "M0"):
            assert close(got[key], want[key]), key
        for key in ("censored_headcount", "uncensored_headcount"):
            assert all(close(got[key][j], want[key][j]) for j in EXACT), key
        assert all(close(got["contribution"]["indicator"][j], want["contribution"][j]) for j in EXACT)


def check_identities(m: dict[str, Any], weights: mpi.Weights) -> None:
    assert m["M0"] == pytest.approx(m["H"] * m["A"], rel=1e-12)
    assert sum(m["contribution"]["indicator"].values()) == pytest.approx(1, rel=1e-12)
    assert sum(m["contribution"]["dimension"].values()) == pytest.approx(1, rel=1e-12)
    assert sum(m["absolute_contribution"]["indicator"].values()) == pytest.approx(m["M0"], rel=1e-12)
    assert sum(weights.indicators[j] * h for j, h in m["censored_headcount"].items()) == pytest.approx(
        m["M0"], rel=1e-12
    )
    for j in weights.indicators:
        assert m["censored_headcount"][j] <= m["uncensored_headcount"][j] + 1e-15


def test_identities_and_decomposition_add_up() -> None:
    rows = random_rows(random.Random(3), 2_000, list(EXACT))
    w = mpi.parse_weights(RANDOM_WEIGHTS)
    by = ["district", "sex_head", "size", "size:2,4,6", "id[:3]"]
    r = mpi.compute(pl.DataFrame(rows), w, 0.3, by=by, sample_weight="sw")
    total = r["overall"]
    check_identities(total, w)
    assert total["n_dropped_missing"] == sum(1 for x in rows if any(x[j] is None for j in EXACT)) > 0
    for spec in by:
        groups = r["by"][spec].values()
        for g in groups:
            if g["poor"]:
                check_identities(g, w)
        assert sum(g["population_share"] for g in groups) == pytest.approx(1, rel=1e-12)
        assert sum(g["population_share"] * g["M0"] for g in groups) == pytest.approx(total["M0"], rel=1e-12)
        assert sum(g["absolute_contribution_to_M0"] for g in groups) == pytest.approx(total["M0"], rel=1e-12)
        assert sum(g["contribution_to_M0"] for g in groups) == pytest.approx(1, rel=1e-12)
        assert sum(g["rows"] for g in groups) == total["rows"]
        for j in EXACT:  # indicator headcounts decompose the same way
            assert sum(g["population_share"] * g["censored_headcount"][j] for g in groups) == pytest.approx(
                total["censored_headcount"][j], rel=1e-12
            )


def test_sample_weights_equal_duplicating_rows() -> None:
    w = mpi.parse_weights(WEIGHTS)
    weighted = frame().with_columns(sw=pl.Series([2, 1, 3, 1]))
    copies = frame([HOUSEHOLDS[0]] * 2 + [HOUSEHOLDS[1]] + [HOUSEHOLDS[2]] * 3 + [HOUSEHOLDS[3]])
    copies = copies.with_columns(id=pl.Series([f"x{i}" for i in range(7)]))
    a = mpi.compute(weighted, w, 1 / 3, by=["sex_head"], sample_weight="sw")
    b = mpi.compute(copies, w, 1 / 3, by=["sex_head"])
    for x, y in [
        (a["overall"], b["overall"]),
        *zip(a["by"]["sex_head"].values(), b["by"]["sex_head"].values(), strict=True),
    ]:
        for key in ("population", "poor", "H", "A", "M0", "censored_headcount", "uncensored_headcount"):
            assert x[key] == pytest.approx(y[key], rel=1e-12), key
        for level in ("indicator", "dimension"):
            assert x["contribution"][level] == pytest.approx(y["contribution"][level], rel=1e-12)
    # (2 × 1 + 1/2 + 3 × 1/3) / 7 = 7/2 / 7 = 1/2
    assert a["overall"]["M0"] == pytest.approx(0.5)
    zero = frame().with_columns(sw=pl.Series([0, 1, 1, 1]))  # weight 0 = left out
    assert mpi.compute(zero, w, 1 / 3, sample_weight="sw")["overall"]["M0"] == pytest.approx((1 / 2 + 1 / 3) / 3)


def test_missing_values_drop_the_unit_and_are_counted() -> None:
    """OPHI convention: a unit with any missing indicator is left out of every measure."""
    w = mpi.parse_weights(WEIGHTS)
    rows = [
        *HOUSEHOLDS,
        ("E", 1, None, 1, 1, 1, "M", "46020101", 40, 3),
        ("F", None, None, 0, 0, 0, "F", "46010101", 50, 2),
    ]
    r = mpi.compute(frame(rows), w, 1 / 3, by=["sex_head"])
    o = r["overall"]
    assert (o["rows"], o["n"], o["n_dropped_missing"]) == (6, 4, 2)
    assert o["missing"] == {"h1": 1, "h2": 2, "e1": 0, "l1": 0, "l2": 0}
    assert o["M0"] == pytest.approx(11 / 24)  # as if E and F were not there
    assert r["by"]["sex_head"]["M"]["n_dropped_missing"] == 1 and r["by"]["sex_head"]["F"]["n"] == 2


def test_group_specs_prefix_bins_order_and_missing() -> None:
    w = mpi.parse_weights(WEIGHTS)
    rows = [*HOUSEHOLDS, ("E", 0, 0, 1, 0, 0, None, "46150301", None, 2)]
    r = mpi.compute(frame(rows), w, 1 / 3, by=["village[:4]", "age_head:40,60", "size", "sex_head"])
    assert list(r["by"]["village[:4]"]) == ["4601", "4602", "4615"]
    assert list(r["by"]["age_head:40,60"]) == ["<40", "[40,60)", ">=60", mpi.MISSING_GROUP]
    assert r["by"]["age_head:40,60"][">=60"]["n"] == 2  # 61 and 70; 60 would be in ">=60" too
    assert list(r["by"]["size"]) == ["1", "2", "5", "10"]  # numeric order, not 1, 10, 2, 5
    assert list(r["by"]["sex_head"]) == ["F", "M", mpi.MISSING_GROUP]
    assert mpi.parse_group("a:1.5,3") == mpi.GroupSpec("a:1.5,3", "a", cuts=(1.5, 3.0))
    assert mpi.parse_group("a:1", columns=["a:1"]).column == "a:1"  # a real column wins
    with pytest.raises(MPIError, match="must increase"):
        mpi.parse_group("a:3,1")
    with pytest.raises(MPIError, match="no column 'nope' for --by nope"):
        mpi.compute(frame(), w, 0.3, by=["nope"])


def test_text_frames_are_checked_and_converted() -> None:
    w = mpi.parse_weights(WEIGHTS)
    text = frame().with_columns(pl.col(INDICATORS).cast(pl.String))
    text = text.with_columns(h1=pl.Series([" 1", "1.0", "0", "1"]), h2=pl.Series(["1", "0", "", "NA"]))
    r = mpi.compute(text, w, 1 / 3, id_column="id")["overall"]
    assert r["n"] == 2  # C and D have a missing h2
    bools = frame().with_columns(pl.col(INDICATORS).cast(pl.Boolean))
    assert mpi.compute(bools, w, 1 / 3)["overall"]["M0"] == pytest.approx(11 / 24)


# --------------------------------------------------------------------------- weights and k


def effective(data: object) -> dict[str, float]:
    return mpi.parse_weights(data).indicators


SIXTHS = {"h1": 1 / 6, "h2": 1 / 6, "e1": 1 / 3, "l1": 1 / 6, "l2": 1 / 6}


@pytest.mark.parametrize(
    "data",
    [
        WEIGHTS,
        {"dimensions": {"health": ["h1", "h2"], "education": ["e1"], "living": ["l1", "l2"]}},  # all equal
        {
            "dimensions": {
                "health": {"h1": "1/6", "h2": "1/6"},
                "education": {"e1": "1/3"},
                "living": {"l1": "1/6", "l2": "1/6"},
            }
        },
        {
            "dimensions": {
                "health": {"h1": 0.1667, "h2": 0.1667},
                "education": {"e1": 0.333},
                "living": {"l1": 0.1667, "l2": 0.1667},
            }
        },
        {
            "dimensions": {
                "health": {"weight": 0.333, "indicators": ["h1", "h2"]},
                "education": {"weight": 0.333, "indicators": {"e1": 1}},
                "living": {"weight": 0.334, "indicators": {"l1": 0.5, "l2": 0.5}},
            }
        },
        {"name": "flat", "h1": "1/6", "h2": "1/6", "e1": "1/3", "l1": "1/6", "l2": "1/6"},
        {"indicators": {"h1": "1/6", "h2": "1/6", "e1": "1/3", "l1": "1/6", "l2": "1/6"}},
    ],
)
def test_weight_forms(data: object) -> None:
    got = effective(data)
    assert got == pytest.approx(SIXTHS, abs=1e-3)
    assert sum(got.values()) == pytest.approx(1, rel=1e-15)  # rescaled to exactly 1


def test_weight_form_names_and_flat_dimensions() -> None:
    assert mpi.parse_weights(WEIGHTS).form == "nested-relative"
    flat = mpi.parse_weights({"a": 0.5, "b": 0.5})
    assert flat.form == "flat" and flat.dimension_of == {"a": "a", "b": "b"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"dimensions": {"a": {"weight": 0.5, "indicators": ["x"]}, "b": {"weight": 0.4, "indicators": ["y"]}}},
            "dimension weights sum to 0.9, not 1",
        ),
        (
            {"dimensions": {"a": {"weight": 1, "indicators": {"x": 0.5, "y": 0.4}}}},
            "dimension 'a': indicator shares sum to 0.9, not 1",
        ),
        ({"dimensions": {"a": {"x": 0.5}, "b": {"y": 0.6}}}, "indicator weights sum to 1.1, not 1"),
        ({"x": 0.5, "y": 0.25}, "indicator weights sum to 0.75, not 1"),
        ({"dimensions": {"a": ["x", "y"], "b": ["y"]}}, "indicator 'y' is in dimensions 'a' and 'b'"),
        ({"dimensions": {"a": ["x"], "b": {"y": 0.5}}}, "use one form for all dimensions"),
        (
            {"dimensions": {"a": {"weight": 0.5, "indicators": ["x"]}, "b": ["y"]}},
            "give a 'weight' to every dimension or to none",
        ),
        ({"dimensions": {"a": {"weight": 1, "x": 1}}}, "has 'weight' but no 'indicators'"),
        ({"x": -0.5, "y": 1.5}, "weight of indicator 'x' must be greater than 0"),
        ({"x": "half", "y": 0.5}, "must be a number or a fraction"),
        ({"x": True, "y": 0.5}, "must be a number"),
        ({"dimensions": {"a": ["x"]}, "dimension": {}}, "unknown key(s) 'dimension'"),
        (
            {"dimensions": {"a": {"weight": 1, "indicators": ["x"], "wieght": 2}}},
            "dimension 'a': unknown key(s) 'wieght'",
        ),
        ({"dimensions": {"a": {"weight": 1, "indicators": []}}}, "'indicators' must"),
        ([0.5, 0.5], "must be a JSON object"),
    ],
)
def test_bad_weights_are_named(data: object, message: str) -> None:
    with pytest.raises(MPIError) as err:
        mpi.parse_weights(data, "w.json")
    assert message in str(err.value) and str(err.value).startswith("w.json")


@pytest.mark.parametrize(
    ("text", "k"),
    [
        ("0.33", 0.33),
        ("33", 0.33),
        ("33%", 0.33),
        (" 33.3 % ", 0.333),
        ("1/3", 1 / 3),
        ("1", 1.0),
        ("100", 1.0),
        ("1%", 0.01),
        (0.5, 0.5),
    ],
)
def test_k_as_fraction_or_percent(text: str | float, k: float) -> None:
    assert mpi.parse_k(text) == pytest.approx(k)


@pytest.mark.parametrize("text", ["0", "0%", "-5", "101", "abc", "1/0", ""])
def test_bad_k(text: str) -> None:
    with pytest.raises(MPIError, match="k must"):
        mpi.parse_k(text)


# --------------------------------------------------------------------------- two rounds


def test_changes_between_two_rounds() -> None:
    """Round 1 is the worked example (M0 11/24, H 3/4, A 11/18); in round 2 household B is
    deprived in e1 only (score 1/3, still poor) and C in nothing: poor A, B.
    H 1/2, A (1 + 1/3)/2 = 2/3, M0 (1 + 1/3)/4 = 1/3.
    ΔM0 = 1/3 − 11/24 = −1/8; relative −(1/8)/(11/24) = −3/11; over 2 years:
    −1/16 a year, annualised relative (8/11)^(1/2) − 1."""
    w = mpi.parse_weights(WEIGHTS)
    later = [
        HOUSEHOLDS[0],
        ("B", 0, 0, 1, 0, 0, "F", "46010102", 63, 2),
        ("C", 0, 0, 0, 0, 0, "M", "46020101", 47, 9),
        HOUSEHOLDS[3],
    ]
    r1 = mpi.compute(frame(), w, 1 / 3, by=["sex_head"])
    r2 = mpi.compute(frame(later), w, 1 / 3, by=["sex_head"])
    c = mpi.compare(r1, r2, years=2, labels=["2566", "2568"])
    assert [x["label"] for x in c["rounds"]] == ["2566", "2568"]
    m0 = c["change"]["overall"]["M0"]
    assert m0["from"] == pytest.approx(11 / 24) and m0["to"] == pytest.approx(1 / 3)
    assert m0["absolute"] == pytest.approx(-1 / 8)
    assert m0["relative"] == pytest.approx(-3 / 11)
    assert m0["annualised_absolute"] == pytest.approx(-1 / 16)
    assert m0["annualised_relative"] == pytest.approx((8 / 11) ** 0.5 - 1)
    assert c["change"]["overall"]["H"]["absolute"] == pytest.approx(-1 / 4)
    assert c["change"]["overall"]["A"]["absolute"] == pytest.approx(2 / 3 - 11 / 18)
    assert c["change"]["overall"]["censored_headcount"]["h1"]["absolute"] == pytest.approx(-1 / 4)
    male = c["change"]["by"]["sex_head"]["M"]["M0"]  # C leaves poverty: 1/6 → 0
    assert (male["absolute"], male["relative"], male["annualised_relative"]) == pytest.approx((-1 / 6, -1, -1))
    no_years = mpi.compare(r1, r2)
    assert no_years["change"]["overall"]["M0"]["annualised_absolute"] is None
    with pytest.raises(MPIError, match="different k"):
        mpi.compare(r1, mpi.compute(frame(later), w, 0.5, by=["sex_head"]))


def test_a_group_in_one_round_only_gets_nulls() -> None:
    w = mpi.parse_weights(WEIGHTS)
    r1 = mpi.compute(frame(), w, 1 / 3, by=["village"])
    r2 = mpi.compute(frame([*HOUSEHOLDS[:3], ("D", 1, 0, 0, 0, 0, "M", "46030101", 70, 1)]), w, 1 / 3, by=["village"])
    change = mpi.compare(r1, r2)["change"]["by"]["village"]
    assert change["46030101"]["M0"]["from"] is None and change["46030101"]["M0"]["absolute"] is None
    assert change["46020101"]["population_share"]["absolute"] == pytest.approx(-1 / 4)


# --------------------------------------------------------------------------- files and the CLI


def write_csv(path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None, **kw: Any) -> Path:
    header = header or ["id", *INDICATORS, "sex_head", "village", "age_head", "size"]
    encoding = kw.pop("encoding", "utf-8")
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, **kw)
        w.writerow(header)
        w.writerows(["" if v is None else v for v in r] for r in rows)
    return path


@pytest.fixture()
def weights_file(tmp_path: Path) -> Path:
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(WEIGHTS), encoding="utf-8")
    return path


def test_cli_end_to_end(tmp_path: Path, weights_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "deprivations.csv", [*HOUSEHOLDS, ("E", 1, None, 1, 1, 1, "M", "46020101", 40, 3)])
    out = tmp_path / "out" / "result.json"
    args = ["mpi", str(data), "--weights", str(weights_file), "--k", "33.3", "--out", str(out)]
    code = main([*args, "--by", "sex_head", "village[:4]", "--by", "age_head:40,60"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "deprivations.csv: 4 units (1 left out for missing values)" in printed and "M0 0.4583" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["format"] == "khm-mpi/1" and result["k"] == pytest.approx(0.333)
    assert result["overall"]["M0"] == pytest.approx(11 / 24) and result["overall"]["n_dropped_missing"] == 1
    assert set(result["by"]) == {"sex_head", "village[:4]", "age_head:40,60"}
    assert result["by"]["sex_head"]["F"]["contribution_to_M0"] == pytest.approx(9 / 11)
    assert result["by"]["village[:4]"]["4602"]["rows"] == 3
    info = result["input"]["deprivations"]
    assert info["file"] == "deprivations.csv" and len(info["sha256"]) == 64 and info["encoding"] == "utf-8"
    assert result["weights"]["dimension"] == pytest.approx({"health": 1 / 3, "education": 1 / 3, "living": 1 / 3})
    assert not list(out.parent.glob("*.tmp"))


def test_cli_sample_weight_cp874_semicolons(tmp_path: Path, weights_file: Path) -> None:
    header = ["id", *INDICATORS, "อำเภอ", "น้ำหนัก"]
    rows = [
        (*h[:6], d, sw)
        for h, d, sw in zip(HOUSEHOLDS, ["เมือง", "เมือง", "ยางตลาด", "ยางตลาด"], [2, 1, 3, 1], strict=True)
    ]
    data = write_csv(tmp_path / "tis620.csv", rows, header, encoding="cp874", delimiter=";")
    out = tmp_path / "r.json"
    args = ["mpi", str(data), "--weights", str(weights_file), "--k", "1/3", "--out", str(out), "-q"]
    assert main([*args, "--by", "อำเภอ", "--sample-weight", "น้ำหนัก"]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["input"]["deprivations"]["encoding"] == "cp874"
    assert result["overall"]["M0"] == pytest.approx(0.5) and result["overall"]["population"] == 7
    assert result["by"]["อำเภอ"]["เมือง"]["population_share"] == pytest.approx(3 / 7)


def test_cli_two_rounds_as_files_or_a_round_column(tmp_path: Path, weights_file: Path) -> None:
    later = [
        HOUSEHOLDS[0],
        ("B", 0, 0, 1, 0, 0, "F", "46010102", 63, 2),
        ("C", 0, 0, 0, 0, 0, "M", "46020101", 47, 9),
        HOUSEHOLDS[3],
    ]
    r1 = write_csv(tmp_path / "round1.csv", HOUSEHOLDS)
    r2 = write_csv(tmp_path / "round2.csv", later)
    header = ["id", *INDICATORS, "sex_head", "village", "age_head", "size", "survey"]
    both = write_csv(tmp_path / "both.csv", [(*h, "2566") for h in HOUSEHOLDS] + [(*h, "2568") for h in later], header)
    common = ["--weights", str(weights_file), "--k", "1/3", "--by", "sex_head", "--years", "2", "-q"]
    assert main(["mpi", str(r1), "--compare", str(r2), "--out", str(tmp_path / "a.json"), *common]) == 0
    assert main(["mpi", str(both), "--round-column", "survey", "--out", str(tmp_path / "b.json"), *common]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert [r["label"] for r in a["rounds"]] == ["round1.csv", "round2.csv"]
    assert [r["label"] for r in b["rounds"]] == ["2566", "2568"]  # the same ids in both rounds is fine
    assert a["years"] == 2 and a["change"] == b["change"]
    assert a["change"]["overall"]["M0"]["absolute"] == pytest.approx(-1 / 8)


def bad_rows(**changes: Any) -> list[list[Any]]:
    rows = [list(h) for h in HOUSEHOLDS]
    for key, value in changes.items():
        row, col = key.split("_", 1)
        rows["ABCD".index(row)][["id", *INDICATORS, "sex_head", "village", "age_head", "size"].index(col)] = value
    return rows


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        (bad_rows(C_e1=2), [], "data.csv: row 3 (id 'C'), column 'e1': '2' is not 0, 1 or empty"),
        (bad_rows(B_h2="yes", D_l2="-1"), [], "row 2 (id 'B'), column 'h2': 'yes' is not 0, 1"),
        (bad_rows(B_h2="yes", D_l2="-1"), [], "row 4 (id 'D'), column 'l2': '-1' is not 0, 1"),
        (bad_rows(B_id="A"), [], "id 'A' appears in rows [1, 2]; ids must be unique"),
        (bad_rows(C_id=""), [], "the id column 'id' is empty in row(s) [3]"),
        (
            bad_rows(D_age_head="seventy"),
            ["--by", "age_head:40,60"],
            "row 4 (id 'D'), column 'age_head': 'seventy' is not a number",
        ),
        (bad_rows(), ["--sample-weight", "size2"], "has no sample weight column 'size2'"),
        (bad_rows(), ["--sample-weight", "sex_head"], "row 1 (id 'A'), column 'sex_head': 'F' is not a sample weight"),
        (bad_rows(), ["--by", "district"], "has no column 'district' for --by district"),
        (bad_rows(), ["--id", "hh"], "has no id column (--id) 'hh'"),
        (bad_rows(), ["--years", "3"], "--years needs two rounds"),
        ([], [], "data.csv: no rows"),
    ],
)
def test_cli_bad_input_exits_2_naming_row_and_column(
    tmp_path: Path,
    weights_file: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[list[Any]],
    extra: list[str],
    message: str,
) -> None:
    data = write_csv(tmp_path / "data.csv", rows)
    out = tmp_path / "r.json"
    assert main(["mpi", str(data), "--weights", str(weights_file), "--k", "0.3", "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_sample_weight_errors(tmp_path: Path, weights_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(*h[:6], sw) for h, sw in zip(HOUSEHOLDS, ["1", "-2", "", "1"], strict=True)]
    data = write_csv(tmp_path / "data.csv", rows, ["id", *INDICATORS, "w"])
    assert (
        main(
            [
                "mpi",
                str(data),
                "--weights",
                str(weights_file),
                "--k",
                "0.3",
                "--out",
                str(tmp_path / "r.json"),
                "--sample-weight",
                "w",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "row 2 (id 'B'), column 'w': '-2' is not a sample weight" in err
    assert "row 3 (id 'C'), column 'w': (empty) is not a sample weight" in err


def test_cli_missing_indicator_column_and_bad_weights(
    tmp_path: Path, weights_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_csv(tmp_path / "data.csv", [h[:4] for h in HOUSEHOLDS], ["id", "h1", "h2", "e1"])
    assert (
        main(["mpi", str(data), "--weights", str(weights_file), "--k", "0.3", "--out", str(tmp_path / "r.json")]) == 2
    )
    assert "data.csv has no column for indicator(s) 'l1', 'l2' named in the weights" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"dimensions": {"a": {"weight": 0.5, "indicators": ["h1"]}}}', encoding="utf-8")
    assert main(["mpi", str(data), "--weights", str(bad), "--k", "0.3", "--out", str(tmp_path / "r.json")]) == 2
    assert "bad.json: dimension weights sum to 0.5, not 1" in capsys.readouterr().err
    bad.write_text("{'a': 1}", encoding="utf-8")
    assert main(["mpi", str(data), "--weights", str(bad), "--k", "0.3", "--out", str(tmp_path / "r.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_cli_usage_errors(tmp_path: Path, weights_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "data.csv", HOUSEHOLDS)
    base = ["mpi", str(data), "--weights", str(weights_file), "--out", str(tmp_path / "r.json")]
    assert main(base) == 2  # --k missing
    assert main([*base, "--k", "150"]) == 2
    assert "k must be above 0 and at most 1" in capsys.readouterr().err
    assert main([*base, "--k", "0.3", "--compare", str(data), "--round-column", "x"]) == 2
    assert main([*base, "--k", "0.3", "--compare", str(data), "--years", "0"]) == 2
    assert (
        main(["mpi", str(tmp_path / "nope.csv"), "--weights", str(weights_file), "--k", "0.3", "--out", "x.json"]) == 2
    )
    assert "input file not found" in capsys.readouterr().err
    assert main([*base, "--k", "0.3", "--by", "sex_head", "sex_head"]) == 2
    assert "the same --by is given twice" in capsys.readouterr().err


def test_installed_console_script(tmp_path: Path, weights_file: Path) -> None:
    script = Path(sys.executable).parent / "khm"
    if not script.exists():
        pytest.skip("the khm console script is not installed in this environment")
    data = write_csv(tmp_path / "data.csv", HOUSEHOLDS)
    out = tmp_path / "r.json"
    done = subprocess.run(
        [str(script), "mpi", str(data), "--weights", str(weights_file), "--k", "1/3", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "H 0.7500  A 0.6111  M0 0.4583" in done.stdout
    assert json.loads(out.read_text())["overall"]["H"] == 0.75


def test_round_column_ids_unique_within_each_round(
    tmp_path: Path, weights_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["id", *INDICATORS, "sex_head", "village", "age_head", "size", "survey"]
    rows = [(*h, "1") for h in HOUSEHOLDS] + [(*h, "2") for h in HOUSEHOLDS[:2]] + [(*HOUSEHOLDS[1], "2")]
    data = write_csv(tmp_path / "both.csv", rows, header)
    args = ["mpi", str(data), "--weights", str(weights_file), "--k", "0.3", "--out", str(tmp_path / "r.json")]
    assert main([*args, "--round-column", "survey"]) == 2
    assert "id 'B' appears in rows [6, 7] in round '2'" in capsys.readouterr().err
    three = write_csv(tmp_path / "three.csv", [(*h, str(i % 3)) for i, h in enumerate(HOUSEHOLDS)], header)
    assert main(["mpi", str(three), *args[2:], "--round-column", "survey"]) == 2
    assert "must hold exactly two values, found 3" in capsys.readouterr().err


def test_bom_padded_headers_and_many_bad_cells(tmp_path: Path, weights_file: Path) -> None:
    w = mpi.load_weights(weights_file)
    path = tmp_path / "bom.csv"
    header = ["id ", " h1", "h2", "e1", "l1", "l2 "]
    write_csv(path, [h[:6] for h in HOUSEHOLDS], header, encoding="utf-8-sig")
    df = mpi.read_deprivations(path, w)
    assert df.columns == ["id", *INDICATORS] and df.schema["h1"] == pl.Int8
    assert mpi.compute(df, w, 1 / 3, check=False)["overall"]["M0"] == pytest.approx(11 / 24)
    many = write_csv(tmp_path / "many.csv", [(f"u{i}", 3, 1, 1, 1, 1) for i in range(25)], ["id", *INDICATORS])
    with pytest.raises(MPIError) as err:
        mpi.read_deprivations(many, w)
    lines = str(err.value).splitlines()
    assert len(lines) == 11 and lines[0] == "many.csv: row 1 (id 'u0'), column 'h1': '3' is not 0, 1 or empty (missing)"
    assert lines[-1] == "many.csv: 25 bad cells in all (by column: 'h1': 25)"


def test_score_expr_and_result_json_layout(tmp_path: Path) -> None:
    w = mpi.parse_weights(WEIGHTS)
    rows = [*HOUSEHOLDS, ("E", 1, None, 1, 1, 1, "M", "46020101", 40, 3)]
    scores = frame(rows).select(mpi.score_expr(w))["score"].to_list()
    assert scores[:4] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 6]) and scores[4] is None
    result = mpi.compute(frame(rows), w, 1 / 3, by=["sex_head", "village"])
    path = mpi.write_result(result, tmp_path / "deep" / "r.json")
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(result))
    group_lines = [line for line in text.splitlines() if line.lstrip().startswith(('"F": {', '"46010101": {'))]
    assert len(group_lines) == 2 and all(line.rstrip(",").endswith("}") for line in group_lines)  # one line each
