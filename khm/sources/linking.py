"""The link step of an import: staged rows against the registry, with the Splink engine.

``link_rows`` takes the validated rows of a batch (not yet saved) and decides, for each,
whether it is a person already in the registry (*matched*), a possible match for a
person to review (*uncertain*), the same person as an earlier row of the same file
(*duplicate*) or somebody new (*new*). It calls :func:`khm.engines.linkage.link_frames`
(the same engine as ``khm link``; docs/linkage.md) on two lists:

* the file's rows (source ``list``), deduplicated among themselves, and
* the registry's people (source ``registry``) who could be the same persons, read
  through the uploader's scope (Local Data Ownership: a file is only linked to people of
  the uploader's own area): all of it for a large file, or the file's subdistricts plus
  everyone with one of its surnames for a small one. The registry is already free of
  duplicates, so no pairs inside it are formed (``exclude_within``).

National IDs never leave their HMAC form here: both sides carry the lookup hash in the
engine's ``nid`` column, so equal valid IDs still decide deterministically.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import polars as pl
from django.db.models import Q

from khm.accounts.scoping import Scope
from khm.areas.models import code_range
from khm.core.crypto import lookup_hash
from khm.engines.linkage import LinkOptions, link_frames, parse_fields
from khm.engines.linkage.fields import SCHEMA, prepare
from khm.registry.models import Person, PersonStatus
from khm.sources.models import ReviewStatus, RowOutcome, Source

logger = logging.getLogger(__name__)

LIST, REGISTRY = "list", "registry"
# Below this many rows the registry side is narrowed to the file's subdistricts and
# surnames (a volunteer's 30 rows should not wait for a province-wide read).
SMALL_FILE = 5_000

_FIELDS = parse_fields(
    {
        "record_id": "uid",
        "first_name": "first_name",
        "last_name": "last_name",
        "birth_date": "birth_date",
        "date_format": "%Y-%m-%d",
        "sex": "sex",
        "house_no": "house_no",
        "area_code": "area_code",
    },
    origin="khm.sources.linking",
)


class LinkRow(Protocol):
    """What linking reads and sets on a staged row (a model instance or a lighter row)."""

    row_no: int
    clean: dict[str, Any]
    outcome: str
    area_code: str
    person_id: int | None
    review: str
    duplicate_of: int | None
    match_rule: str
    match_probability: float | None
    explain: dict[str, Any]


_COLUMNS = ["uid", "nid", "first_name", "last_name", "birth_date", "sex", "house_no", "area_code"]


def _frame(records: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=dict.fromkeys(_COLUMNS, pl.String), orient="row")


_VALUE_COLUMNS = ["first_name", "last_name", "birth_date", "sex", "house_no", "area_code"]
_KEYED = [c for c in SCHEMA if c not in ("unique_id", "record_id", "source", "nid", "nid_any")]
_CACHE_MAX = 4_000_000


class _KeyCache:
    """Normalised linkage keys by the person values they come from, kept in the process.

    ``prepare()`` is a function of a row's name, birth date, sex, house and area alone, so
    a registry person whose values were normalised before (as a row of the file that
    created them, or in an earlier import) needs no second pass: at province scale that
    pass is 10-15 s per import. Bounded; emptied when full."""

    def __init__(self) -> None:
        self.frame: pl.DataFrame | None = None
        self.lock = threading.Lock()

    def split(self, keyed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        with self.lock:
            cache = self.frame
        if cache is None:
            return keyed.head(0), keyed
        hit = keyed.select("uid", "_i", "_k").join(cache, on="_k", how="inner")
        return hit, keyed.join(cache.select("_k"), on="_k", how="anti")

    def add(self, fresh: pl.DataFrame) -> None:
        part = fresh.select("_k", *_KEYED).unique(subset="_k", keep="first")
        with self.lock:
            merged = part if self.frame is None else pl.concat([self.frame, part]).unique(subset="_k", keep="first")
            self.frame = None if merged.height > _CACHE_MAX else merged

    def clear(self) -> None:
        with self.lock:
            self.frame = None


KEY_CACHE = _KeyCache()


def _prepared(raw: pl.DataFrame, source: str) -> pl.DataFrame:
    """Engine schema; the ID columns hold the lookup hash (already in ``nid``).

    ``nid`` keeps the whole hash (the deterministic rule needs exact equality); the
    fuzzy ID comparison gets its first 13 characters: edit distance on 64-character
    strings for every candidate pair cost more than the rest of the model together, and
    two different hashes are never one typo apart anyway. Rows whose values were seen
    before take their keys from :data:`KEY_CACHE`."""
    if raw.height == 0:
        return prepare(raw, _FIELDS, source=source, file=source)
    keyed = raw.with_row_index("_i").with_columns(
        pl.concat_str([pl.col(c).fill_null("\x00") for c in _VALUE_COLUMNS], separator="\x1f").alias("_k")
    )
    hit, miss = KEY_CACHE.split(keyed)
    parts = []
    if miss.height:
        fresh = prepare(miss.drop("_i", "_k"), _FIELDS, source=source, file=source)
        fresh = fresh.with_columns(miss.get_column("_k"), miss.get_column("_i"))
        KEY_CACHE.add(fresh)
        parts.append(fresh)
    if hit.height:
        parts.append(
            hit.select(
                pl.col("uid").alias("unique_id"),
                pl.col("uid").alias("record_id"),
                pl.lit(source).alias("source"),
                pl.lit(None, dtype=pl.String).alias("nid"),
                pl.lit(None, dtype=pl.String).alias("nid_any"),
                *_KEYED,
                "_k",
                "_i",
            )
        )
    frame = pl.concat([p.select(*SCHEMA, "_i").cast(parts[0].select(*SCHEMA, "_i").schema) for p in parts])
    frame = frame.sort("_i").drop("_i")
    # The ID is not given to prepare(): hashes need no Thai-digit or spacing clean-up, and
    # cleaning 700,000 distinct values one by one took longer than the names.
    nid = raw.get_column("nid")
    return frame.with_columns(nid.alias("nid"), nid.str.slice(0, 13).alias("nid_any"))


def incoming_frame(rows: Sequence[LinkRow]) -> pl.DataFrame:
    records = []
    for r in rows:
        c = r.clean
        nid = c.get("national_id") or ""
        records.append(
            (
                f"n{r.row_no}",
                lookup_hash(nid) if nid else None,
                c.get("first_name") or None,
                c.get("last_name") or None,
                c.get("birth_date") or None,
                c.get("sex") or None,
                c.get("house_no") or None,
                r.area_code or None,
            )
        )
    return _frame(records)


def registry_frame(rows: Sequence[LinkRow], scope: Scope) -> pl.DataFrame:
    """Registry people who could be the file's people (see the module docstring)."""
    villages = {r.area_code for r in rows if r.area_code}
    if not villages or scope.empty:
        return _frame([])
    where = scope.q("household__area_code")
    if len(rows) < SMALL_FILE:
        near = Q()
        for sub in sorted({v[:6] for v in villages}):
            near |= Q(household__area_code__range=code_range(sub))
        surnames = sorted({str(r.clean["last_name"]) for r in rows if r.clean.get("last_name")})
        if surnames:
            near |= Q(last_name__in=surnames)
        # Equal valid IDs decide on their own, wherever the person lives now and however
        # the name is spelt: everyone with one of the file's IDs is a candidate.
        hashes = sorted({lookup_hash(str(r.clean["national_id"])) for r in rows if r.clean.get("national_id")})
        if hashes:
            near |= Q(national_id_hash__in=hashes)
        where &= near
    qs = (
        Person.objects.filter(where)
        .exclude(status=PersonStatus.MERGED)
        .values_list(
            "id",
            "national_id_hash",
            "first_name",
            "last_name",
            "birth_date",
            "sex",
            "household__house_no",
            "household__area_code",
        )
    )
    records = [
        (f"p{pid}", h, first, last, bd.isoformat() if bd else None, sex or None, house or None, area)
        for pid, h, first, last, bd, sex, house, area in qs.iterator(chunk_size=20_000)
    ]
    return _frame(records)


