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


def review_queue(actor: Any, *, limit: int = 50) -> QuerySet[StagedRow]:
    """Uncertain rows of committed batches waiting for a decision, in the actor's area."""
    from khm.sources.models import BatchStatus, ReviewStatus

    scope = scope_for(actor, "source.import")
    if scope.empty:
        return StagedRow.objects.none()
    return (
        StagedRow.objects.filter(scope.q("area_code"), review=ReviewStatus.PENDING, batch__status=BatchStatus.COMMITTED)
        .select_related("batch__source", "person", "person__household")
        .order_by("area_code", "batch_id", "row_no")[:limit]
    )


def review_row(actor: Any, pk: int) -> StagedRow:
    scope = scope_for(actor, "source.import")
    try:
        return StagedRow.objects.filter(scope.q("area_code")).select_related("batch", "person").get(pk=pk)
    except StagedRow.DoesNotExist:
        raise Http404 from None
