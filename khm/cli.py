"""The ``khm`` command line (installed with the package as the ``khm`` console script).

    khm link LEFT.csv [RIGHT.csv] --fields FIELDS.json --out OUTDIR [--truth COLUMN]
    khm mpi DEPRIVATIONS.csv --weights WEIGHTS.json --k K [--by SPEC ...]
            [--sample-weight COLUMN] [--compare ROUND2.csv | --round-column COLUMN]
            [--years Y] --out RESULT.json

``link``: one input file means *dedupe* (find the same person twice in one list), two
mean *link* (find each person of the left list in the right list). See docs/linkage.md.
``mpi``: the Alkire–Foster multidimensional poverty index, overall, per group and
between two rounds. See docs/mpi.md.

Exit codes: 0 done, 2 bad arguments or a bad fields/weights/input file (the message names
the problem), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _out(line: str) -> None:
    """A command's report goes to standard output (this is a CLI, not library logging)."""
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def _pair_threshold(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or "~" not in key:
        raise argparse.ArgumentTypeError(f"expected SOURCE_A~SOURCE_B=PROBABILITY, got {text!r}")
    return key.strip(), _probability(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="khm", description="KHM command line tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    link = sub.add_parser(
        "link",
        help="dedupe one person list or link two (Thai-aware record linkage)",
        description=(
            "Dedupe one list (one file) or link two lists (two files) of people. "
            "CSV (UTF-8, UTF-8 with BOM, CP874/TIS-620) or XLSX."
        ),
    )
    link.add_argument("inputs", nargs="+", metavar="FILE", help="LEFT [RIGHT]: one file to dedupe, two to link")
    link.add_argument(
        "--fields",
        action="append",
        required=True,
        metavar="FIELDS.json",
        help="role → column mapping; give it once for both files or once per file, in file order",
    )
    link.add_argument("--out", required=True, type=Path, metavar="OUTDIR", help="folder for the output files")
    link.add_argument(
        "--truth", metavar="COLUMN", help="column whose equal values mean the same person: writes metrics.json"
    )
    link.add_argument("--threshold", type=_probability, metavar="P", help="match probability needed (default 0.9)")
    link.add_argument(
        "--pair-threshold",
        type=_pair_threshold,
        action="append",
        default=[],
        metavar="A~B=P",
        help="threshold for one pair of sources (names from the fields files' 'source'; left/right otherwise)",
    )
    link.add_argument("--baseline", action="store_true", help="plain Splink settings on raw columns (for comparison)")
    link.add_argument("--seed", type=int, default=1, help="seed for sampling in training (default 1)")
    link.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    _add_mpi(sub)
    return parser


def _cutoff(text: str) -> str:
    from khm.engines.mpi import MPIError, parse_k

    try:
        parse_k(text)
    except MPIError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _years(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
    return value


def _add_mpi(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mpi = sub.add_parser(
        "mpi",
        help="multidimensional poverty index (Alkire–Foster): H, A, M0, contributions, groups, two rounds",
        description=(
            "Alkire–Foster multidimensional poverty index of the units (households or people) of a "
            "deprivation table: one row per unit, an id column and a 0/1 column per indicator "
            "(empty = missing). See docs/mpi.md."
        ),
    )
    mpi.add_argument("deprivations", metavar="DEPRIVATIONS.csv", help="one row per unit, 0/1 per indicator")
    mpi.add_argument(
        "--weights", required=True, metavar="WEIGHTS.json", help="dimensions and indicator weights (nested or flat)"
    )
    mpi.add_argument(
        "--k",
        required=True,
        type=_cutoff,
        metavar="K",
        help="poverty cutoff: a fraction (0.33, 1/3) or a percent (33, 33%%) of the weighted indicators",
    )
    mpi.add_argument(
        "--by",
        action="extend",
        nargs="+",
        default=[],
        metavar="SPEC",
        help="breakdown: COLUMN, COLUMN[:N] (first N characters of a code, e.g. area_code[:4] = district) "
        "or COLUMN:C1,C2,... (numeric bins cut at C1 < C2 < ...); repeatable",
    )
    mpi.add_argument("--sample-weight", metavar="COLUMN", help="column of sample weights (numbers ≥ 0)")
    mpi.add_argument("--id", default="id", metavar="COLUMN", help="id column, unique per unit (default: id)")
    rounds = mpi.add_mutually_exclusive_group()
    rounds.add_argument("--compare", metavar="ROUND2.csv", help="second round: report changes from the first file")
    rounds.add_argument(
        "--round-column", metavar="COLUMN", help="column with exactly two round values (sorted: first → second)"
    )
    mpi.add_argument("--years", type=_years, metavar="Y", help="years between the rounds: annualised changes")
    mpi.add_argument("--out", required=True, type=Path, metavar="RESULT.json", help="where to write the result")
    mpi.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "—"


def _mpi(args: argparse.Namespace) -> int:
    from khm.engines.mpi import MPIError, run_files, write_result

    started = time.perf_counter()
    try:
        result = run_files(
            args.deprivations,
            args.weights,
            args.k,
            by=args.by,
            sample_weight=args.sample_weight,
            id_column=args.id,
            compare_with=args.compare,
            round_column=args.round_column,
            years=args.years,
        )
        written = write_result(result, args.out)
    except MPIError as exc:
        _err(f"khm mpi: error: {exc}")
        return EXIT_USAGE
    if not args.quiet:
        rounds = result.get("rounds") or [{"label": result["input"]["deprivations"]["file"], **result}]
        for r in rounds:
            o = r["overall"]
            dropped = f" ({o['n_dropped_missing']:,} left out for missing values)" if o["n_dropped_missing"] else ""
            _out(
                f"{r['label']}: {o['n']:,} units{dropped}, k = {result['k']:.4g}: "
                f"H {_fmt(o['H'])}  A {_fmt(o['A'])}  M0 {_fmt(o['M0'])}"
            )
        if "change" in result:
            m0 = result["change"]["overall"]["M0"]
            per_year = f" ({_fmt(m0['annualised_absolute'])} a year)" if result.get("years") else ""
            _out(f"change of M0: {_fmt(m0['absolute'])}{per_year}")
        _out(f"wrote {written} in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def _link(args: argparse.Namespace) -> int:
    from khm.engines.linkage.fields import FieldsError, load_fields
    from khm.engines.linkage.run import DEFAULT_THRESHOLD, LinkOptions, run_files, write_outputs

    if len(args.inputs) > 2:
        _err(f"khm link: error: give one file (dedupe) or two (link), got {len(args.inputs)}")
        return EXIT_USAGE
    try:
        fields = [load_fields(path) for path in args.fields]
        if len(fields) not in (1, len(args.inputs)):
            raise FieldsError(
                f"give --fields once, or once per input file ({len(args.inputs)}), not {len(fields)} times"
            )
        threshold = args.threshold
        if threshold is None:
            threshold = next((f.threshold for f in fields if f.threshold is not None), DEFAULT_THRESHOLD)
        options = LinkOptions(
            threshold=threshold,
            pair_thresholds=dict(args.pair_threshold),
            baseline=args.baseline,
            seed=args.seed,
            truth=args.truth,
        )
        started = time.perf_counter()
        result, read = run_files(args.inputs, fields, options)
        written = write_outputs(result, args.out)
    except FieldsError as exc:
        _err(f"khm link: error: {exc}")
        return EXIT_USAGE
    if not args.quiet:
        mode = {"dedupe_only": "dedupe", "link_only": "link"}.get(result.link_type, result.link_type)
        _out(
            f"{mode}: {result.counts['records']:,} records, {result.counts['pairs']:,} matching pairs, "
            f"{result.counts['clusters']:,} clusters in {time.perf_counter() - started:.1f} s "
            f"(read {read['read']:.1f} s, train {result.timings['train']:.1f} s, predict {result.timings['predict']:.1f} s)"
        )
        if result.metrics is not None:
            m = result.metrics
            _out(f"precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f}")
        _out("wrote " + ", ".join(str(p) for p in written.values()))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``khm`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.WARNING, format="%(levelname)s: %(message)s")
    if args.command == "link":
        return _link(args)
    if args.command == "mpi":
        return _mpi(args)
    parser.print_help()  # pragma: no cover - argparse requires a command
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
