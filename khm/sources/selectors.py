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


def coverage(actor: Any, *, area_code: str | None = None) -> dict[str, Any]:
    """For the actor's area (or a part of it): people per list, their overlaps, and how
    much of each list is settled (matched or registered) versus waiting (uncertain rows
    still pending, rejected rows to fix). Counts only, no personal data."""
    from collections import Counter

    from khm.sources.models import PersonSource, ReviewStatus, RowOutcome

    scope = scope_for(actor, "source.view")
    if area_code:
        scope = scope.restricted_to(area_code)
    if scope.empty:
        return {"sources": [], "combos": [], "people": 0, "pending_review": 0, "rejected": 0}
    pairs = PersonSource.objects.filter(scope.q("person__household__area_code")).values_list(
        "person_id", "source__kind", "source__round_label"
    )
    per_person: dict[int, set[str]] = {}
    per_source: Counter[str] = Counter()
    for pid, kind, round_label in pairs.iterator(chunk_size=5000):
        label = f"{kind} {round_label}"
        per_person.setdefault(pid, set()).add(label)
        per_source[label] += 1
    combos = Counter(" + ".join(sorted(s)) for s in per_person.values())
    rows = StagedRow.objects.filter(scope.q("area_code"), batch__status="committed")
    return {
        "sources": sorted(per_source.items()),
        "combos": combos.most_common(),
        "people": len(per_person),
        "pending_review": rows.filter(review=ReviewStatus.PENDING).count(),
        "rejected": rows.filter(outcome=RowOutcome.REJECTED).count(),
    }
