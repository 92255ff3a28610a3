"""Multidimensional poverty index: the Alkire–Foster method (adjusted headcount ratio M0).

No Django here (import-linter contract): the same functions run in ``khm mpi``, in a
worker, or on a web request. Everything is vectorised with polars, so a province of a
million households is one pass per breakdown. docs/mpi.md is the reference for the
method, the formats and the CLI; the short version:

* Unit *i* (household or person), indicator *j* with weight *w_j* (Σ w_j = 1), deprivation
  *g_ij* ∈ {0, 1}. Deprivation score *c_i* = Σ_j w_j g_ij. The unit is **poor** when
  c_i ≥ k (and c_i > 0). Censoring keeps the deprivations of poor units only.
* With sample weights *s_i* and population P = Σ s_i (units with complete data):
  **H** = Σ_poor s_i / P, **A** = Σ_poor s_i c_i / Σ_poor s_i, **M0** = Σ_poor s_i c_i / P = H × A.
* Uncensored headcount ratio of j = Σ s_i g_ij / P; censored = Σ_poor s_i g_ij / P;
  M0 = Σ_j w_j × censored_j, so the contribution of j is w_j × censored_j / M0
  (shares summing to 1); a dimension's contribution is the sum of its indicators'.
* Subgroups (area levels, sex/age of head, household size, ...) are computed on the same
  units: M0 = Σ_g (P_g / P) M0_g, so groups' contributions add up to the total.
* Missing data, OPHI convention: a unit with any missing indicator is left out of every
  measure (listwise deletion) and counted (``n_dropped_missing``, per-indicator ``missing``).

Public API: :func:`parse_weights` / :func:`load_weights`, :func:`parse_k`,
:func:`parse_group`, :func:`prepare`, :func:`read_deprivations`, :func:`compute`,
:func:`compare`, :func:`run_files`, :func:`write_result`, :func:`score_expr`.
Problems with inputs are raised as :class:`MPIError` with a message naming the file, the
row and the column.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import itertools
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl

FORMAT = "khm-mpi/1"
METHOD = "Alkire-Foster adjusted headcount ratio M0"
MISSING_RULE = "drop"  # listwise deletion (OPHI convention), see docs/mpi.md
# Weights given in WEIGHTS.json must sum to 1 within this tolerance (0.333 × 3 is accepted);
# they are then rescaled to sum to exactly 1.
WEIGHT_TOLERANCE = 1e-3
# A score equal to k up to floating-point error counts as reaching k (1/6 + 1/6 ≥ 1/3).
EPSILON = 1e-9
MISSING_TOKENS = ("", "NA", ".")
MISSING_GROUP = "(missing)"
META_KEYS = frozenset({"name", "description", "comment", "version", "source", "label"})
MAX_REPORTED = 10  # bad cells listed in one error message

_NUM_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PREFIX_RE = re.compile(r"^(?P<column>.+)\[:(?P<n>\d+)\]$")
_CUTS_RE = re.compile(rf"^(?P<column>.+):(?P<cuts>{_NUM_RE}(?:,{_NUM_RE})*)$")


class MPIError(ValueError):
    """An input (weights, deprivations, options) does not fit; the message says where and why."""


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class Weights:
    """Indicator weights (absolute: they sum to 1 over all indicators) grouped in dimensions."""

    dimensions: dict[str, dict[str, float]]
    form: str  # "nested-relative", "nested-absolute" or "flat"

    @property
    def indicators(self) -> dict[str, float]:
        return {ind: w for inds in self.dimensions.values() for ind, w in inds.items()}

    @property
    def dimension_weights(self) -> dict[str, float]:
        return {dim: math.fsum(inds.values()) for dim, inds in self.dimensions.items()}

    @property
    def dimension_of(self) -> dict[str, str]:
        return {ind: dim for dim, inds in self.dimensions.items() for ind in inds}

    def to_json(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "indicator": self.indicators,
            "dimension": self.dimension_weights,
            "dimension_of": self.dimension_of,
        }


def _number(value: object, where: str) -> float:
    """A weight: a JSON number or a string like "0.25" or "1/3"; finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MPIError(f"{where} must be a number, got {value!r}")
    try:
        number = float(Fraction(value.strip())) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise MPIError(f"{where} must be a number or a fraction like '1/3', got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise MPIError(f"{where} must be greater than 0, got {value!r}")
    return number


def _sums_to_one(values: Iterable[float], what: str) -> float:
    total = math.fsum(values)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise MPIError(f"{what} sum to {total:.6g}, not 1 (tolerance {WEIGHT_TOLERANCE:g})")
    return total


def _check_keys(data: Mapping[str, object], allowed: Iterable[str], where: str) -> None:
    allowed = set(allowed) | META_KEYS
    unknown = [k for k in data if k not in allowed and not str(k).startswith("_")]
    if unknown:
        raise MPIError(f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)}")


