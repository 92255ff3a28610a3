"""Benchmark of the linkage engine on a synthetic province with three lists.

    python benchmarks/bench_linkage.py --people 1000000 --seed 1 [--out DIR] [--skip-baseline]

1. Makes three person lists of one synthetic population with ``python -m
   khm.engines.sources_synth`` (tpmap CSV CP874, khm XLSX, bottom20 CSV UTF-8-SIG, each
   with its ``<name>.fields.json`` and a ``true_person_id`` column); reused when the
   output folder already holds them.
2. Times (a) reading + normalising the three lists, (b) the Thai-aware linkage of all
   three at once (Splink ``link_and_dedupe``: duplicates inside a list and links across
   lists in one model), (c) a plain Splink run (library comparisons on raw columns,
   ``--baseline``) on the same prepared rows.
3. Prints a Markdown table: wall time, peak RSS, pairs, pairwise precision/recall/F1
   of both runs and the ratio ours / plain. Also written to ``OUT/report.md``.

Peak RSS is the process high-water mark (``ru_maxrss``) read after each step, so the
baseline row shows the maximum so far, not the baseline alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import peak_rss_mib

from khm.engines.linkage.fields import load_fields
from khm.engines.linkage.run import LinkOptions, link_frames, load_source


def make_lists(people: int, seed: int, out: Path) -> list[tuple[Path, Path]]:
    """Write (or reuse) the three lists; returns (data file, fields file) pairs."""
    marker = out / "done.json"
    if not marker.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "khm.engines.sources_synth",
                "--people",
                str(people),
                "--seed",
                str(seed),
                "--out",
                str(out),
            ],
            check=True,
        )
        files = []
        for fields in sorted(out.glob("*.fields.json")):
            stem = fields.name[: -len(".fields.json")]
            data = [p for p in out.glob(stem + ".*") if p.suffix in (".csv", ".xlsx")]
            files.append([str(data[0]), str(fields)])
        marker.write_text(json.dumps(files))
    return [(Path(a), Path(b)) for a, b in json.loads(marker.read_text())]


# --------------------------------------------------------------------------- benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--truth", default="true_person_id")
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).resolve().parent / "out" / f"linkage-{args.people}-seed{args.seed}"

    t = time.perf_counter()
    files = make_lists(args.people, args.seed, out / "lists")
    gen_time = time.perf_counter() - t
    print(f"lists: {[str(f) for f, _ in files]} in {gen_time:.0f} s", flush=True)

    t = time.perf_counter()
    frames = []
    for data, fields_path in files:
        fmap = load_fields(fields_path)
        name = fmap.source or data.stem
        frames.append(load_source(data, fmap, source=name, id_prefix=name + ":", truth=args.truth))
    read_time = time.perf_counter() - t
    read_rss = peak_rss_mib()
    rows = sum(f.height for f in frames)
    print(f"read + normalise: {rows:,} rows in {read_time:.1f} s, peak RSS {read_rss:.0f} MiB", flush=True)

    options = LinkOptions(threshold=args.threshold, seed=args.seed)
    t = time.perf_counter()
    ours = link_frames(frames, options, link_type="link_and_dedupe")
    ours_time = time.perf_counter() - t
    ours_rss = peak_rss_mib()
    print(f"thai-aware link: {ours_time:.1f} s {ours.timings} {ours.metrics}", flush=True)

    results = [("Thai-aware (ours)", ours_time, ours_rss, ours)]
    if not args.skip_baseline:
        base_opts = LinkOptions(threshold=args.threshold, seed=args.seed, baseline=True)
        t = time.perf_counter()
        base = link_frames(frames, base_opts, link_type="link_and_dedupe")
        base_time = time.perf_counter() - t
        results.append(("plain Splink (baseline)", base_time, peak_rss_mib(), base))
        print(f"baseline link: {base_time:.1f} s {base.timings} {base.metrics}", flush=True)

    lines = [
        f"## Linkage benchmark: {args.people:,} people, seed {args.seed}, {rows:,} rows in {len(frames)} lists",
        "",
        "Lists (khm.engines.sources_synth): " + ", ".join(f"{f.get_column('source')[0]} {f.height:,}" for f in frames),
        f"Read + normalise: {read_time:.1f} s (peak RSS {read_rss:,.0f} MiB). Threshold {args.threshold}.",
        "",
        "| run | link wall s | train / predict / cluster s | peak RSS MiB | pairs | precision | recall | F1 | cluster F1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, wall, rss, res in results:
        m = res.metrics or {}
        tm = res.timings
        lines.append(
            f"| {label} | {wall:.1f} | {tm['train']:.1f} / {tm['predict']:.1f} / {tm['cluster']:.1f} | {rss:,.0f} | "
            f"{res.counts['pairs']:,} | {m.get('precision', 0):.4f} | {m.get('recall', 0):.4f} | {m.get('f1', 0):.4f} | "
            f"{m.get('clusters', {}).get('f1', 0):.4f} |"
        )
    if len(results) == 2:
        ratio = results[0][1] / results[1][1]
        lines.append("")
        lines.append(
            f"Linkage time ours / plain Splink: **{ratio:.2f}×** (limit 1.5×). "
            f"Import + link: **{read_time + results[0][1]:.0f} s** (limit 300 s)."
        )
    report = "\n".join(lines)
    print(report)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
