"""Writing audit events. Call inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from khm.audit.models import AuditEvent
from khm.core.changes import touch

# Audited reads (everything else is a write that may change the figures of its area).
READS = (".view", ".reveal_id", ".compare", ".download", ".export", ".personal")


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_ref: str = "",
    area_code: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Append one event. Refuses to run outside a transaction for writes, so an event can
    never be committed without its change (or the reverse)."""
    conn = transaction.get_connection()
    if action.endswith((".create", ".update", ".delete", ".transfer")) and not conn.in_atomic_block:
        raise RuntimeError("audit_record for a write must run inside the write's transaction")
    user = actor if getattr(actor, "is_authenticated", False) else None
    if area_code and not action.endswith(READS):
        touch([area_code])  # a write: the figures of this area are out of date (khm.insights)
    return AuditEvent.objects.create(
        actor=user,
        actor_name=getattr(user, "username", "") or "system",
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        area_code=area_code,
        changes=changes or {},
        note=note,
    )


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the fields that changed."""
    return {k: [old.get(k), new.get(k)] for k in new if old.get(k) != new.get(k)}