def parse_weights(data: object, origin: str = "<weights>") -> Weights:
    """Validate WEIGHTS.json (already parsed) in one of its three forms; see docs/mpi.md.

    * nested, relative: ``{"dimensions": {"health": {"weight": 0.2, "indicators": {"h1": 0.5,
      "h2": 0.5}}}}`` — dimension weights sum to 1, indicator shares within a dimension sum
      to 1 (``"indicators": ["h1", "h2"]`` = equal shares; no ``weight`` anywhere = equal
      dimension weights);
    * nested, absolute: ``{"dimensions": {"health": {"h1": 0.1, "h2": 0.1}}}`` — indicator
      weights sum to 1 over all dimensions;
    * flat: ``{"h1": 0.25, ...}`` or ``{"indicators": {...}}`` — weights sum to 1; each
      indicator is its own dimension.
    """
    if not isinstance(data, dict) or not data:
        raise MPIError(f"{origin}: must be a JSON object of dimensions or indicators")
    if "dimensions" in data:
        _check_keys(data, {"dimensions"}, origin)
        dims = data["dimensions"]
        if not isinstance(dims, dict) or not dims:
            raise MPIError(f"{origin}: 'dimensions' must be a non-empty object")
        return _parse_nested(dims, origin)
    flat = data.get("indicators", data)
    if "indicators" in data:
        _check_keys(data, {"indicators"}, origin)
    if not isinstance(flat, dict) or not flat:
        raise MPIError(f"{origin}: 'indicators' must be a non-empty object of indicator → weight")
    items = {k: v for k, v in flat.items() if flat is not data or (k not in META_KEYS and not str(k).startswith("_"))}
    if not items:
        raise MPIError(f"{origin}: no indicators")
    weights = {str(k): _number(v, f"{origin}: weight of indicator {k!r}") for k, v in items.items()}
    total = _sums_to_one(weights.values(), f"{origin}: indicator weights")
    return Weights({ind: {ind: w / total} for ind, w in weights.items()}, "flat")


def _parse_nested(dims: dict[str, object], origin: str) -> Weights:
    # dimension → (its weight or None, indicator → share, shares given as a list = equal)
    relative: dict[str, tuple[float | None, dict[str, float], bool]] = {}
    absolute: dict[str, dict[str, float]] = {}
    for dim, spec in dims.items():
        where = f"{origin}: dimension {dim!r}"
        if isinstance(spec, list) or (isinstance(spec, dict) and "indicators" in spec):
            if isinstance(spec, list):
                weight, inds = None, spec
            else:
                _check_keys(spec, {"weight", "indicators"}, where)
                weight = _number(spec["weight"], f"{where}: weight") if "weight" in spec else None
                inds = spec["indicators"]
            if isinstance(inds, list):
                if not inds or not all(isinstance(i, str) and i for i in inds) or len(set(inds)) != len(inds):
                    raise MPIError(f"{where}: 'indicators' must list distinct indicator names")
                relative[dim] = (weight, dict.fromkeys(inds, 1.0), True)
            elif isinstance(inds, dict) and inds:
                shares = {str(i): _number(v, f"{where}: share of indicator {i!r}") for i, v in inds.items()}
                relative[dim] = (weight, shares, False)
            else:
                raise MPIError(f"{where}: 'indicators' must be a non-empty object of shares or a list")
        elif isinstance(spec, dict) and spec:
            if "weight" in spec:
                raise MPIError(f"{where}: has 'weight' but no 'indicators' (nested weights need both)")
            absolute[dim] = {
                str(i): _number(v, f"{where}: weight of indicator {i!r}")
                for i, v in spec.items()
                if i not in META_KEYS and not str(i).startswith("_")
            }
            if not absolute[dim]:
                raise MPIError(f"{where}: no indicators")
        else:
            raise MPIError(f"{where}: must be an object of indicator weights or {{'weight', 'indicators'}}")
    if relative and absolute:
        raise MPIError(
            f"{origin}: dimension {next(iter(relative))!r} gives relative shares ('indicators') but "
            f"{next(iter(absolute))!r} gives absolute indicator weights; use one form for all dimensions"
        )
    members = (
        {d: list(s) for d, (_, s, _) in relative.items()} if relative else {d: list(s) for d, s in absolute.items()}
    )
    seen: dict[str, str] = {}
    for dim, inds in members.items():
        for ind in inds:
            if ind in seen:
                raise MPIError(f"{origin}: indicator {ind!r} is in dimensions {seen[ind]!r} and {dim!r}")
            seen[ind] = dim
    if absolute:
        total = _sums_to_one((w for inds in absolute.values() for w in inds.values()), f"{origin}: indicator weights")
        return Weights({d: {i: w / total for i, w in inds.items()} for d, inds in absolute.items()}, "nested-absolute")
    given = [d for d, (w, _, _) in relative.items() if w is not None]
    if given and len(given) != len(relative):
        missing = [d for d in relative if d not in given]
        raise MPIError(
            f"{origin}: give a 'weight' to every dimension or to none (equal weights); missing for {missing}"
        )
    if given:
        dim_w = {d: float(w) for d, (w, _, _) in relative.items() if w is not None}
        dim_total = _sums_to_one(dim_w.values(), f"{origin}: dimension weights")
    else:
        dim_w, dim_total = dict.fromkeys(relative, 1.0), float(len(relative))
    result: dict[str, dict[str, float]] = {}
    for dim, (_, shares, equal) in relative.items():
        share_total = (
            float(len(shares))
            if equal
            else _sums_to_one(shares.values(), f"{origin}: dimension {dim!r}: indicator shares")
        )
        result[dim] = {i: dim_w[dim] / dim_total * s / share_total for i, s in shares.items()}
    return Weights(result, "nested-relative")


