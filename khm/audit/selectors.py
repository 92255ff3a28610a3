from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from khm.accounts.scoping import scope_for
from khm.audit.models import AuditEvent


def audit_events(actor: Any, *, area_code: str | None = None, limit: int = 200) -> QuerySet[AuditEvent]:
    """Audit events of the areas where ``actor`` may view the audit trail."""
    scope = scope_for(actor, "audit.view")
    if area_code:
        scope = scope.restricted_to(area_code)
    if scope.empty:
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.all() if "" in scope.prefixes else AuditEvent.objects.filter(scope.q("area_code"))
    return qs.select_related("actor")[:limit]
