"""The household page's verification panel: every verification (outcome, who, when, how,
photos, conflicts), newest first."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import can
from khm.core.panels import Panel
from khm.fieldwork.selectors import verifications_of


def verification_panel(actor: Any, household: Any) -> Panel | None:
    if not can(actor, "verification.view", household.area_code):
        return None
    rows = verifications_of(actor, household)
    may_verify = can(actor, "verification.submit", household.area_code)
    if not rows and not may_verify:
        return None
    return Panel(
        title=str(_("Verification")),
        template="fieldwork/_household_panel.html",
        context={"verifications": rows, "may_verify": may_verify, "household": household},
        order=15,
    )