def load_weights(path: str | Path) -> Weights:
    path = Path(path)
    if not path.is_file():
        raise MPIError(f"weights file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MPIError(f"{path}: not valid JSON: {exc}") from exc
    return parse_weights(data, str(path))


def parse_k(value: str | float) -> float:
    """Poverty cutoff: a fraction in (0, 1] (``0.33``, ``1/3``) or a percent (``33``, ``33%``).

    A number above 1 is a percent; ``1`` is the fraction 1 (poor only when deprived in every
    indicator, the intersection approach); write ``1%`` for one percent.
    """
    text = str(value).strip()
    try:
        if text.endswith("%"):
            k = float(Fraction(text[:-1].strip())) / 100
        else:
            k = float(Fraction(text))
            if k > 1:
                k /= 100
    except (ValueError, ZeroDivisionError):
        raise MPIError(f"k must be a fraction (0.33, 1/3) or a percent (33, 33%), got {value!r}") from None
    if not 0 < k <= 1:
        raise MPIError(f"k must be above 0 and at most 1 (100 %), got {value!r}")
    return k


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class GroupSpec:
    """One ``--by``: a column's values, the first N characters of a code, or numeric bins."""

    spec: str
    column: str
    prefix: int | None = None
    cuts: tuple[float, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.cuts is not None

    def labels(self) -> list[str]:
        cuts = self.cuts or ()
        out = [f"<{_fmt(cuts[0])}"]
        out += [f"[{_fmt(a)},{_fmt(b)})" for a, b in itertools.pairwise(cuts)]
        return [*out, f">={_fmt(cuts[-1])}"]

    def order(self, keys: Iterable[str]) -> list[str]:
        keys = list(keys)
        if self.cuts is not None:
            rank = {label: i for i, label in enumerate([*self.labels(), MISSING_GROUP])}
            return sorted(keys, key=lambda k: rank[k])
        present = [k for k in keys if k != MISSING_GROUP]
        try:
            present.sort(key=float)  # household size 1, 2, ..., 10 rather than 1, 10, 2
        except ValueError:
            present.sort()
        return present + [MISSING_GROUP] * (len(present) != len(keys))


def _fmt(x: float) -> str:
    return f"{x:g}"


def parse_group(spec: str, columns: Iterable[str] | None = None) -> GroupSpec:
    """``COLUMN``, ``COLUMN[:N]`` (first N characters: area levels of a DOPA code) or
    ``COLUMN:C1,C2,...`` (numeric bins cut at C1 < C2 < ...: ``<C1``, ``[C1,C2)``, ..., ``>=Cn``).
    A spec that is itself a column name is always that column."""
    spec = spec.strip()
    if not spec:
        raise MPIError("--by needs a column name")
    cols = set(columns) if columns is not None else None
    if cols is not None and spec in cols:
        return GroupSpec(spec, spec)
    if m := _PREFIX_RE.match(spec):
        n = int(m["n"])
        if n < 1:
            raise MPIError(f"--by {spec}: the prefix length must be at least 1")
        return GroupSpec(spec, m["column"], prefix=n)
    if m := _CUTS_RE.match(spec):
        cuts = tuple(float(c) for c in m["cuts"].split(","))
        if any(b <= a for a, b in itertools.pairwise(cuts)):
            raise MPIError(f"--by {spec}: cut points must increase")
        return GroupSpec(spec, m["column"], cuts=cuts)
    return GroupSpec(spec, spec)


# --------------------------------------------------------------------------- reading and checking


@dataclass(frozen=True)
class _Plan:
    """Which columns a computation reads and how each must look."""

    id_column: str | None
    indicators: tuple[str, ...]
    sample_weight: str | None
    numeric: tuple[str, ...]  # columns cut into bins by a --by (checked as numbers)
    text: tuple[str, ...]  # other --by columns and the round column (kept as text)

    @property
    def columns(self) -> list[str]:
        cols = [self.id_column] if self.id_column else []
        cols += [*self.indicators, *([self.sample_weight] if self.sample_weight else []), *self.numeric, *self.text]
        return list(dict.fromkeys(cols))

    @property
    def float_columns(self) -> list[str]:
        floats = [*self.indicators, *([self.sample_weight] if self.sample_weight else [])]
        floats += [c for c in self.numeric if c not in self.text]
        return list(dict.fromkeys(floats))


def _plan(
    weights: Weights,
    columns: Sequence[str],
    origin: str,
    *,
    id_column: str | None,
    sample_weight: str | None,
    by: Sequence[GroupSpec],
    extra: Sequence[str] = (),
) -> _Plan:
    have = set(columns)
    shown = ", ".join(repr(c) for c in columns[:40]) + (" ..." if len(columns) > 40 else "")
    missing = [i for i in weights.indicators if i not in have]
    if missing:
        raise MPIError(
            f"{origin} has no column for indicator(s) {', '.join(repr(i) for i in missing)} named in the weights "
            f"(its columns are: {shown})"
        )
    for role, col in (("id column (--id)", id_column), ("sample weight column", sample_weight)):
        if col is not None and col not in have:
            raise MPIError(f"{origin} has no {role} {col!r} (its columns are: {shown})")
    for g in by:
        if g.column not in have:
            raise MPIError(f"{origin} has no column {g.column!r} for --by {g.spec} (its columns are: {shown})")
    for col in extra:
        if col not in have:
            raise MPIError(f"{origin} has no column {col!r} (its columns are: {shown})")
    if sample_weight is not None and sample_weight in weights.indicators:
        raise MPIError(f"the sample weight column {sample_weight!r} is also an indicator")
    numeric = tuple(dict.fromkeys(g.column for g in by if g.numeric))
    text = tuple(dict.fromkeys([*(g.column for g in by if not g.numeric), *extra]))
    return _Plan(id_column, tuple(weights.indicators), sample_weight, numeric, text)


def _as_float(df: pl.DataFrame, col: str) -> tuple[pl.Expr, pl.Expr]:
    """(the cell as Float64, null when empty or not a number; whether the cell is not empty)."""
    if df.schema[col] == pl.String:
        text = pl.col(col).str.strip_chars()
        present = (text.is_not_null() & ~text.is_in(list(MISSING_TOKENS))).fill_null(False)
        return pl.when(present).then(text.cast(pl.Float64, strict=False)), present
    return pl.col(col).cast(pl.Float64), pl.col(col).is_not_null()


def _problems(df: pl.DataFrame, plan: _Plan, origin: str) -> list[str]:
    """Bad cells (up to MAX_REPORTED), each named by row, id and column."""
    checks: list[tuple[str, pl.Expr, str]] = []
    for col in plan.indicators:
        value, present = _as_float(df, col)
        checks.append((col, present & ~value.is_in([0.0, 1.0]).fill_null(False), "is not 0, 1 or empty (missing)"))
    if plan.sample_weight:
        value, present = _as_float(df, plan.sample_weight)
        ok = present & value.is_finite().fill_null(False) & (value >= 0).fill_null(False)
        checks.append((plan.sample_weight, ~ok, "is not a sample weight (a number ≥ 0, never empty)"))
    for col in plan.numeric:
        value, present = _as_float(df, col)
        checks.append((col, present & ~value.is_finite().fill_null(False), "is not a number (--by cuts it into bins)"))
    if not checks:
        return []
    masks = df.select([mask.alias(f"bad{i}") for i, (_, mask, _) in enumerate(checks)])
    counts = masks.sum().row(0)
    found: list[tuple[int, int, str]] = []
    more: list[str] = []
    for i, (col, _mask, what) in enumerate(checks):
        if not counts[i]:
            continue
        shown = (
            df.with_row_index("__row", offset=1)
            .filter(masks[f"bad{i}"])
            .head(MAX_REPORTED)
            .select("__row", pl.col(col).alias("__value"), *([plan.id_column] if plan.id_column else []))
        )
        for row in shown.iter_rows(named=True):
            ident = f" (id {row[plan.id_column]!r})" if plan.id_column else ""
            found.append(
                (
                    row["__row"],
                    i,
                    f"{origin}: row {row['__row']}{ident}, column {col!r}: {_cell(row['__value'])} {what}",
                )
            )
        more.append(f"{col!r}: {counts[i]:,}")
    if not found:
        return []
    found.sort()
    out = [message for _, _, message in found[:MAX_REPORTED]]
    if sum(counts) > len(out):
        out.append(f"{origin}: {sum(counts):,} bad cells in all (by column: {', '.join(more)})")
    return out


def _cell(value: object) -> str:
    return "(empty)" if value is None else repr(value)


def _check_ids(df: pl.DataFrame, id_column: str | None, origin: str, within: str | None = None) -> None:
    """Every unit has an id, unique (within each round when ``within`` names the round column)."""
    if not id_column:
        return
    ids = df[id_column].cast(pl.String)
    empty = ids.is_null() | (ids == "")
    if empty.any():
        rows = (empty.arg_true() + 1).head(5).to_list()
        raise MPIError(f"{origin}: the id column {id_column!r} is empty in row(s) {rows}")
    keys = pl.DataFrame({"i": ids, **({"r": df[within].cast(pl.String)} if within else {})})
    if keys.n_unique() == keys.height:
        return
    dup = keys.is_duplicated()
    first = keys.row(int(dup.arg_true()[0]), named=True)
    same = pl.all_horizontal([pl.col(c) == v for c, v in first.items()])
    rows = (keys.with_row_index("row", offset=1).filter(same)["row"]).head(5).to_list()
    where = f" in round {first['r']!r}" if within else ""
    raise MPIError(
        f"{origin}: id {first['i']!r} appears in rows {rows}{where}; ids must be unique "
        f"({int(dup.sum()):,} rows share an id)"
    )


def _coerce(df: pl.DataFrame, plan: _Plan) -> pl.DataFrame:
    """Indicators as Int8 (0, 1, null), the sample weight and binned columns as Float64,
    text columns stripped (missing tokens = null). Only the plan's columns are kept."""
    exprs = [
        _as_float(df, col)[0].cast(pl.Int8 if col in plan.indicators else pl.Float64).alias(col)
        for col in plan.float_columns
    ]
    for col in plan.text:
        if df.schema[col] == pl.String:
            text = pl.col(col).str.strip_chars()
            exprs.append(pl.when(text.is_in(list(MISSING_TOKENS))).then(None).otherwise(text).alias(col))
    return df.select(plan.columns).with_columns(exprs)


def _specs(by: Sequence[GroupSpec | str], columns: Sequence[str]) -> list[GroupSpec]:
    specs = [g if isinstance(g, GroupSpec) else parse_group(g, columns) for g in by]
    if len({g.spec for g in specs}) != len(specs):
        raise MPIError("the same --by is given twice")
    return specs


def prepare(
    df: pl.DataFrame,
    weights: Weights,
    *,
    id_column: str | None = None,
    sample_weight: str | None = None,
    by: Sequence[GroupSpec | str] = (),
    round_column: str | None = None,
    origin: str = "data",
) -> pl.DataFrame:
    """Check a frame (text or numeric columns) and return the columns a computation needs, with
    indicators, the sample weight and binned columns as Float64 (missing = null).
    Raises :class:`MPIError` naming the bad cells by row (counted from 1), id and column."""
    specs = _specs(by, df.columns)
    extra = [round_column] if round_column else []
    plan = _plan(weights, df.columns, origin, id_column=id_column, sample_weight=sample_weight, by=specs, extra=extra)
    if df.height == 0:
        raise MPIError(f"{origin}: no rows")
    problems = _problems(df, plan, origin)
    if problems:
        raise MPIError("\n".join(problems))
    _check_ids(df, id_column, origin, within=round_column)
    return _coerce(df, plan)


def _sniff_separator(first_line: bytes) -> str:
    counts = {sep: first_line.count(sep.encode()) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _scan(path: Path) -> tuple[str, bool, bytes]:
    """One pass over the file: its SHA-256, whether it is valid UTF-8, and its first line."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    first = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            if not first:
                first = chunk.split(b"\n", 1)[0]
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), utf8, first


def _read(source: Path | bytes, sep: str, **kwargs: Any) -> pl.DataFrame:
    src: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    return pl.read_csv(src, separator=sep, infer_schema=False, null_values=list(MISSING_TOKENS), **kwargs)


def _read_file(
    path: Path,
    weights: Weights,
    *,
    id_column: str | None,
    sample_weight: str | None,
    by: Sequence[GroupSpec | str],
    round_column: str | None,
) -> tuple[pl.DataFrame, list[GroupSpec], dict[str, Any]]:
    origin = path.name
    if not path.is_file():
        raise MPIError(f"input file not found: {path}")
    sha256, utf8, first = _scan(path)
    # Government exports are often CP874/TIS-620; CP874 decodes TIS-620 too.
    source: Path | bytes = path if utf8 else path.read_bytes().decode("cp874", errors="replace").encode("utf-8")
    sep = _sniff_separator(first)
    try:
        header = _read(source, sep, n_rows=0).columns
    except pl.exceptions.PolarsError as exc:
        raise MPIError(f"{origin}: cannot parse as CSV: {exc}") from exc
    clean = [c.strip() for c in header]  # Excel and hand-made files pad header names
    specs = _specs(by, clean)
    extra = [round_column] if round_column else []
    plan = _plan(weights, clean, origin, id_column=id_column, sample_weight=sample_weight, by=specs, extra=extra)
    raw = {c.strip(): c for c in header}
    wanted = [raw[c] for c in plan.columns]
    rename = {raw[c]: c for c in plan.columns}
    df: pl.DataFrame | None
    try:  # fast path: the CSV reader parses the numbers
        typed = {raw[c]: (pl.Int8 if c in plan.indicators else pl.Float64) for c in plan.float_columns}
        df = _read(source, sep, columns=wanted, schema_overrides=typed).rename(rename)
        if _problems(df, plan, origin):
            df = None  # read again as text so that the error shows the cells as written
    except pl.exceptions.PolarsError:
        df = None
    if df is None:
        try:
            df = _read(source, sep, columns=wanted).rename(rename)
        except pl.exceptions.PolarsError as exc:
            raise MPIError(f"{origin}: cannot parse as CSV: {exc}") from exc
        problems = _problems(df, plan, origin)
        if problems:
            raise MPIError("\n".join(problems))
    if df.height == 0:
        raise MPIError(f"{origin}: no rows")
    _check_ids(df, id_column, origin, within=round_column)
    info = {"file": path.name, "sha256": sha256, "encoding": "utf-8" if utf8 else "cp874", "rows": df.height}
    return _coerce(df, plan), specs, info


def read_deprivations(
    path: str | Path,
    weights: Weights,
    *,
    id_column: str | None = "id",
    sample_weight: str | None = None,
    by: Sequence[GroupSpec | str] = (),
    round_column: str | None = None,
) -> pl.DataFrame:
    """Read DEPRIVATIONS.csv (UTF-8, UTF-8 with BOM or CP874/TIS-620; ``,`` ``;`` tab or ``|``
    separated) and return it prepared (see :func:`prepare`). Only the needed columns are parsed."""
    df, _, _ = _read_file(
        Path(path), weights, id_column=id_column, sample_weight=sample_weight, by=by, round_column=round_column
    )
    return df


# --------------------------------------------------------------------------- computing


def score_expr(weights: Weights) -> pl.Expr:
    """Weighted deprivation score c_i = Σ_j w_j g_ij (null when an indicator is missing)."""
    terms = [pl.col(i).cast(pl.Float64) * w for i, w in weights.indicators.items()]
    complete = pl.all_horizontal([pl.col(i).is_not_null() for i in weights.indicators])
    return pl.when(complete).then(pl.sum_horizontal(terms)).alias("score")


def _poor(score: pl.Expr, k: float) -> pl.Expr:
    return (score > 0) & (score >= k - EPSILON)


def _base(df: pl.DataFrame, weights: Weights, k: float, sample_weight: str | None) -> pl.LazyFrame:
    """Per unit: complete (no missing indicator), s = its sample weight if complete else 0,
    c = its score, sp = s if poor else 0. Sums over s and sp give every measure."""
    inds = weights.indicators
    complete = pl.all_horizontal([pl.col(i).is_not_null() for i in inds])
    s = pl.col(sample_weight).cast(pl.Float64) if sample_weight else pl.lit(1.0, pl.Float64)
    score = pl.sum_horizontal([pl.col(i) * w for i, w in inds.items()])  # nulls count as 0; s = 0 there
    return (
        df.lazy()
        .with_columns(__complete=complete, __c=score)
        .with_columns(__s=pl.when(pl.col("__complete")).then(s).otherwise(0.0))
        .with_columns(__sp=pl.when(_poor(pl.col("__c"), k)).then(pl.col("__s")).otherwise(0.0))
    )


def _aggs(weights: Weights, with_missing: bool) -> list[pl.Expr]:
    """The sums behind every measure (products with a missing indicator are null: not summed)."""
    aggs = [
        pl.len().cast(pl.Int64).alias("rows"),
        pl.col("__complete").sum().cast(pl.Int64).alias("n"),
        pl.col("__s").sum().alias("P"),
        pl.col("__sp").sum().alias("Q"),
        (pl.col("__sp") * pl.col("__c")).sum().alias("S"),
    ]
    for j, i in enumerate(weights.indicators):
        aggs.append((pl.col("__s") * pl.col(i)).sum().alias(f"U{j}"))
        aggs.append((pl.col("__sp") * pl.col(i)).sum().alias(f"C{j}"))
    if with_missing:
        aggs += [pl.col(i).is_null().sum().alias(f"M{j}") for j, i in enumerate(weights.indicators)]
    return aggs


def _div(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


class _Layout:
    """Indicator and dimension order, computed once per run (thousands of groups reuse it)."""

    def __init__(self, weights: Weights) -> None:
        self.indicators = list(weights.indicators)
        self.w = list(weights.indicators.values())
        self.dims = [(d, [self.indicators.index(i) for i in inds]) for d, inds in weights.dimensions.items()]
        self.u_cols = [f"U{j}" for j in range(len(self.indicators))]
        self.c_cols = [f"C{j}" for j in range(len(self.indicators))]

    def by_dimension(self, values: Sequence[float | None]) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for dim, idx in self.dims:
            vals = [values[j] for j in idx]
            out[dim] = None if None in vals else math.fsum(v for v in vals if v is not None)
        return out

    def measures(self, row: Mapping[str, Any]) -> dict[str, Any]:
        P, Q, S = float(row["P"]), float(row["Q"]), float(row["S"])
        inds = self.indicators
        censored: list[float | None] = [None] * len(inds)
        uncensored: list[float | None] = [None] * len(inds)
        absolute: list[float | None] = [None] * len(inds)
        share: list[float | None] = [None] * len(inds)
        m0 = S / P if P > 0 else None
        if P > 0:
            cens = [float(row[c]) / P for c in self.c_cols]
            contrib = [w * c for w, c in zip(self.w, cens, strict=True)]
            censored, absolute = list(cens), list(contrib)
            uncensored = [float(row[c]) / P for c in self.u_cols]
            if S > 0:
                share = [a / (S / P) for a in contrib]
        rows, n = int(row["rows"]), int(row["n"])
        return {
            "rows": rows,
            "n": n,
            "n_dropped_missing": rows - n,
            "population": P,
            "poor": Q,
            "H": _div(Q, P),
            "A": _div(S, Q),
            "M0": m0,
            "censored_headcount": dict(zip(inds, censored, strict=True)),
            "uncensored_headcount": dict(zip(inds, uncensored, strict=True)),
            "contribution": {"indicator": dict(zip(inds, share, strict=True)), "dimension": self.by_dimension(share)},
            "absolute_contribution": {
                "indicator": dict(zip(inds, absolute, strict=True)),
                "dimension": self.by_dimension(absolute),
            },
        }


def _group_tables(base: pl.LazyFrame, specs: Sequence[GroupSpec], weights: Weights) -> list[pl.DataFrame]:
    """One table of sums per spec, keyed by ``__k`` (text, null = missing).

    All specs on one text column (the column itself, its prefixes: area levels of one code)
    share a single pass over the units; each prefix is then a roll-up of that small table.
    Binned specs group by the bin number."""
    aggs = _aggs(weights, with_missing=False)
    text_cols = list(dict.fromkeys(g.column for g in specs if not g.numeric))
    queries = [base.group_by(pl.col(c).cast(pl.String).alias("__k")).agg(aggs) for c in text_cols]
    binned = [g for g in specs if g.numeric]
    for g in binned:
        col = pl.col(g.column).cast(pl.Float64, strict=False)  # text when the column is also grouped as is
        index = pl.sum_horizontal([(col >= cut).cast(pl.Int32) for cut in g.cuts or ()])
        queries.append(base.group_by(pl.when(col.is_not_null()).then(index).alias("__b")).agg(aggs))
    frames = pl.collect_all(queries) if queries else []
    by_col = dict(zip(text_cols, frames[: len(text_cols)], strict=True))
    by_bin = dict(zip((g.spec for g in binned), frames[len(text_cols) :], strict=True))
    out = []
    for g in specs:
        if g.numeric:
            key = pl.col("__b").replace_strict(dict(enumerate(g.labels())), default=None, return_dtype=pl.String)
            out.append(by_bin[g.spec].with_columns(__k=key).drop("__b"))
        elif g.prefix is None:
            out.append(by_col[g.column])
        else:
            t = by_col[g.column]
            out.append(t.group_by(pl.col("__k").str.slice(0, g.prefix)).agg(pl.all().sum()))
    return out


def compute(
    df: pl.DataFrame,
    weights: Weights,
    k: float,
    *,
    by: Sequence[GroupSpec | str] = (),
    sample_weight: str | None = None,
    check: bool = True,
    id_column: str | None = None,
) -> dict[str, Any]:
    """Alkire–Foster measures of ``df`` overall and per ``by`` group (JSON-ready dict).

    ``df`` holds one row per unit and a column per indicator of ``weights`` with 0, 1 or
    null (missing). ``check=False`` skips :func:`prepare` for frames it already returned.
    """
    if not 0 < k <= 1:
        raise MPIError(f"k must be above 0 and at most 1, got {k!r}")
    specs = _specs(by, df.columns)
    if check:
        df = prepare(df, weights, id_column=id_column, sample_weight=sample_weight, by=specs)
    base = _base(df, weights, k, sample_weight)
    layout = _Layout(weights)
    overall_row = base.select(_aggs(weights, with_missing=True)).collect().row(0, named=True)
    if float(overall_row["P"]) <= 0:
        what = (
            "sample weights of the units with complete data sum to 0" if sample_weight else "no unit has complete data"
        )
        raise MPIError(f"nothing to measure: {what}")
    overall = layout.measures(overall_row)
    overall["missing"] = {i: int(overall_row[f"M{j}"]) for j, i in enumerate(layout.indicators)}
    total_p, total_s = float(overall_row["P"]), float(overall_row["S"])
    groups: dict[str, dict[str, Any]] = {}
    for g, table in zip(specs, _group_tables(base, specs, weights), strict=True):
        rows = {(MISSING_GROUP if r["__k"] is None else r["__k"]): r for r in table.iter_rows(named=True)}
        out: dict[str, Any] = {}
        for key in g.order(rows):
            r = rows[key]
            m = layout.measures(r)
            m["population_share"] = float(r["P"]) / total_p
            m["absolute_contribution_to_M0"] = float(r["S"]) / total_p
            m["contribution_to_M0"] = _div(float(r["S"]), total_s)
            out[key] = m
        groups[g.spec] = out
    return {
        "format": FORMAT,
        "method": METHOD,
        "k": k,
        "weights": weights.to_json(),
        "sample_weight": sample_weight,
        "missing_rule": MISSING_RULE,
        "overall": overall,
        "by": groups,
    }


# --------------------------------------------------------------------------- two rounds

CHANGE_MEASURES = ("H", "A", "M0")  # and the censored headcount ratio of each indicator


def _change(a: float | None, b: float | None, years: float | None) -> dict[str, float | None]:
    absolute = b - a if a is not None and b is not None else None
    relative = absolute / a if absolute is not None and a else None
    ann_abs = absolute / years if absolute is not None and years else None
    ann_rel = None
    if years and a and b is not None and a > 0 and b >= 0:
        ann_rel = (b / a) ** (1 / years) - 1
    return {
        "from": a,
        "to": b,
        "absolute": absolute,
        "relative": relative,
        "annualised_absolute": ann_abs,
        "annualised_relative": ann_rel,
    }


def _changes(first: Mapping[str, Any] | None, second: Mapping[str, Any] | None, years: float | None) -> dict[str, Any]:
    def get(m: Mapping[str, Any] | None, key: str) -> Any:
        return m.get(key) if m is not None else None

    out: dict[str, Any] = {key: _change(get(first, key), get(second, key), years) for key in CHANGE_MEASURES}
    inds = list((first or second or {}).get("censored_headcount", {}))
    a, b = get(first, "censored_headcount") or {}, get(second, "censored_headcount") or {}
    out["censored_headcount"] = {i: _change(a.get(i), b.get(i), years) for i in inds}
    if "population_share" in (first or {}) or "population_share" in (second or {}):
        out["population_share"] = _change(get(first, "population_share"), get(second, "population_share"), years)
    return out


def compare(
    first: Mapping[str, Any], second: Mapping[str, Any], *, years: float | None = None, labels: Sequence[str] = ()
) -> dict[str, Any]:
    """Changes between two results of :func:`compute` (same weights, k and groups).

    Per measure: ``from``, ``to``, ``absolute`` (to − from), ``relative`` ((to − from)/from),
    and with ``years``: ``annualised_absolute`` ((to − from)/years) and
    ``annualised_relative`` ((to/from)^(1/years) − 1). Groups present in one round only
    get nulls for what the other round lacks.
    """
    if years is not None and not (math.isfinite(years) and years > 0):
        raise MPIError(f"--years must be a number above 0, got {years!r}")
    for key in ("k", "weights", "sample_weight"):
        if first.get(key) != second.get(key):
            raise MPIError(f"the two rounds were computed with different {key}")
    if set(first["by"]) != set(second["by"]):
        raise MPIError("the two rounds were computed with different --by")
    labels = list(labels) or ["round 1", "round 2"]
    meta = {k: v for k, v in first.items() if k not in ("overall", "by", "input")}
    rounds = []
    for label, result in zip(labels, (first, second), strict=True):
        rounds.append({"label": label, **{k: result[k] for k in ("input", "overall", "by") if k in result}})
    by: dict[str, Any] = {}
    for spec, groups1 in first["by"].items():
        groups2 = second["by"][spec]
        keys = list(groups1) + [k for k in groups2 if k not in groups1]
        by[spec] = {key: _changes(groups1.get(key), groups2.get(key), years) for key in keys}
    return {
        **meta,
        "years": years,
        "rounds": rounds,
        "change": {"overall": _changes(first["overall"], second["overall"], years), "by": by},
    }


# --------------------------------------------------------------------------- files


def run_files(
    deprivations: str | Path,
    weights_path: str | Path,
    k: float | str,
    *,
    by: Sequence[str] = (),
    sample_weight: str | None = None,
    id_column: str | None = "id",
    compare_with: str | Path | None = None,
    round_column: str | None = None,
    years: float | None = None,
) -> dict[str, Any]:
    """What ``khm mpi`` computes: one round, or two (``compare_with`` file or ``round_column``)."""
    if compare_with is not None and round_column is not None:
        raise MPIError("give --compare or --round-column, not both")
    if years is not None and compare_with is None and round_column is None:
        raise MPIError("--years needs two rounds (--compare ROUND2.csv or --round-column COLUMN)")
    if years is not None and not (math.isfinite(years) and years > 0):
        raise MPIError(f"--years must be a number above 0, got {years!r}")
    weights = load_weights(weights_path)
    cutoff = parse_k(k)
    weights_info = {"file": Path(weights_path).name, "sha256": _scan(Path(weights_path))[0]}

    def result(df: pl.DataFrame, specs: list[GroupSpec], info: dict[str, Any]) -> dict[str, Any]:
        out = compute(df, weights, cutoff, by=specs, sample_weight=sample_weight, check=False)
        out["input"] = {"deprivations": info, "weights": weights_info, "id_column": id_column}
        return out

    def read(path: str | Path) -> tuple[pl.DataFrame, list[GroupSpec], dict[str, Any]]:
        return _read_file(
            Path(path), weights, id_column=id_column, sample_weight=sample_weight, by=by, round_column=round_column
        )

    df, specs, info = read(deprivations)
    if round_column is not None:
        col = df[round_column]
        if col.null_count():
            row = int(col.is_null().arg_true()[0]) + 1
            raise MPIError(f"{info['file']}: row {row}: the round column {round_column!r} is empty")
        values = col.unique().sort().to_list()
        if len(values) != 2:
            raise MPIError(
                f"{info['file']}: the round column {round_column!r} must hold exactly two values, "
                f"found {len(values)}: {values[:10]}"
            )
        results = []
        for value in values:
            part = df.filter(pl.col(round_column) == value)
            results.append(
                result(part, specs, {**info, "round_column": round_column, "round": value, "rows": part.height})
            )
        return compare(results[0], results[1], years=years, labels=values)
    first = result(df, specs, info)
    if compare_with is None:
        return first
    df2, specs2, info2 = read(compare_with)
    second = result(df2, specs2, info2)
    return compare(first, second, years=years, labels=[info["file"], info2["file"]])


def dumps(value: object, path: tuple[object, ...] = (), indent: int = 0) -> str:
    """JSON text of a result: indented, except that each group of a breakdown (``by[SPEC][VALUE]``)
    is one line. That keeps a village-level result readable line by line and fast to write
    (the standard library's C encoder does the groups; with ``indent`` it would not)."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        one_line = len(path) >= 2 and path[-2] == "by"
        items = []
        for key, item in value.items():
            text = _compact(item) if one_line else dumps(item, (*path, key), indent + 1)
            items.append(f"{pad} {_compact(key)}: {text}")
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        items = [f"{pad} {dumps(item, (*path, i), indent + 1)}" for i, item in enumerate(value)]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return _compact(value)


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def write_result(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write RESULT.json atomically (a temporary file renamed over the target)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(result)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")  # open() honours the umask
    try:
        with tmp.open("x", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
