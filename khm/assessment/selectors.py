"""Reads of assessments and results that depend on who asks (all through the scoping primitive)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db.models import QuerySet

from khm.accounts.scoping import Scope, scope_for
from khm.assessment import instruments as inst
from khm.assessment.models import Assessment, AssessmentResult, Instrument, ScoringRun
from khm.engines import mpi
from khm.engines.scoring import CAPITALS

VIEW = "assessment.view"
AGGREGATE = "assessment.aggregate"
LEVELS = (1, 2, 3, 4)


def assessments_visible(actor: Any, action: str = VIEW) -> QuerySet[Assessment]:
    return Assessment.objects.filter(scope_for(actor, action).q("area_code"))


def results_visible(actor: Any, action: str = VIEW) -> QuerySet[AssessmentResult]:
    return AssessmentResult.objects.filter(scope_for(actor, action).q("area_code"))


def runs_visible(actor: Any) -> QuerySet[ScoringRun]:
    """Runs over an area inside the actor's scoring scope (a run holds no personal data)."""
    scope = scope_for(actor, "assessment.score")
    if scope.empty:
        return ScoringRun.objects.none()
    if "" in scope.prefixes:
        return ScoringRun.objects.all()
    keep = [r.pk for r in ScoringRun.objects.only("pk", "area_code") if r.area_code and scope.covers_area(r.area_code)]
    return ScoringRun.objects.filter(pk__in=keep)


def rounds() -> list[str]:
    """Survey rounds that have assessments (labels only, newest first)."""
    return sorted(set(Assessment.objects.values_list("round", flat=True).distinct()), reverse=True)


@dataclass
class HistoryRow:
    assessment: Assessment
    result: AssessmentResult | None


def household_history(actor: Any, household: Any) -> list[HistoryRow]:
    """The household's assessments, newest first, each with its current result."""
    found = list(
        assessments_visible(actor).filter(household=household).select_related("assessor", "capitals_instrument")
    )
    results = {
        r.assessment_id: r
        for r in results_visible(actor).filter(assessment__in=found, current=True).select_related("run")
    }
    return [HistoryRow(a, results.get(a.pk)) for a in found]


# --------------------------------------------------------------------------- area summary

_COLUMNS = (
    "household_id", "area_code", "level", "overall", *CAPITALS, "deprived_bits", "missing_bits",
    "tpmap_poor", "target_poor", "head_sex", "head_age", "size", "run__bmn_instrument_id",
)  # fmt: skip


