"""Run a linkage end to end: read lists, normalise, train, score, decide, cluster, write.

``run_files`` is what ``khm link`` calls; ``link_frames`` is the engine proper and works
on already prepared polars frames (the benchmark uses it for three lists at once).

Decision, in order (docs/linkage.md explains it at length):

1. **Deterministic**: two records with the same *valid* Thai national ID are the same
   person (match_probability 1.0, rule ``national_id``). IDs shared by more than
   :data:`MAX_ID_GROUP` records are placeholders typed by clerks and are ignored.
2. **Probabilistic** (Fellegi–Sunter, Splink): every other blocked pair gets a match
   weight = prior + the sum of its comparisons' log2 Bayes factors; the probability is
   its logistic transform. u values come from random sampling (fixed seed), m values
   from expectation maximisation (lists of at least :data:`MIN_RECORDS_FOR_EM` records)
   or the documented starting values.
3. A pair is a match when its probability reaches the threshold of its *source pair*
   (``--threshold``, or ``thresholds`` in the fields file, default 0.9).
4. Matches are clustered by connected components: a cluster is one person.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from khm.engines.linkage import backend
from khm.engines.linkage.fields import FieldMap, FieldsError, available_columns, prepare, read_table
from khm.engines.linkage.model import ModelPlan, baseline_plan, thai_aware_plan

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.9
MAX_ID_GROUP = 20
MIN_RECORDS_FOR_EM = 1_000
LINK_PREFIXES = ("L:", "R:")


@dataclass
class LinkOptions:
    threshold: float = DEFAULT_THRESHOLD
    # "sourceA~sourceB" → threshold; order of the two names does not matter.
    pair_thresholds: dict[str, float] = field(default_factory=dict)
    baseline: bool = False
    seed: int = 1
    u_max_pairs: float = 3e6
    em_max_pairs: float | None = 1.5e6
    truth: str | None = None
    threads: int | None = None
    # Lists already free of duplicates (the registry): no pairs inside them are formed,
    # scored or counted; their records only pair with the other lists' records.
    exclude_within: tuple[str, ...] = ()

    def threshold_for(self, a: str, b: str) -> float:
        for key in (f"{a}~{b}", f"{b}~{a}"):
            if key in self.pair_thresholds:
                return self.pair_thresholds[key]
        return self.threshold


@dataclass
class LinkResult:
    link_type: str
    sources: list[str]
    # left_id, right_id, match_probability, match_weight, rule, source_l, source_r,
    # uid_l, uid_r, then gamma_* / bf_* per comparison.
    pairs: pl.DataFrame
    # unique_id, record_id, source, cluster_id
    clusters: pl.DataFrame
    model: dict[str, Any]
    timings: dict[str, float]
    metrics: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)


def link_type_for(n_sources: int) -> str:
    return {1: "dedupe_only", 2: "link_only"}.get(n_sources, "link_and_dedupe")


def load_source(
    path: str | Path, fields: FieldMap, *, source: str, id_prefix: str, truth: str | None = None
) -> pl.DataFrame:
    raw = read_table(path, sheet=fields.sheet)
    if raw.height == 0:
        raise FieldsError(f"{path}: no rows")
    return prepare(raw, fields, source=source, id_prefix=id_prefix, truth=truth, file=str(path))


def _deterministic_pairs(
    frames: Sequence[pl.DataFrame], link_type: str, first_source: str, exclude_within: Sequence[str] = ()
) -> pl.DataFrame:
    ids = pl.concat([f.select("unique_id", "source", "nid") for f in frames]).filter(pl.col("nid").is_not_null())
    # Placeholder IDs (the same "valid" number typed for many people) are not evidence.
    counts = ids.group_by("nid").len()
    ids = ids.join(counts.filter(pl.col("len") <= MAX_ID_GROUP).select("nid"), on="nid")
    pairs = ids.join(ids, on="nid", suffix="_r")
    if link_type == "link_only":
        pairs = pairs.filter((pl.col("source") == first_source) & (pl.col("source_r") != first_source))
    else:
        pairs = pairs.filter(pl.col("unique_id") < pl.col("unique_id_r"))
    if exclude_within:
        pairs = pairs.filter(~((pl.col("source") == pl.col("source_r")) & pl.col("source").is_in(list(exclude_within))))
    return pairs.select(
        pl.col("unique_id").alias("uid_l"),
        pl.col("unique_id_r").alias("uid_r"),
        pl.col("source").alias("source_l"),
        pl.col("source_r"),
    )


def _total_comparisons(frames: Sequence[pl.DataFrame], link_type: str, exclude_within: Sequence[str] = ()) -> float:
    sizes = [f.height for f in frames]
    if link_type == "link_only":
        return float(sizes[0]) * float(sum(sizes[1:]))
    n = float(sum(sizes))
    excluded = sum(
        float(f.height) * (f.height - 1) / 2
        for f in frames
        if f.height and str(f.get_column("source")[0]) in exclude_within
    )
    return n * (n - 1) / 2 - excluded


def estimate_prior(
    frames: Sequence[pl.DataFrame], link_type: str, id_column: str, exclude_within: Sequence[str] = ()
) -> float:
    """Probability that two random records match, from equal-ID pairs.

    The pairs with equal IDs are (taken as) matches; they are the share of all matches
    where both records carry an ID, which is about (share of records with an ID)². With
    no ID pairs at all, assume half the smaller list reappears in a link and one record
    in ten is a duplicate in a dedupe.
    """
    total = _total_comparisons(frames, link_type, exclude_within)
    if total <= 0:
        return 0.5
    n = sum(f.height for f in frames)
    first = str(frames[0].get_column("source")[0])
    renamed = [f.select("unique_id", "source", pl.col(id_column).alias("nid")) for f in frames]
    found = _deterministic_pairs(renamed, link_type, first, exclude_within).height
    share = float(sum(int(f.get_column(id_column).is_not_null().sum()) for f in frames)) / max(n, 1)
    recall = min(max(share * share, 0.05), 1.0)
    if found:
        expected = found / recall
    elif link_type == "link_only":
        expected = 0.5 * min(frames[0].height, sum(f.height for f in frames[1:]))
    else:
        expected = 0.1 * n
    return float(min(max(expected / total, 1e-12), 0.5))


def _train(
    linker: Any, plan: ModelPlan, frames: Sequence[pl.DataFrame], options: LinkOptions, timings: dict[str, float]
) -> None:
    from splink.internals.exceptions import SplinkException

    n = sum(f.height for f in frames)
    if n < MIN_RECORDS_FOR_EM and plan.deterministic:
        # A few hundred records give too few pairs: sampled u values would count the
        # duplicates themselves as random pairs, EM would not converge. Keep the
        # documented starting m and u values.
        return
    t = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=options.u_max_pairs, seed=options.seed)
    timings["train_u"] = time.perf_counter() - t
    t = time.perf_counter()
    for rule in plan.em_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=options.em_max_pairs
            )
        except (SplinkException, ValueError, ZeroDivisionError) as exc:
            logger.warning("EM on %s failed (%s); keeping earlier m values", rule, exc)
    timings["train_em"] = time.perf_counter() - t


def link_frames(
    frames: Sequence[pl.DataFrame],
    options: LinkOptions | None = None,
    *,
    link_type: str | None = None,
    db_api: Any = None,
) -> LinkResult:
    """Dedupe one list, link two, or link-and-dedupe three or more prepared lists."""
    from splink import Linker
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    options = options or LinkOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sources = [str(f.get_column("source")[0]) for f in frames]
    if len(set(sources)) != len(sources):
        raise ValueError(f"source names must differ, got {sources}")
    link_type = link_type or link_type_for(len(frames))
    avail = available_columns(frames)
    make_plan = baseline_plan if options.baseline else thai_aware_plan
    plan = make_plan(avail, link_type, exclude_within=options.exclude_within)
    prior_col = "nid" if plan.deterministic else "nid_any"
    if prior_col in avail:
        plan.settings.probability_two_random_records_match = estimate_prior(
            frames, link_type, prior_col, options.exclude_within
        )
    db_api = db_api or backend.new_db_api(threads=options.threads)
    model_cols = [c for c in frames[0].columns if c != "truth"]
    inputs = [
        backend.register(db_api, f.select(model_cols), name, i)
        for i, (f, name) in enumerate(zip(frames, sources, strict=True))
    ]
    # Splink's own messages (e.g. "level not observed in training") go to its logger at
    # ERROR only; our warnings say what matters.
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], plan.settings, log_level=logging.ERROR)

    _train(linker, plan, frames, options, timings)
    timings["train"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    all_thresholds = [options.threshold, *options.pair_thresholds.values()]
    # Splink turns the probability into a match weight: 1.0 would be an infinite one.
    predict_floor = min(min(all_thresholds), 0.999)
    predictions = linker.inference.predict(threshold_match_probability=predict_floor, warning_mode="never")
    pred = backend.to_polars(predictions)
    logger.debug("prediction columns: %s", pred.columns)
    predictions.drop_table_from_database_and_remove_from_cache()
    timings["predict"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    src_l = "source_dataset_l" if "source_dataset_l" in pred.columns else "source_l"
    src_r = "source_dataset_r" if "source_dataset_r" in pred.columns else "source_r"
    explain_cols = [c for c in pred.columns if c.startswith(("mw_", "gamma_", "bf_"))]
    pred = pred.select(
        pl.col("unique_id_l").alias("uid_l"),
        pl.col("unique_id_r").alias("uid_r"),
        pl.col(src_l).alias("source_l"),
        pl.col(src_r).alias("source_r"),
        "match_probability",
        "match_weight",
        *explain_cols,
    )
    # Orient pairs: in a link the left file's record is on the left.
    flip = pl.col("source_l") != sources[0] if link_type == "link_only" else pl.col("uid_l") > pl.col("uid_r")
    swap_cols = {"uid_l": "uid_r", "source_l": "source_r"}
    pred = pred.with_columns(
        *[pl.when(flip).then(pl.col(b)).otherwise(pl.col(a)).alias(a) for a, b in swap_cols.items()],
        *[pl.when(flip).then(pl.col(a)).otherwise(pl.col(b)).alias(b) for a, b in swap_cols.items()],
    ).with_columns(pl.lit("model").alias("rule"))
    if plan.deterministic and "nid" in avail:
        det = _deterministic_pairs(frames, link_type, sources[0], options.exclude_within).with_columns(
            pl.lit(True).alias("_det")
        )
        pred = pred.join(det, on=["uid_l", "uid_r", "source_l", "source_r"], how="full", coalesce=True)
        is_det = pl.col("_det").fill_null(False)
        pred = pred.with_columns(
            pl.when(is_det).then(pl.lit(1.0)).otherwise(pl.col("match_probability")).alias("match_probability"),
            pl.when(is_det).then(pl.lit("national_id")).otherwise(pl.col("rule")).alias("rule"),
        ).drop("_det")
    thr_pairs = {(a, b): options.threshold_for(a, b) for a in sources for b in sources}
    thr_expr = pl.lit(options.threshold)
    for (a, b), value in thr_pairs.items():
        thr_expr = (
            pl.when((pl.col("source_l") == a) & (pl.col("source_r") == b)).then(pl.lit(value)).otherwise(thr_expr)
        )
    pairs = pred.filter(pl.col("match_probability") >= thr_expr).sort("uid_l", "uid_r")

    nodes = pl.concat([f.select("unique_id", "record_id", "source") for f in frames])
    edges = pairs.select(pl.col("uid_l").alias("unique_id_l"), pl.col("uid_r").alias("unique_id_r"))
    cc = cluster_pairwise_predictions_at_threshold(
        nodes.select("unique_id").to_arrow(), edges.to_arrow(), db_api, "unique_id"
    )
    clusters = backend.to_polars(cc).select("unique_id", "cluster_id")
    cc.drop_table_from_database_and_remove_from_cache()
    clusters = nodes.join(clusters, on="unique_id", how="left").with_columns(
        pl.col("cluster_id").fill_null(pl.col("unique_id"))
    )
    timings["cluster"] = time.perf_counter() - t2

    ids = nodes.select(pl.col("unique_id"), pl.col("record_id"))
    id_for_output = "unique_id" if link_type == "link_and_dedupe" else "record_id"
    pairs = (
        pairs.join(ids.rename({"unique_id": "uid_l", "record_id": "rid_l"}), on="uid_l", how="left")
        .join(ids.rename({"unique_id": "uid_r", "record_id": "rid_r"}), on="uid_r", how="left")
        .with_columns(
            (pl.col("rid_l") if id_for_output == "record_id" else pl.col("uid_l")).alias("left_id"),
            (pl.col("rid_r") if id_for_output == "record_id" else pl.col("uid_r")).alias("right_id"),
        )
        .drop("rid_l", "rid_r")
    )
    front = [
        "left_id",
        "right_id",
        "match_probability",
        "match_weight",
        "rule",
        "source_l",
        "source_r",
        "uid_l",
        "uid_r",
    ]
    pairs = pairs.select(front + [c for c in pairs.columns if c not in front])
    model = linker.misc.save_model_to_json()
    timings["total"] = time.perf_counter() - t0
    counts = {"records": nodes.height, "pairs": pairs.height, "clusters": clusters.get_column("cluster_id").n_unique()}
    result = LinkResult(link_type, sources, pairs, clusters, model, timings, counts=counts)
    if "truth" in frames[0].columns:
        result.metrics = pairwise_metrics(pairs, clusters, frames, link_type, sources)
    return result


# --------------------------------------------------------------------------- metrics


def _pair_count(n: pl.Expr) -> pl.Expr:
    return (n * (n - 1) / 2).cast(pl.Float64)


def _true_pair_total(truth: pl.DataFrame, link_type: str, sources: Sequence[str]) -> float:
    """Number of record pairs that are the same person (within the scope of the run)."""
    if link_type == "link_only":
        per = truth.group_by("truth", "source").len()
        left = per.filter(pl.col("source") == sources[0]).select("truth", pl.col("len").alias("a"))
        right = per.filter(pl.col("source") != sources[0]).group_by("truth").agg(pl.col("len").sum().alias("b"))
        return float(left.join(right, on="truth").select((pl.col("a") * pl.col("b")).sum()).item() or 0)
    return float(truth.group_by("truth").len().select(_pair_count(pl.col("len")).sum()).item() or 0)


def _prf(tp: float, predicted: float, actual: float) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positives": tp,
        "predicted": predicted,
        "actual": actual,
    }


def pairwise_metrics(
    pairs: pl.DataFrame,
    clusters: pl.DataFrame,
    frames: Sequence[pl.DataFrame],
    link_type: str,
    sources: Sequence[str],
) -> dict[str, Any]:
    """Pairwise precision/recall/F1 of the match pairs, and of the clusters they make.

    A true pair is two records whose truth values are equal (empty truth values are
    never equal). In a link only cross-list pairs count.
    """
    truth = pl.concat([f.select("unique_id", "source", "truth") for f in frames]).filter(
        pl.col("truth").is_not_null() & (pl.col("truth") != "")
    )
    lookup = truth.select("unique_id", "truth")
    tagged = (
        pairs.select("uid_l", "uid_r")
        .join(lookup.rename({"unique_id": "uid_l", "truth": "t_l"}), on="uid_l", how="left")
        .join(lookup.rename({"unique_id": "uid_r", "truth": "t_r"}), on="uid_r", how="left")
    )
    tp = float(tagged.filter(pl.col("t_l") == pl.col("t_r")).height)
    actual = _true_pair_total(truth, link_type, sources)
    edge = _prf(tp, float(pairs.height), actual)

    # Cluster view: every two records in one cluster are a predicted pair.
    cl = clusters.select("unique_id", "source", "cluster_id").join(lookup, on="unique_id", how="left")
    if link_type == "link_only":
        per = cl.group_by("cluster_id", "source").len()
        a = per.filter(pl.col("source") == sources[0]).select("cluster_id", pl.col("len").alias("a"))
        b = per.filter(pl.col("source") != sources[0]).group_by("cluster_id").agg(pl.col("len").sum().alias("b"))
        predicted = float(a.join(b, on="cluster_id").select((pl.col("a") * pl.col("b")).sum()).item() or 0)
        per_t = cl.filter(pl.col("truth").is_not_null()).group_by("cluster_id", "truth", "source").len()
        at = per_t.filter(pl.col("source") == sources[0]).select("cluster_id", "truth", pl.col("len").alias("a"))
        bt = (
            per_t.filter(pl.col("source") != sources[0])
            .group_by("cluster_id", "truth")
            .agg(pl.col("len").sum().alias("b"))
        )
        ctp = float(at.join(bt, on=["cluster_id", "truth"]).select((pl.col("a") * pl.col("b")).sum()).item() or 0)
    else:
        predicted = float(cl.group_by("cluster_id").len().select(_pair_count(pl.col("len")).sum()).item() or 0)
        ctp = float(
            cl.filter(pl.col("truth").is_not_null())
            .group_by("cluster_id", "truth")
            .len()
            .select(_pair_count(pl.col("len")).sum())
            .item()
            or 0
        )
    return {**edge, "clusters": _prf(ctp, predicted, actual)}


# --------------------------------------------------------------------------- files


def run_files(
    paths: Sequence[str | Path],
    fields: Sequence[FieldMap],
    options: LinkOptions,
) -> tuple[LinkResult, dict[str, float]]:
    """Read 1 (dedupe) or 2 (link) files and link them. Returns the result and read timings."""
    if not 1 <= len(paths) <= 2:
        raise ValueError("give one file (dedupe) or two files (link)")
    if len(fields) not in (1, len(paths)):
        raise FieldsError(f"give one fields file, or one per input file ({len(paths)}), not {len(fields)}")
    fmaps = list(fields) if len(fields) == len(paths) else [fields[0]] * len(paths)
    t0 = time.perf_counter()
    frames = []
    if len(paths) == 1:
        names = [fmaps[0].source or "data"]
        prefixes = [""]
    else:
        names = [fmaps[0].source or "left", fmaps[1].source or "right"]
        if names[0] == names[1]:
            names = [names[0] + "_left", names[1] + "_right"]
        prefixes = list(LINK_PREFIXES)
    for path, fmap, name, prefix in zip(paths, fmaps, names, prefixes, strict=True):
        frames.append(load_source(path, fmap, source=name, id_prefix=prefix, truth=options.truth))
    read_time = time.perf_counter() - t0
    # Thresholds from the fields files; the command line's --threshold wins over theirs.
    merged: dict[str, float] = {}
    for fmap in fmaps:
        merged.update(fmap.thresholds)
    options.pair_thresholds = {**merged, **options.pair_thresholds}
    return link_frames(frames, options), {"read": read_time}


def _weights_table(model: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for comp in model.get("comparisons", []):
        for i, level in enumerate(comp.get("comparison_levels", [])):
            if level.get("is_null_level"):
                rows.append([comp["output_column_name"], i, level.get("label_for_charts", ""), "", "", "", 0.0])
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            bf = m / u if m and u else None
            weight = math.log2(bf) if bf else None
            rows.append([comp["output_column_name"], i, level.get("label_for_charts", ""), m, u, bf, weight])
    return rows


def write_outputs(result: LinkResult, outdir: str | Path) -> dict[str, Path]:
    """pairs.csv, clusters.csv, explain.csv, weights.csv, model.json (+ metrics.json)."""
    from khm.engines.linkage.fields import write_csv_rows

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "pairs": out / "pairs.csv",
        "clusters": out / "clusters.csv",
        "explain": out / "explain.csv",
        "weights": out / "weights.csv",
        "model": out / "model.json",
    }
    result.pairs.select("left_id", "right_id", "match_probability").write_csv(written["pairs"])
    id_col = "record_id" if result.link_type == "dedupe_only" else "unique_id"
    result.clusters.select(pl.col(id_col).alias("record_id"), "cluster_id").sort("cluster_id", "record_id").write_csv(
        written["clusters"]
    )
    explain = result.pairs.drop("uid_l", "uid_r")
    explain.write_csv(written["explain"])
    write_csv_rows(
        written["weights"],
        ["comparison", "level", "label", "m_probability", "u_probability", "bayes_factor", "match_weight"],
        _weights_table(result.model),
    )
    written["model"].write_text(json.dumps(result.model, indent=2, ensure_ascii=False), encoding="utf-8")
    if result.metrics is not None:
        written["metrics"] = out / "metrics.json"
        written["metrics"].write_text(json.dumps(result.metrics, indent=2), encoding="utf-8")
    return written
