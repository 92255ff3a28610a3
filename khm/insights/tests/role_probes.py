"""Role-matrix probes for the insights actions (merged into tests/test_role_matrix.py): each
performs the action through its real page and says whether it worked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client


def probe_insights_view(c: Client, cast: Any) -> bool:
    """Open the dashboard of the province: it shows the refreshed count of households (the
    cast has two: 99/1 in 46010101 and 7 in 46050101)."""
    from khm.insights.refresh import refresh

    refresh(full=True)
    r = c.get("/insights/", {"area": "46"})
    return r.status_code == 200 and '<span data-figure="households">2</span>' in r.content.decode()


PROBES: dict[str, Callable[[Client, object], bool]] = {
    "insights.view": probe_insights_view,
}