class _Groups:
    """Union-find over row numbers (duplicates within the file)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, a: int) -> int:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _explain(pair: dict[str, Any]) -> dict[str, Any]:
    """Match weight of each comparison (log2 of its Bayes factor) and the total."""
    out: dict[str, Any] = {}
    for key, value in pair.items():
        if key.startswith("mw_") and value is not None and math.isfinite(value):
            out[key[3:]] = round(float(value), 2)
    out["_probability"] = round(float(pair["match_probability"]), 4)
    weight = pair.get("match_weight")
    if weight is not None and math.isfinite(weight):
        out["_weight"] = round(float(weight), 2)
    return out


def link_rows(
    rows: Sequence[LinkRow],
    source: Source,
    scope: Scope,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Set outcome, person, duplicate_of, match_rule/probability/explain and review on
    the valid rows (rejected rows are left alone). Returns a summary for the batch (no
    personal data): sizes, thresholds, timings, model description."""
    valid = [r for r in rows if r.outcome != RowOutcome.REJECTED]
    info: dict[str, Any] = {
        "match_threshold": source.match_threshold,
        "review_threshold": source.review_threshold,
    }
    if not valid:
        return info
    t0 = time.perf_counter()
    incoming = _prepared(incoming_frame(valid), LIST)
    if progress:
        progress("link", 0, 3)
    registry_raw = registry_frame(valid, scope)
    frames = [incoming]
    if registry_raw.height:
        frames.append(_prepared(registry_raw, REGISTRY))
    info["rows"], info["registry_people"] = incoming.height, registry_raw.height
    info["seconds_prepare"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("link", 1, 3)
    options = LinkOptions(
        threshold=min(source.review_threshold, source.match_threshold),
        exclude_within=(REGISTRY,),
        threads=threads,
    )
    t1 = time.perf_counter()
    result = link_frames(frames, options, link_type="dedupe_only" if len(frames) == 1 else "link_and_dedupe")
    info["seconds_link"] = round(time.perf_counter() - t1, 2)
    info["link_timings"] = {k: round(v, 2) for k, v in result.timings.items()}
    info["pairs"] = result.pairs.height
    if progress:
        progress("link", 2, 3)
    _decide(valid, result.pairs, source)
    info["seconds_total"] = round(time.perf_counter() - t0, 2)
    return info


def _decide(rows: Sequence[LinkRow], pairs: pl.DataFrame, source: Source) -> None:
    by_no = {r.row_no: r for r in rows}
    match_thr = source.match_threshold
    explain_cols = [c for c in pairs.columns if c.startswith("mw_")]
    cols = ["uid_l", "uid_r", "source_l", "source_r", "match_probability", "match_weight", "rule", *explain_cols]
    best: dict[int, dict[str, Any]] = {}  # row_no → best registry pair
    within: dict[int, dict[str, Any]] = {}  # row_no → best pair with another row of the file
    groups = _Groups()
    for pair in pairs.select(cols).iter_rows(named=True):
        sl, sr = pair["source_l"], pair["source_r"]
        if sl == LIST and sr == LIST:
            if pair["match_probability"] >= match_thr:
                a, b = int(pair["uid_l"][1:]), int(pair["uid_r"][1:])
                groups.union(a, b)
                for n in (a, b):
                    if n not in within or pair["match_probability"] > within[n]["match_probability"]:
                        within[n] = pair
            continue
        if sl == REGISTRY and sr == LIST:
            row_uid, person_uid = pair["uid_r"], pair["uid_l"]
        elif sl == LIST and sr == REGISTRY:
            row_uid, person_uid = pair["uid_l"], pair["uid_r"]
        else:
            continue
        row_no = int(row_uid[1:])
        known = best.get(row_no)
        if known is None or pair["match_probability"] > known["match_probability"]:
            best[row_no] = {**pair, "person_id": int(person_uid[1:])}

    for row_no, pair in best.items():
        r = by_no[row_no]
        r.person_id = pair["person_id"]
        r.match_rule = str(pair["rule"])
        r.match_probability = float(pair["match_probability"])
        r.explain = _explain(pair)
        if r.match_probability >= match_thr:
            r.outcome, r.review = RowOutcome.MATCHED, ReviewStatus.NONE
        else:
            r.outcome, r.review = RowOutcome.UNCERTAIN, ReviewStatus.PENDING

    # Duplicates within the file: one leader per group (the row matched with the highest
    # probability, else the first row); the others point at it and write nothing.
    members: dict[int, list[int]] = {}
    for row_no in list(groups.parent):
        members.setdefault(groups.find(row_no), []).append(row_no)
    for group in members.values():
        if len(group) < 2:
            continue
        group.sort()
        matched = [n for n in group if by_no[n].outcome == RowOutcome.MATCHED]
        leader = max(matched, key=lambda n: by_no[n].match_probability or 0.0) if matched else group[0]
        lead = by_no[leader]
        for n in group:
            r = by_no[n]
            if n == leader:
                continue
            if r.outcome == RowOutcome.MATCHED and r.person_id != lead.person_id:
                continue  # matched to someone else in the registry: keep it, the model disagrees
            r.outcome, r.review, r.duplicate_of = RowOutcome.DUPLICATE, ReviewStatus.NONE, leader
            r.person_id = lead.person_id if lead.outcome == RowOutcome.MATCHED else None
            pair = within[n]
            r.match_rule, r.match_probability = str(pair["rule"]), float(pair["match_probability"])
            r.explain = _explain(pair)
