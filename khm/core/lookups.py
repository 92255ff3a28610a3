"""An indexed prefix lookup for Thai text on SQLite and PostgreSQL.

``field__prefix="สม"`` must use an index at 1,000,000 people. Django's ``startswith``
becomes ``LIKE`` which SQLite only optimises with a NOCASE index and case-insensitive
LIKE, and PostgreSQL only with a ``*_pattern_ops`` index. We register ``prefix``:
- SQLite: a range ``col >= 'สม' AND col < 'สม' || U+10FFFF`` (BINARY collation compares
  UTF-8 bytes, i.e. code points, so the range is exactly the prefix) on a plain index;
- PostgreSQL: ``col LIKE 'สม%'`` (escaped), served by the ``varchar_pattern_ops`` index the
  models declare (ignored on other databases).
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Lookup

MAX_CHAR = "\U0010ffff"


@CharField.register_lookup
class Prefix(Lookup):  # type: ignore[type-arg]
    lookup_name = "prefix"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        value = str(self.rhs)
        if connection.vendor == "postgresql":
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return f"{lhs} LIKE %s", [*lhs_params, escaped + "%"]
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, value, *lhs_params, value + MAX_CHAR]
