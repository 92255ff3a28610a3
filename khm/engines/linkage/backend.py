"""The one place that chooses Splink's database backend (DuckDB here).

Everything else talks to Splink through a ``DatabaseAPI`` object and the few helpers
below. To run the same model on Spark, implement these functions with
``splink.SparkAPI(spark_session=...)`` (register → ``spark.createDataFrame``,
``to_polars`` → ``toPandas``/Arrow or a ``write.parquet``), see docs/linkage.md.

DuckDB results are always fetched completely (``.pl()``/``COPY``) before the next
query: a half-read result on the shared connection breaks the next statement.
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl


def new_db_api(*, threads: int | None = None, memory_limit: str | None = None, temp_dir: str | None = None) -> Any:
    """A fresh in-memory DuckDB connection wrapped in Splink's DuckDBAPI."""
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        con.execute(f"SET temp_directory = '{temp_dir}'")
    # Splink's progress bar writes to the terminal for every query.
    con.execute("SET enable_progress_bar = false")
    return DuckDBAPI(connection=con)


def register(db_api: Any, frame: pl.DataFrame, name: str, index: int) -> Any:
    """Register a polars frame as Splink input number ``index``, shown as ``name``.

    The table gets a name of its own: a source called "left" would otherwise become a
    table called ``left``, a reserved word in SQL.
    """
    return db_api.register(frame.to_arrow(), dataset_display_name=name, table_name=f"khm_linkage_input_{index}")


def to_polars(splink_df: Any) -> pl.DataFrame:
    """Fetch a whole Splink result table into polars."""
    result = pl.from_arrow(splink_df.as_pyarrow_table())
    return result if isinstance(result, pl.DataFrame) else result.to_frame()
