"""Splink model definitions: comparisons, blocking rules and training plan.

Everything here is *backend-agnostic*: comparisons are built from Splink's comparison
level library (which writes each backend's SQL dialect, e.g. ``jaro_winkler_similarity``
on DuckDB, the Splink UDF on Spark) and from plain ANSI SQL equality conditions. The
choice of database lives in :mod:`.backend` only.

Columns are those of :data:`khm.engines.linkage.fields.SCHEMA`. A comparison is left
out when its columns are empty in every list (an absent role), so a list with no birth
date simply links on the other evidence.

Why the comparisons look the way they do (also in docs/linkage.md):

* **One name comparison** over first *and* last name. Household members share a
  surname, so first and last name are not independent evidence; a single comparison
  with a level for "surname only" learns how weak that is.
* **One address comparison** combining house number, village code/moo and postcode.
  Household members share all of them; as separate comparisons they would count the
  same fact three times and link parents to children.
* Birth date, sex and the national ID (fuzzy: one typo or transposition) are the other
  comparisons. Equal *valid* national IDs are decided before the model (deterministic
  rule, probability 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

Rule = Any  # a Splink BlockingRuleCreator


def _mu(level: Any, m: float, u: float) -> Any:
    """Starting m/u of a level: training replaces them; they stand where it cannot.

    Values are rough shares for true matches (m) and random pairs (u) in Thai
    registers; they matter only for small lists (no EM below MIN_RECORDS_FOR_EM) and for
    levels that training never observes. Listed in docs/linkage.md.
    """
    return level.configure(m_probability=m, u_probability=u)


def _eq(col: str) -> str:
    return f"({col}_l = {col}_r)"


def _first_match(avail: set[str]) -> str:
    """First names the same in spelling skeleton, Thai sound or Latin sound (or nickname)."""
    parts = [_eq("fn_sk"), _eq("fn_ph"), _eq("fn_lat")]
    if "nick_sk" in avail:
        parts += ["(nick_sk_l = fn_sk_r)", "(fn_sk_l = nick_sk_r)", _eq("nick_sk")]
    return "(" + " OR ".join(parts) + ")"


def _last_match() -> str:
    return "(" + " OR ".join([_eq("ln_sk"), _eq("ln_ph"), _eq("ln_lat")]) + ")"


def name_comparison(avail: set[str]) -> Any:
    first, last = _first_match(avail), _last_match()
    swapped = "((fn_sk_l = ln_sk_r AND ln_sk_l = fn_sk_r) OR (fn_lat_l = ln_lat_r AND ln_lat_l = fn_lat_r))"
    # Typing errors: one edit in the Thai skeleton, or close Latin sound keys.
    fn_fuzzy = cll.Or(cll.LevenshteinLevel("fn_sk", 1), cll.JaroWinklerLevel("fn_lat", 0.9))
    ln_fuzzy = cll.Or(cll.LevenshteinLevel("ln_sk", 1), cll.JaroWinklerLevel("ln_lat", 0.9))
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="first and last name together (Thai-aware)",
        comparison_levels=[
            cll.And(cll.NullLevel("fn_lat"), cll.NullLevel("ln_lat")),
            _mu(cll.CustomLevel("(fn_l = fn_r AND ln_l = ln_r)", label_for_charts="exact first and last"), 0.70, 1e-6),
            _mu(
                cll.CustomLevel(
                    f"({_eq('fn_sk')} AND {_eq('ln_sk')})", label_for_charts="same spelling skeleton (tone/vowel)"
                ),
                0.06,
                2e-7,
            ),
            _mu(cll.CustomLevel(swapped, label_for_charts="first and last swapped"), 0.02, 1e-8),
            _mu(cll.CustomLevel(f"({first} AND {last})", label_for_charts="same sound (Thai or Latin)"), 0.06, 5e-6),
            _mu(
                cll.And(fn_fuzzy, ln_fuzzy).configure(label_for_charts="both names one typo / close sound"), 0.05, 1e-5
            ),
            _mu(
                cll.CustomLevel(f"{first}", label_for_charts="first name only (e.g. married, new surname)"), 0.05, 2e-4
            ),
            _mu(
                cll.And(
                    cll.CustomLevel(last),
                    cll.Or(cll.LevenshteinLevel("fn_sk", 2), cll.JaroWinklerLevel("fn_lat", 0.8)),
                ).configure(label_for_charts="surname, first name similar"),
                0.02,
                5e-4,
            ),
            _mu(cll.CustomLevel(last, label_for_charts="surname only (household members)"), 0.01, 1e-3),
            _mu(cll.ElseLevel(), 0.03, 0.998),
        ],
    )


def dob_comparison() -> Any:
    year_diff = "abs(cast(dob_y_l as integer) - cast(dob_y_r as integer))"
    swapped_dm = (
        "(substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2)"
        " AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2))"
    )
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date (ISO, CE) or birth year",
        comparison_levels=[
            cll.NullLevel("dob_y"),
            _mu(cll.ExactMatchLevel("dob"), 0.85, 4e-5),
            _mu(
                cll.Or(cll.LevenshteinLevel("dob", 1), cll.CustomLevel(swapped_dm)).configure(
                    label_for_charts="one digit off or day/month swapped"
                ),
                0.06,
                3e-4,
            ),
            _mu(
                cll.CustomLevel("(substr(dob_l, 1, 7) = substr(dob_r, 1, 7))", label_for_charts="same year and month"),
                0.02,
                1e-3,
            ),
            _mu(cll.ExactMatchLevel("dob_y").configure(label_for_charts="same year"), 0.03, 0.012),
            _mu(cll.CustomLevel(f"({year_diff} <= 1)", label_for_charts="year ±1"), 0.02, 0.025),
            _mu(cll.ElseLevel(), 0.02, 0.96),
        ],
    )


def address_comparison(avail: set[str]) -> Any:
    """House number, village (subdistrict code + moo) and postcode as one comparison."""
    cols = ("house", "tambon", "moo", "vill", "postcode")
    null_side = " OR ".join("(" + " AND ".join(f"{c}_{side} IS NULL" for c in cols) + ")" for side in ("l", "r"))
    same_place = f"({_eq('vill')} OR ({_eq('tambon')} AND (moo_l IS NULL OR moo_r IS NULL)))"
    levels: list[Any] = [
        cll.CustomLevel(f"({null_side})").configure(is_null_level=True, label_for_charts="no address"),
        _mu(
            cll.CustomLevel(f"({_eq('house')} AND {same_place})", label_for_charts="same house, same village"),
            0.75,
            1e-4,
        ),
        _mu(
            cll.CustomLevel(
                f"({_eq('house_base')} AND {same_place})", label_for_charts="same house base number, same village"
            ),
            0.05,
            3e-4,
        ),
        _mu(cll.CustomLevel(_eq("house"), label_for_charts="same house number, other village"), 0.05, 2e-3),
        _mu(cll.CustomLevel(same_place, label_for_charts="same village, other house"), 0.08, 0.002),
        _mu(
            cll.CustomLevel(f"({_eq('tambon')} OR {_eq('postcode')})", label_for_charts="same subdistrict or postcode"),
            0.02,
            0.05,
        ),
        _mu(cll.ElseLevel(), 0.05, 0.94),
    ]
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="house number + village (subdistrict code, moo) + postcode as ONE comparison",
        comparison_levels=levels,
    )


def id_comparison() -> Any:
    return cl.CustomComparison(
        output_column_name="national_id",
        comparison_description="13-digit ID, valid or not",
        comparison_levels=[
            cll.NullLevel("nid_any"),
            _mu(cll.ExactMatchLevel("nid_any"), 0.90, 1e-9),
            _mu(
                cll.LevenshteinLevel("nid_any", 2).configure(label_for_charts="one digit wrong or two swapped"),
                0.05,
                1e-6,
            ),
            _mu(cll.ElseLevel(), 0.05, 1.0 - 1e-6),
        ],
    )


def sex_comparison() -> Any:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            cll.NullLevel("sex"),
            _mu(cll.ExactMatchLevel("sex"), 0.98, 0.5),
            _mu(cll.ElseLevel(), 0.02, 0.5),
        ],
    )


@dataclass(frozen=True)
class ModelPlan:
    """A Splink settings object plus how to train it."""

    settings: SettingsCreator
    em_rules: Sequence[Rule]
    deterministic: bool = True
    comparisons: list[str] = field(default_factory=list)


def _source_guard(exclude_within: Sequence[str]) -> str:
    """SQL that drops pairs inside a list already free of duplicates (e.g. the registry)."""
    for name in exclude_within:
        if not name.replace("_", "").replace("-", "").replace(":", "").isalnum():
            raise ValueError(f"source name {name!r}: letters, digits, _ - : only")
    return " AND ".join(f"NOT (l.source = '{n}' AND r.source = '{n}')" for n in exclude_within)


def _rules(rules: list[Rule], exclude_within: Sequence[str]) -> list[Rule]:
    """The same blocking rules, each also refusing pairs inside an excluded list.

    Equal-column rules become SQL (``l.a = r.a AND ...``); the engine still uses the
    equalities as join keys, the guard is a filter on the joined pairs.
    """
    guard = _source_guard(exclude_within)
    if not guard:
        return rules
    out: list[Rule] = []
    for rule in rules:
        cond = " AND ".join(f"l.{c} = r.{c}" for c in rule) if isinstance(rule, tuple) else rule
        out.append(CustomRule(f"{cond} AND {guard}"))
    return out


def _block(rules: list[Any], exclude_within: Sequence[str]) -> list[Rule]:
    """Rules given as column tuples or SQL strings → Splink rules (guarded if asked)."""
    if exclude_within:
        return _rules(rules, exclude_within)
    return [block_on(*r) if isinstance(r, tuple) else CustomRule(r) for r in rules]


def _has_names(avail: set[str]) -> bool:
    return bool({"fn_lat", "ln_lat"} & avail)


def thai_aware_plan(avail: set[str], link_type: str, *, exclude_within: Sequence[str] = ()) -> ModelPlan:
    comparisons: list[Any] = []
    names: list[str] = []
    if _has_names(avail):
        comparisons.append(name_comparison(avail))
        names.append("name")
    if "dob_y" in avail:
        comparisons.append(dob_comparison())
        names.append("birth_date")
    if "sex" in avail:
        comparisons.append(sex_comparison())
        names.append("sex")
    if {"house", "tambon", "vill", "postcode"} & avail:
        comparisons.append(address_comparison(avail))
        names.append("address")
    if "nid_any" in avail:
        comparisons.append(id_comparison())
        names.append("national_id")
    if not comparisons:
        raise ValueError("nothing to compare: the lists have no id, name, birth date, sex or address values")

    rules: list[Any] = []
    if "nid" in avail:
        rules.append(("nid",))
    if _has_names(avail):
        rules += [
            ("fn_sk", "ln_sk"),
            "l.fn_sk = r.ln_sk AND l.ln_sk = r.fn_sk",
            ("fn_lat", "ln_lat"),
        ]
        if "dob" in avail:
            rules += [("dob", "fn_lat"), ("dob", "ln_lat")]
        elif "dob_y" in avail:
            rules += [("dob_y", "fn_lat"), ("dob_y", "ln_lat")]
        # (Same village + first-name sound was tried: at 1.5 M rows it doubled the
        # candidate pairs for 31 more true pairs out of 904,000.)
    if "dob" in avail and "vill" in avail:
        rules.append(("dob", "vill"))
    elif "dob" in avail and "house" in avail:
        rules.append(("dob", "house"))

    em_rules: list[Any] = []
    if _has_names(avail):
        em_rules.append(("fn_sk", "ln_sk"))
    if "dob" in avail and "vill" in avail:
        em_rules.append(("dob", "vill"))
    elif "dob" in avail and "house" in avail:
        em_rules.append(("dob", "house"))
    elif "dob" in avail:
        em_rules.append(("dob", "sex"))

    settings = SettingsCreator(
        link_type=link_type,  # type: ignore[arg-type]
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=_block(rules, exclude_within),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["nid", "source"],
        em_convergence=0.001,
        max_iterations=20,
    )
    return ModelPlan(
        settings=settings, em_rules=_block(em_rules, exclude_within), deterministic=True, comparisons=names
    )


def baseline_plan(avail: set[str], link_type: str, *, exclude_within: Sequence[str] = ()) -> ModelPlan:
    """Splink "out of the box": library comparisons on raw columns, no Thai handling.

    Names are compared as typed (title and tone marks included, Thai vs Latin script
    never equal); house and village are separate exact matches. Dates are given in ISO
    form because Splink's date comparison needs one; the national ID is exact match.
    No deterministic rule: equal IDs are just strong evidence.
    """
    comparisons: list[Any] = []
    names: list[str] = []
    for col in ("first_name_raw", "last_name_raw"):
        if col in avail:
            comparisons.append(cl.NameComparison(col))
            names.append(col)
    if "dob" in avail:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
        names.append("dob")
    for col in ("sex", "house_raw", "area_raw", "postcode", "nid_any"):
        if col in avail:
            comparisons.append(cl.ExactMatch(col))
            names.append(col)
    if not comparisons:
        raise ValueError("nothing to compare")
    rules: list[Any] = []
    if "nid_any" in avail:
        rules.append(("nid_any",))
    if {"first_name_raw", "last_name_raw"} <= avail:
        rules.append(("first_name_raw", "last_name_raw"))
    if "dob" in avail:
        for col in ("first_name_raw", "last_name_raw", "area_raw"):
            if col in avail:
                rules.append(("dob", col))
    em_rules: list[Any] = []
    if {"first_name_raw", "last_name_raw"} <= avail:
        em_rules.append(("first_name_raw", "last_name_raw"))
    if "dob" in avail and "area_raw" in avail:
        em_rules.append(("dob", "area_raw"))
    elif "dob" in avail:
        em_rules.append(("dob", "sex"))
    settings = SettingsCreator(
        link_type=link_type,  # type: ignore[arg-type]
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=_block(rules, exclude_within),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["nid", "source"],
        em_convergence=0.001,
        max_iterations=20,
    )
    return ModelPlan(
        settings=settings, em_rules=_block(em_rules, exclude_within), deterministic=False, comparisons=names
    )
