"""Import + link a whole synthetic province through the real import pipeline.

What a provincial officer does, timed: upload the TPMAP-like, KHM-like and
bottom-20-like lists (``khm.engines.sources_synth``) one after the other into an empty
registry, each through ``batch_upload`` → ``batch_stage`` (read, validate, link with the
registry and within the file, save the preview) → ``batch_commit`` (households, people,
memberships, provenance; one transaction), as the province admin.

It reports, per list and in total: wall time of each step, rows/s, peak RSS, outcome
counts; the linkage step's own time against a **plain Splink run on the same rows**
(the same two lists, default-style comparisons, ``LinkOptions(baseline=True)``), run
right after ours inside the same import; pairwise precision/recall/F1 of both link
steps against the ground truth; and the end-to-end pairwise precision/recall/F1 of the
registry that results (two rows are "linked" when they end on the same registry person;
uncertain rows waiting for review count as not linked, rejected rows are left out).

    .venv/bin/python benchmarks/bench_import.py --people 1000000 --seed 1

Needs the ``KHM_*`` keys of ``.env`` (``make env``). Builds a fresh SQLite database in
``benchmarks/out/import-<people>-seed<seed>.sqlite3`` each run; the lists (on the real
Kalasin village codes, as ``seed_demo`` makes them) are written once to
``benchmarks/out/import-lists-<people>-seed<seed>/`` and reused.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common import peak_rss_mib  # noqa: E402  (benchmarks/common.py)

LISTS = (("tpmap", "tpmap.csv"), ("khm", "khm.xlsx"), ("bottom20", "bottom20.csv"))
TRUTH = "true_person_id"


def make_lists(people: int, seed: int, out: Path) -> Path:
    """The three lists of a synthetic Kalasin on the real village codes (as seed_demo
    makes them), written once and reused. Needs the areas loaded."""
    from khm.areas.models import Area, AreaLevel
    from khm.engines.sources_synth import build_lists, write_lists
    from khm.engines.synth import generate, village_weights_from_population

    if (out / "truth.csv").exists():
        return out
    villages = list(
        Area.objects.filter(level=AreaLevel.VILLAGE, active=True, path__range=("46000000", "46999999"))
        .order_by("code")
        .values_list("code", "parent__code")
    )
    pop = dict(
        Area.objects.filter(
            level=AreaLevel.SUBDISTRICT, population__isnull=False, path__range=("46000000", "46999999")
        ).values_list("code", "population")
    )
    weights = village_weights_from_population(villages, {k: v for k, v in pop.items() if v is not None})
    t = time.perf_counter()
    write_lists(build_lists(generate(villages=weights, people=people, seed=seed), seed=seed), out)
    sys.stdout.write(f"lists written in {time.perf_counter() - t:.0f} s: {out}\n")
    return out


def pair_metrics(tp: float, predicted: float, actual: float) -> dict[str, float]:
    p = tp / predicted if predicted else 1.0
    r = tp / actual if actual else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true", help="do not run plain Splink alongside")
    args = parser.parse_args(argv)

    out = ROOT / "benchmarks" / "out"
    db = out / f"import-{args.people}-seed{args.seed}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ["KHM_SQLITE_PATH"] = str(db)
    os.environ["KHM_IMPORT_DIR"] = str(out / "import-files")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["KHM_BACKGROUND_JOBS"] = "0"
    import django

    django.setup()
    import polars as pl
    from django.core.management import call_command

    from khm.accounts.models import User
    from khm.demo.seed import seed_organisations_and_users
    from khm.engines.linkage import LinkOptions
    from khm.engines.linkage import run as engine
    from khm.sources import checks, linking, services
    from khm.sources.models import MappingProfile, PersonSource, Source, StagedRow
    from khm.sources.profiles import install_profiles

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_areas", verbosity=0)
    seed_organisations_and_users()
    install_profiles()
    admin = User.objects.get(username="admin")
    setup_s = time.perf_counter() - t
    sys.stdout.write(f"database ready in {setup_s:.1f} s: {db}\n")
    lists = make_lists(args.people, args.seed, out / f"import-lists-{args.people}-seed{args.seed}")

    # Ground truth per list row, and per registry person (from the row that created it).
    truth_frame = pl.read_csv(lists / "truth.csv", infer_schema=False)
    truth_of = {(r[0], r[1]): r[2] for r in truth_frame.select("list", "record_id", TRUTH).iter_rows()}

    link_stats: list[dict[str, Any]] = []
    real_link_frames = linking.link_frames
    current: dict[str, Any] = {}

    def measured_link_frames(frames: Any, options: Any, **kw: Any) -> Any:
        """Our link, then plain Splink on exactly the same frames; both scored on truth."""
        t0 = time.perf_counter()
        ours = real_link_frames(frames, options, **kw)
        ours_s = time.perf_counter() - t0
        stat: dict[str, Any] = {"ours_s": ours_s, "rows": sum(f.height for f in frames)}
        truth = current["truth_of_uid"]
        thr = current["match_threshold"]
        stat["ours"] = score(ours.pairs, frames, truth, thr)
        if not args.skip_baseline:
            base_opts = LinkOptions(
                threshold=options.threshold,
                exclude_within=options.exclude_within,
                threads=options.threads,
                baseline=True,
            )
            t1 = time.perf_counter()
            base = engine.link_frames(frames, base_opts, **kw)
            stat["base_s"] = time.perf_counter() - t1
            stat["base"] = score(base.pairs, frames, truth, thr)
        link_stats.append(stat)
        return ours

    def score(pairs: Any, frames: Any, truth: dict[str, str], thr: float) -> dict[str, float]:
        uids = pl.concat([f.select("unique_id", "source") for f in frames])
        tmap = pl.DataFrame(
            {"unique_id": list(truth), "t": list(truth.values())}, schema={"unique_id": pl.String, "t": pl.String}
        )
        tagged = uids.join(tmap, on="unique_id", how="left")
        per = tagged.filter(pl.col("t").is_not_null()).group_by("t", "source").len()
        a = per.filter(pl.col("source") == linking.LIST).select("t", pl.col("len").alias("a"))
        b = per.filter(pl.col("source") == linking.REGISTRY).select("t", pl.col("len").alias("b"))
        ab = a.join(b, on="t", how="left").fill_null(0)
        actual = float(ab.select((pl.col("a") * (pl.col("a") - 1) / 2 + pl.col("a") * pl.col("b")).sum()).item() or 0)
        pred = pairs.filter(pl.col("match_probability") >= thr).select("uid_l", "uid_r")
        pred = pred.join(tmap.rename({"unique_id": "uid_l", "t": "tl"}), on="uid_l", how="left").join(
            tmap.rename({"unique_id": "uid_r", "t": "tr"}), on="uid_r", how="left"
        )
        tp = float(pred.filter(pl.col("tl") == pl.col("tr")).height)
        return pair_metrics(tp, float(pred.height), actual)

    linking.link_frames = measured_link_frames  # type: ignore[assignment]

    person_truth: dict[int, str] = {}
    report: list[dict[str, Any]] = []
    rss_before = peak_rss_mib()
    for kind, filename in LISTS:
        path = lists / filename
        source = Source.objects.create(code=f"bench-{kind}", kind=kind, name_th=kind, round_label="2568")
        profile = MappingProfile.objects.get(kind=kind)
        row: dict[str, Any] = {"list": kind}
        t = time.perf_counter()
        batch = services.batch_upload(
            actor=admin, source=source, profile=profile, file_name=path.name, content=path.read_bytes()
        )
        row["upload_s"] = time.perf_counter() - t
        # Truth of the link step's records: this file's rows and the registry so far.
        rid_col = profile.fields["record_id"]
        current["match_threshold"] = source.match_threshold
        current["truth_of_uid"] = {f"p{pid}": t_ for pid, t_ in person_truth.items()}
        current["kind"] = kind

        # Row numbers → truth: the staged row number is the file row (header = 1).
        from khm.engines.linkage.fields import read_table

        t = time.perf_counter()
        rids = read_table(batch.file_path).get_column(rid_col).to_list()
        read_again_s = time.perf_counter() - t
        for i, rid in enumerate(rids, start=2):
            current["truth_of_uid"][f"n{i}"] = truth_of.get((kind, rid))
        t = time.perf_counter()
        batch = services.batch_stage(actor=admin, batch=batch)
        row["stage_s"] = time.perf_counter() - t
        t = time.perf_counter()
        batch = services.batch_commit(actor=admin, batch=batch, checks=False)
        row["commit_s"] = time.perf_counter() - t
        # The household composition checks the import job runs next: timed on their own.
        t = time.perf_counter()
        touched = sorted(
            {a[:6] for a in StagedRow.objects.filter(batch=batch).values_list("area_code", flat=True).distinct() if a}
        )
        flags = checks.run_checks(area_codes=touched, batch=batch, actor=admin)
        row["checks_s"], row["flags"] = time.perf_counter() - t, sum(flags.values())
        row["rows"] = batch.counts["rows"]
        row["counts"] = {k: batch.counts.get(k, 0) for k in ("new", "matched", "uncertain", "duplicate", "rejected")}
        row["link_s"] = batch.link_info.get("seconds_link", 0.0)
        row["prepare_s"] = batch.link_info.get("seconds_prepare", 0.0)
        row["registry_people"] = batch.link_info.get("registry_people", 0)
        row["rss_mib"] = peak_rss_mib()
        row["read_again_s"] = read_again_s
        # Remember the truth of the people this import created.
        for pid, row_no in PersonSource.objects.filter(batch=batch).values_list("person_id", "row_no"):
            t_ = current["truth_of_uid"].get(f"n{row_no}")
            if t_ is not None and pid not in person_truth:
                person_truth[pid] = t_
        report.append(row)
        sys.stdout.write(f"{kind}: {row}\n")
        sys.stdout.flush()
    linking.link_frames = real_link_frames  # type: ignore[assignment]

    # End to end: rows on the same final person are linked.
    final: list[tuple[str, int | None]] = []
    for kind, _f in LISTS:
        source = Source.objects.get(code=f"bench-{kind}")
        for rid, pid, outcome in StagedRow.objects.filter(batch__source=source).values_list(
            "clean__record_id", "person_id", "outcome"
        ):
            if outcome == "rejected":
                continue
            final.append((truth_of.get((kind, rid)) or f"?{kind}{rid}", pid if outcome != "uncertain" else None))
    by_truth = Counter(t_ for t_, _p in final)
    actual = float(sum(n * (n - 1) / 2 for n in by_truth.values()))
    by_person = Counter(p for _t, p in final if p is not None)
    predicted = float(sum(n * (n - 1) / 2 for n in by_person.values()))
    both = Counter((t_, p) for t_, p in final if p is not None)
    tp = float(sum(n * (n - 1) / 2 for n in both.values()))
    e2e = pair_metrics(tp, predicted, actual)

    for r, s in zip(report, link_stats, strict=True):
        r["stage_s"] -= s.get("base_s", 0.0)  # plain Splink ran inside our staging call: not our time
    total_rows = sum(r["rows"] for r in report)
    total = sum(r["upload_s"] + r["stage_s"] + r["commit_s"] for r in report)  # stage_s without plain Splink
    ours_link = sum(s["ours_s"] for s in link_stats)
    base_link = sum(s.get("base_s", 0.0) for s in link_stats)
    lines = [
        f"## Import + link, {args.people:,} people, {total_rows:,} rows (seed {args.seed})",
        "",
        "| list | rows | registry people | upload s | stage s (of which link) | commit s | new / matched / "
        "uncertain / duplicate / rejected | link P / R / F1 | plain Splink s, P / R / F1 | peak RSS MiB "
        "| then household checks s (flags) |",
        "|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|",
    ]
    for r, s in zip(report, link_stats, strict=True):
        c = r["counts"]
        o = s["ours"]
        b = s.get("base")
        base_txt = f"{s['base_s']:.1f} s, {b['precision']:.4f} / {b['recall']:.4f} / {b['f1']:.4f}" if b else "—"
        lines.append(
            f"| {r['list']} | {r['rows']:,} | {r['registry_people']:,} | {r['upload_s']:.1f} | "
            f"{r['stage_s']:.1f} ({s['ours_s']:.1f}) | {r['commit_s']:.1f} | {c['new']:,} / {c['matched']:,} / "
            f"{c['uncertain']:,} / {c['duplicate']:,} / {c['rejected']:,} | {o['precision']:.4f} / "
            f"{o['recall']:.4f} / {o['f1']:.4f} | {base_txt} | {r['rss_mib']:,.0f} | {r['checks_s']:.1f} ({r['flags']:,}) |"
        )
    lines += [
        "",
        f"Whole province, upload + stage + commit: **{total:.0f} s** (limit 300 s; the household checks after "
        f"each commit took {sum(r['checks_s'] for r in report):.0f} s more), "
        f"{total_rows / total:,.0f} rows/s; peak RSS {peak_rss_mib():,.0f} MiB (before the imports {rss_before:,.0f}).",
        f"Linkage step: ours {ours_link:.1f} s"
        + (
            f", plain Splink on the same rows {base_link:.1f} s: **{ours_link / base_link:.2f}×** (limit 1.5×)."
            if base_link
            else "."
        ),
        f"End-to-end registry, pairwise: precision {e2e['precision']:.4f}, recall {e2e['recall']:.4f}, "
        f"**F1 {e2e['f1']:.4f}** (target ≥ 0.99; uncertain rows count as not linked, rejected rows left out).",
    ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write("\n" + text)
    (out / f"bench_import-{args.people}.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
