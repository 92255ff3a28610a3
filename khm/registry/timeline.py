"""Everything that happened to a household, newest first (grows with each capability)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from khm.audit.models import AuditEvent
from khm.registry.models import Household, Membership

ACTION_LABELS = {
    "household.create": _("Household registered"),
    "household.update": _("Household details changed"),
    "household.transfer": _("Household transferred to another village"),
    "person.create": _("Member added"),
    "person.update": _("Member details changed"),
    "membership.registered": _("Registered as a member"),
    "membership.born": _("Born into the household"),
    "membership.moved_in": _("Moved in"),
    "membership.moved_out": _("Moved out"),
    "membership.died": _("Died"),
    "membership.merged": _("Record merged into another"),
    "membership.split": _("Record split off again"),
    "person.merge": _("Duplicate records of one person merged"),
    "person.split": _("Merged records split again"),
}


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str
    action: str
    actor: str
    changes: dict[str, Any]
    note: str

    @property
    def label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))


def household_timeline(household: Household, *, limit: int = 100) -> list[TimelineEntry]:
    """Audit events of the household and of its members (reads excluded)."""
    refs = list(household.people.values_list("ref", flat=True))
    events = (
        AuditEvent.objects.filter(
            Q(object_type="household", object_ref=household.code) | Q(object_type="person", object_ref__in=refs)
        )
        .exclude(action__in=["household.view", "person.reveal_id"])
        .order_by("-at", "-id")[:limit]
    )
    entries = [TimelineEntry(e.at, e.object_type, e.action, e.actor_name, e.changes, e.note) for e in events]
    # Membership history: when each member joined and left (also for bulk-loaded records,
    # whose audit event covers a whole batch rather than one household).
    for m in Membership.objects.filter(household=household).select_related("person"):
        who = {"person": m.person.full_name}
        entries.append(TimelineEntry(m.created_at, "membership", f"membership.{m.start_event}", "", who, ""))
        if m.end_event and m.ended_on:
            at = dt.datetime.combine(m.ended_on, dt.time(12), tzinfo=dt.UTC)
            entries.append(TimelineEntry(at, "membership", f"membership.{m.end_event}", "", who, m.note))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
