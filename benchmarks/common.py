"""Helpers every benchmark shares: the machine it ran on, peak memory, p95, progress lines."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import sys
from pathlib import Path


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){ram}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]


def log(text: str) -> None:
    sys.stderr.write(f"[{dt.datetime.now():%H:%M:%S}] {text}\n")
    sys.stderr.flush()


def setup_lines(steps: dict[str, float]) -> list[str]:
    """The setup's steps and their seconds, as a Markdown table (not part of the measurements)."""
    if not steps:
        return []
    return [
        "",
        "Setup (not part of the measurements):",
        "",
        "| setup step | s |",
        "|---|---:|",
        *[f"| {k} | {v:.1f} |" for k, v in steps.items()],
        f"| **total** | {sum(steps.values()):.1f} |",
    ]


def write_report(report: str, out: Path) -> None:
    """Print the report and keep it as OUT/report.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    sys.stdout.write(report + "\n")
    log(f"report written to {out / 'report.md'}")
