"""The household page's "lists" panel: which source lists each member is on, by round."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext_lazy as _

from khm.core.panels import Panel
from khm.sources.models import PersonSource


def lists_panel(actor: Any, household: Any) -> Panel | None:
    # The caller already fetched the household through the registry's access function,
    # so the actor may see it; this only reads provenance of its members.
    rows = (
        PersonSource.objects.filter(person__household=household)
        .select_related("source", "batch", "person")
        .order_by("person__id", "source__round_label", "source__code")
    )
    by_person: dict[Any, list[Any]] = defaultdict(list)
    for r in rows:
        by_person[r.person].append(r)
    if not by_person:
        return None
    return Panel(
        title=str(_("On which lists")),
        template="sources/_household_lists.html",
        context={"by_person": dict(by_person)},
        order=10,
    )
