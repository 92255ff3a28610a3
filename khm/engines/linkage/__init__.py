"""Thai-aware person record linkage on Splink (dedupe one list, link lists).

No Django here (import-linter contract): the same code runs in ``khm link``, in a
worker, or on Spark. Modules:

* :mod:`.thai`     Thai/Latin name normalisation, phonetic and cross-script keys.
* :mod:`.fields`   FIELDS.json parsing, reading CSV/XLSX, dates, the linkage schema.
* :mod:`.model`    Splink comparisons, blocking rules, training plan (backend-agnostic).
* :mod:`.backend`  The one place that picks Splink's database (DuckDB).
* :mod:`.run`      Deterministic ID rule + Fellegi–Sunter model, thresholds, clusters,
                   metrics and output files.

See docs/linkage.md.
"""

from __future__ import annotations

from khm.engines.linkage.fields import FieldMap, FieldsError, load_fields, parse_fields
from khm.engines.linkage.run import LinkOptions, LinkResult, link_frames, load_source, run_files, write_outputs

__all__ = [
    "FieldMap",
    "FieldsError",
    "LinkOptions",
    "LinkResult",
    "link_frames",
    "load_fields",
    "load_source",
    "parse_fields",
    "run_files",
    "write_outputs",
]
