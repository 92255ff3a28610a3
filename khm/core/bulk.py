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


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    chunk: int = 5000,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order; attnames such as ``batch_id``)."""
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [by_attname[c] for c in columns]
    adapt = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"  # SQLite ≥ 3.24 and PostgreSQL
    done = 0
    iterator = iter(rows)
    with connection.cursor() as cur:
        while part := list(islice(iterator, chunk)):
            if adapt:
                part = [
                    tuple(fields[i].get_db_prep_save(v, connection) if i in adapt else v for i, v in enumerate(r))
                    for r in part
                ]
            cur.executemany(sql, part)
            done += len(part)
    return done
