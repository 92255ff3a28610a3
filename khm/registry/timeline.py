"""Everything that happened to a household, newest first (grows with each capability)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from khm.audit.models import AuditEvent
from khm.registry.models import Household


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str
    action: str
    actor: str
    changes: dict[str, Any]
    note: str


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
    return [TimelineEntry(e.at, e.object_type, e.action, e.actor_name, e.changes, e.note) for e in events]
