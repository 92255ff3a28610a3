"""Record the areas a write touched (see models.ChangedArea); run the refresh after commit.

``touch`` is called by ``audit_record`` (every service write) and ``insert_rows`` (bulk
writes of rows with an area code). A refresher registered by the insights app
(``on_change``) runs after the transaction commits — in a background thread, so a write
never waits for the figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

_listeners: list[Callable[[], None]] = []


def on_change(fn: Callable[[], None]) -> None:
    """Call ``fn`` after a transaction that touched areas commits (it must be cheap when
    called often: the insights refresher only wakes its thread)."""
    if fn not in _listeners:
        _listeners.append(fn)


def _notify() -> None:
    for fn in _listeners:
        fn()


def touch(area_codes: Iterable[str]) -> None:
    codes = sorted({c for c in area_codes if c is not None and len(c) in (0, 2, 4, 6, 8)})
    if not codes:
        return
    from khm.core.models import ChangedArea

    ChangedArea.objects.bulk_create(
        [ChangedArea(area_code=c) for c in codes],
        update_conflicts=True,
        unique_fields=["area_code"],
        update_fields=["at"],
    )
    if _listeners:
        transaction.on_commit(_notify)
