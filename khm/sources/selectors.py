from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from khm.accounts.scoping import scope_for
from khm.sources.models import ImportBatch, StagedRow


def batches_visible(actor: Any) -> QuerySet[ImportBatch]:
    """Batches uploaded by someone whose area lies inside the actor's area (or their own)."""
    scope = scope_for(actor, "source.view")
    if scope.empty:
        return ImportBatch.objects.none()
    ids = [
        b.pk
        for b in ImportBatch.objects.only("id", "scope_codes", "uploaded_by_id")
        if b.uploaded_by_id == actor.pk or (b.scope_codes and all(scope.covers_area(c) for c in b.scope_codes))
    ]
    return ImportBatch.objects.filter(pk__in=ids).select_related("source", "uploaded_by")


def batch_for(actor: Any, code: str) -> ImportBatch:
    try:
        return batches_visible(actor).get(code=code)
    except ImportBatch.DoesNotExist:
        raise Http404 from None


def batch_rows(batch: ImportBatch, *, outcome: str | None = None, limit: int = 200) -> QuerySet[StagedRow]:
    qs = batch.rows.all()
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs[:limit]
