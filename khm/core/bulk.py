"""Fast inserts of many rows of one model, for the import pipeline.

``Model.objects.bulk_create`` builds a model instance per row and walks every field of
each one; for a province list (600,000 staged rows) that costs more than the database
work. ``insert_rows`` sends plain tuples with ``executemany`` in the caller's
transaction. Values are adapted by their field only where the database needs it (JSON
columns: text on SQLite, ``jsonb`` on PostgreSQL), so the same call works on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models

from khm.core.changes import touch


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    json_encoded: bool = False,
    chunk: int = 5000,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order; attnames such as ``batch_id``).

    ``json_encoded``: the values of JSON columns are already JSON text (the caller
    encoded them, e.g. without ASCII escapes); they are cast, not encoded again."""
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [by_attname[c] for c in columns]
    adapt = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    quote = connection.ops.quote_name
    cast = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    marks = [cast if json_encoded and i in adapt else "%s" for i in range(len(fields))]
    if json_encoded:
        adapt = []
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(marks)})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"  # SQLite ≥ 3.24 and PostgreSQL
    done = 0
    iterator = iter(rows)
    area = columns.index("area_code") if "area_code" in columns else None
    with connection.cursor() as cur:
        while part := list(islice(iterator, chunk)):
            if area is not None:
                touch({r[area] for r in part})  # the figures of these areas are out of date
            if adapt:
                part = [
                    tuple(fields[i].get_db_prep_save(v, connection) if i in adapt else v for i, v in enumerate(r))
                    for r in part
                ]
            cur.executemany(sql, part)
            done += len(part)
    return done


def large_writes() -> None:
    """Prepare this connection for a big import: on SQLite a 512 MB page cache, so the
    random-key indexes (codes, ID hashes, names) of hundreds of thousands of new rows stay
    in memory instead of being paged in and out (cache pages are only taken when used).
    PostgreSQL sizes its own buffers; nothing to do there."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size = -524288")


def refresh_statistics(models_: Sequence[type[models.Model]]) -> None:
    """After a bulk write, let the planner see the new rows. PostgreSQL's autovacuum would
    analyse the tables only later; until then a query over freshly loaded tables can take a
    nested-loop plan meant for empty ones (minutes instead of milliseconds). SQLite plans
    without statistics: nothing to do there."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cur:
        for model in models_:
            cur.execute(f"ANALYZE {quote(model._meta.db_table)}")  # table names come from the models
