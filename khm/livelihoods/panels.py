"""The household page's "Livelihood" panel: the household's enterprise links and its latest
income, with links to the livelihood page, linking and recording income."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import can
from khm.core.panels import Panel
from khm.livelihoods import selectors


def livelihood_panel(actor: Any, household: Any) -> Panel | None:
    if not can(actor, "household.view", household.area_code):
        return None
    links = list(selectors.household_links(actor, household))
    cut = min((link.started_on for link in links), default=None)
    income = selectors.household_income(actor, household, cut)
    return Panel(
        title=str(_("Livelihood")),
        template="livelihoods/_household_panel.html",
        context={
            "household": household,
            "links": links,
            "income": income[:3],
            "may_link": can(actor, "livelihood.link", household.area_code),
            "may_income": can(actor, "income.record", household.area_code),
        },
        order=40,
    )
