"""The household page's "lists" panel: which source lists each member is on, by round, and
the merges and splits that involved a member (when, by whom, why)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import can, scope_for
from khm.core.panels import Panel
from khm.sources.merge_selectors import merges_of_household
from khm.sources.models import PersonSource


@dataclass
class MergeEvent:
    at: dt.datetime
    kind: str  # "merged" | "split" | "review_same" | "review_split"
    by: str
    reason: str
    survivor: str  # a name when the viewer may see that person, else the record's ref
    absorbed: str
    merge_id: int


def _label(actor_scope: Any, person: Any) -> str:
    if actor_scope.contains(person.household.area_code):
        return str(person.full_name)
    return str(person.ref)


def merge_events(actor: Any, household: Any) -> list[MergeEvent]:
    """Merges and splits involving the household's members, newest first."""
    scope = scope_for(actor, "household.view")
    events: list[MergeEvent] = []
    for m in merges_of_household(household):
        s, a = _label(scope, m.survivor), _label(scope, m.absorbed)
        review = (m.moved or {}).get("kind") == "review"
        # A "review" merge is a reviewer's "same person" for a list row, taken back later.
        events.append(
            MergeEvent(m.merged_at, "review_same" if review else "merged", m.merged_by.username, m.reason, s, a, m.pk)
        )
        if m.undone_at is not None and m.undone_by is not None:
            kind = "review_split" if review else "split"
            events.append(MergeEvent(m.undone_at, kind, m.undone_by.username, m.undo_reason, s, a, m.pk))
    events.sort(key=lambda e: e.at, reverse=True)
    return events


def lists_panel(actor: Any, household: Any) -> Panel | None:
    # The caller already fetched the household through the registry's access function,
    # so the actor may see it; this only reads provenance and merges of its members.
    rows = (
        PersonSource.objects.filter(person__household=household)
        .select_related("source", "batch", "person")
        .order_by("person__id", "source__round_label", "source__code")
    )
    by_person: dict[Any, list[Any]] = defaultdict(list)
    for r in rows:
        by_person[r.person].append(r)
    events = merge_events(actor, household)
    may_merge = can(actor, "source.import", household.area_code)
    if not by_person and not events and not may_merge:
        return None
    return Panel(
        title=str(_("On which lists")),
        template="sources/_household_lists.html",
        context={"by_person": dict(by_person), "merges": events, "may_merge": may_merge},
        order=10,
    )