def _frame(scope: Scope, round: str) -> pl.DataFrame:
    rows = AssessmentResult.objects.filter(scope.q("area_code"), current=True, round=round).values_list(*_COLUMNS)
    schema = {
        "household_id": pl.Int64, "area_code": pl.Utf8, "level": pl.Int64, "overall": pl.Float64,
        **dict.fromkeys(CAPITALS, pl.Float64), "deprived_bits": pl.Int64, "missing_bits": pl.Int64,
        "tpmap_poor": pl.Boolean, "target_poor": pl.Boolean, "head_sex": pl.Utf8, "head_age": pl.Int64,
        "size": pl.Int64, "bmn": pl.Int64,
    }  # fmt: skip
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _decode(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """One 0/1/null column per BMN indicator code, decoded with each row's own instrument."""
    codes: list[str] = []
    parts = []
    for (bmn_id,), part in df.group_by(["bmn"], maintain_order=True):
        definition = inst.definition(Instrument.objects.get(pk=bmn_id)) if bmn_id is not None else None
        exprs = []
        for i, ind in enumerate((definition or {}).get("indicators", [])):
            bit = 1 << i
            exprs.append(
                pl.when((pl.col("missing_bits") // bit) % 2 == 1)
                .then(None)
                .otherwise((pl.col("deprived_bits") // bit) % 2)
                .cast(pl.Int8)
                .alias(ind["code"])
            )
            if ind["code"] not in codes:
                codes.append(ind["code"])
        parts.append(part.with_columns(exprs))
    if not parts:
        return df, codes
    return pl.concat(parts, how="diagonal_relaxed"), codes


@dataclass
class Summary:
    round: str
    n: int
    levels: dict[int, int]
    level_unknown: int
    capitals: dict[str, float | None]
    overall: float | None
    tpmap_poor: int
    target_poor: int
    deprivations: list[dict[str, Any]]  # per indicator: code, count, share
    mpi: dict[str, Any] | None
    children: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)


def _band_age(col: str) -> pl.Expr:
    a = pl.col(col)
    return (
        pl.when(a.is_null())
        .then(pl.lit("?"))
        .when(a < 35)
        .then(pl.lit("<35"))
        .when(a < 60)
        .then(pl.lit("35-59"))
        .otherwise(pl.lit("60+"))
    )


def _band_size(col: str) -> pl.Expr:
    s = pl.col(col)
    return (
        pl.when(s <= 1)
        .then(pl.lit("1"))
        .when(s <= 3)
        .then(pl.lit("2-3"))
        .when(s <= 5)
        .then(pl.lit("4-5"))
        .otherwise(pl.lit("6+"))
    )


def summarise(df: pl.DataFrame, round: str, child_len: int | None) -> Summary:
    bmn = inst.current_of_kind("bmn")
    bmn_def = inst.definition(bmn) or {}
    df, codes = _decode(df)
    n = df.height
    levels = {lv: int(df.filter(pl.col("level") == lv).height) for lv in LEVELS}
    caps: dict[str, float | None] = dict.fromkeys(CAPITALS)
    for c in CAPITALS:
        v = df[c].mean() if n else None
        caps[c] = float(v) if isinstance(v, int | float) else None
    overall = df["overall"].mean() if n else None
    labels = {i["code"]: i for i in bmn_def.get("indicators", [])}
    deps = []
    for code in codes:
        col = df[code]
        known = int(col.is_not_null().sum())
        count = int(col.fill_null(0).sum())
        deps.append(
            {
                "code": code,
                "indicator": labels.get(code),
                "count": count,
                "known": known,
                "share": count / known if known else None,
            }
        )
    deps.sort(key=lambda d: (-float(d["share"] or 0), str(d["code"])))
    result = None
    groups: dict[str, dict[str, Any]] = {}
    weights_def = (bmn_def.get("mpi") or {}).get("weights")
    child = (pl.col("area_code").str.slice(0, child_len) if child_len else pl.lit("")).alias("child")
    if n and weights_def and all(c in df.columns for ws in weights_def["dimensions"].values() for c in ws):
        weights = mpi.parse_weights(weights_def)
        frame = df.with_columns(
            _band_age("head_age").alias("head_age_band"),
            _band_size("size").alias("household_size"),
            pl.col("head_sex").replace("", "?").alias("head_sex"),
            child,
        )
        by = ["head_sex", "head_age_band", "household_size"] + (["child"] if child_len else [])
        try:
            result = mpi.compute(frame.select([*weights.indicators, *by]), weights, float(bmn_def["mpi"]["k"]), by=by)
        except mpi.MPIError:  # e.g. every household has a missing indicator
            result = None
        if result is not None:
            groups = {g: result["by"][g] for g in ("head_sex", "head_age_band", "household_size")}
    children: list[dict[str, Any]] = []
    if n and child_len:
        per_child = (
            df.with_columns(child)
            .group_by("child")
            .agg(
                pl.len().alias("n"),
                *[(pl.col("level") == lv).sum().alias(f"L{lv}") for lv in LEVELS],
                pl.col("overall").mean().alias("overall"),
                pl.col("target_poor").sum().alias("target_poor"),
            )
        )
        by_child = result["by"]["child"] if result is not None else {}
        for row in per_child.sort("child").iter_rows(named=True):
            m = by_child.get(row["child"], {})
            children.append({**row, "H": m.get("H"), "A": m.get("A"), "M0": m.get("M0")})
    return Summary(
        round=round,
        n=n,
        levels=levels,
        level_unknown=n - sum(levels.values()),
        capitals=caps,
        overall=float(overall) if overall is not None else None,  # type: ignore[arg-type]
        tpmap_poor=int(df["tpmap_poor"].sum()) if n else 0,
        target_poor=int(df["target_poor"].sum()) if n else 0,
        deprivations=deps,
        mpi=result,
        children=children,
        groups=groups,
    )


def area_scope(actor: Any, area_code: str) -> Scope:
    """The part of ``area_code`` whose aggregates the actor may see (empty when none)."""
    return scope_for(actor, AGGREGATE).restricted_to(area_code)


def area_summary(actor: Any, area_code: str, round: str) -> Summary:
    scope = area_scope(actor, area_code)
    child_len = len(area_code) + 2 if len(area_code) < 8 else None
    return summarise(_frame(scope, round), round, child_len)


def level_transitions(actor: Any, area_code: str, before: str, after: str) -> dict[str, Any]:
    """How many households moved between levels from round ``before`` to ``after``."""
    scope = area_scope(actor, area_code)
    a = _frame(scope, before).select("household_id", pl.col("level").alias("before"))
    b = _frame(scope, after).select("household_id", pl.col("level").alias("after"))
    both = a.join(b, on="household_id", how="inner")
    matrix = {
        (int(r["before"]) if r["before"] is not None else 0, int(r["after"]) if r["after"] is not None else 0): int(
            r["len"]
        )
        for r in both.group_by("before", "after").len().iter_rows(named=True)
    }
    known = both.drop_nulls()
    return {
        "n": both.height,
        "matrix": [[matrix.get((i, j), 0) for j in LEVELS] for i in LEVELS],
        "up": int((known["after"] > known["before"]).sum()),
        "same": int((known["after"] == known["before"]).sum()),
        "down": int((known["after"] < known["before"]).sum()),
    }
