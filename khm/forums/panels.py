"""The household page's panel of the poor list: where the household stands, every decision
on it (with the forum that took it), and how it fares against the graduation criteria."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from khm.accounts.scoping import can
from khm.core.panels import Panel
from khm.forums import graduation, selectors
from khm.forums.models import Standing
from khm.forums.standing import status_of


def standing_panel(actor: Any, household: Any) -> Panel | None:
    if not can(actor, "forum.view", household.area_code):
        return None
    row, events = selectors.standing_of(actor, household)
    status = row.status if row is not None else status_of(household)
    verdict = graduation.verdict_for(household) if status in (Standing.LISTED, Standing.CONFIRMED) else None
    return Panel(
        title=_("Poor list and graduation"),
        template="forums/_household_panel.html",
        context={
            "household": household,
            "row": row,
            "status": status,
            "label": dict(Standing.choices).get(status or "", _("Not on the poor list")),
            "events": events,
            "verdict": verdict,
        },
        order=25,
    )
