"""Merging two registry records of one person, and splitting them again (issue 3).

Lists overlap: the same person can end up twice in the registry (no usable national ID on
one list, a typo in a name). ``merge_people`` folds the *absorbed* record into the
*survivor*; ``split_merge`` undoes it. Nothing is deleted for good: every merge is a
:class:`~khm.sources.models.PersonMerge` row kept for ever, whose ``moved`` lists exactly
what the merge changed, so the split can put back exactly that.

``split_review`` corrects a reviewer who said "same person" for an uncertain list row that
was not: the row's list entry leaves the candidate and the row becomes a person of its own.
The correction is kept as a PersonMerge of kind "review" that is already split, so it shows
on the merges page and on both households' pages like any other merge and split.

Every service: keyword-only, explicit ``actor``, the actor's area checked here, one
transaction, audit events with refs and codes only (no names, no national IDs).

``moved`` (JSON) of a merge::

    kind         "merge" | "review"
    sources      the absorbed record's PersonSource rows now on the survivor:
                 [{"id", "source", "batch", "row_no"}]; a split finds them by
                 (source, batch, row_no), which a later merge and split keep, not by id
    kept         the absorbed record's rows for lists the survivor was already on:
                 [{"source", "batch", "row_no"}] (deleted, re-created by a split)
    memberships  open memberships the merge ended: [{"id", "household", "relation"}]
    status       the absorbed record's status before the merge
    national_id  "to_survivor" (only the absorbed record had one: it moved),
                 "kept" (both had one: the absorbed record keeps its own) or ""
    nid_hash     the moved ID's lookup hash, to check it is unchanged at split time
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import scope_for
from khm.areas.models import Area
from khm.audit.services import audit_record
from khm.registry.models import Membership, MembershipEvent, Person, PersonStatus
from khm.sources.models import BatchStatus, PersonMerge, PersonSource, ReviewStatus, StagedRow
from khm.sources.services import create_person_from_row

ACTION = "source.import"

SAME_RECORD = _("Choose two different records: a record cannot be merged with itself.")
ALREADY_MERGED = _("This record has already been merged into another one: choose another record.")
REASON_REQUIRED = _("Give a reason: it is kept with the history.")
ALREADY_SPLIT = _("This merge has already been split.")
SURVIVOR_MERGED = _(
    "The record kept by this merge has since been merged into another one: split that later merge first."
)
SOURCES_CHANGED = _("The list entries moved by this merge have changed since: it cannot be split automatically.")
NID_CHANGED = _(
    "The national ID of the kept record has changed since the merge: it cannot be given back automatically."
)
REVIEW_NOT_SAME = _('Only a list row decided as "same person" can be split off.')
CANDIDATE_MERGED = _("The matched record has since been merged into another one: split that merge first.")

KIND_MERGE = "merge"
KIND_REVIEW = "review"


def _reason(reason: str, field: str = "reason") -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError({field: REASON_REQUIRED})
    return text[:500]


def _check_area(actor: Any, *area_codes: str) -> None:
    scope = scope_for(actor, ACTION)
    if scope.empty or not all(scope.contains(code) for code in area_codes):
        raise PermissionDenied


def _lock(*pks: int) -> dict[int, Person]:
    # Lock in primary-key order so two merges of the same pair cannot deadlock.
    people = Person.objects.select_for_update().select_related("household").filter(pk__in=pks).order_by("pk")
    return {p.pk: p for p in people}


def merge_people(
    *, actor: Any, survivor: Person, absorbed: Person, reason: str, staged_row: StagedRow | None = None
) -> PersonMerge:
    """Fold ``absorbed`` into ``survivor``: its list entries move to the survivor, its
    household membership ends (event "merged"), its status becomes "merged"; a national ID
    only the absorbed record had moves to the survivor. Audited on both records."""
    if survivor.pk == absorbed.pk:
        raise ValidationError({"absorbed": SAME_RECORD})
    text = _reason(reason)
    _check_area(actor, survivor.household.area_code, absorbed.household.area_code)
    if staged_row is not None:
        _check_area(actor, staged_row.area_code)
    with transaction.atomic():
        locked = _lock(survivor.pk, absorbed.pk)
        s, a = locked[survivor.pk], locked[absorbed.pk]
        # Re-check on the locked rows: the household may have moved since the page was read.
        _check_area(actor, s.household.area_code, a.household.area_code)
        if s.status == PersonStatus.MERGED:
            raise ValidationError({"survivor": ALREADY_MERGED})
        if a.status == PersonStatus.MERGED:
            raise ValidationError({"absorbed": ALREADY_MERGED})

        survivor_sources = set(PersonSource.objects.filter(person=s).values_list("source_id", flat=True))
        moved_sources: list[dict[str, int]] = []
        kept: list[dict[str, int]] = []
        for ps in PersonSource.objects.filter(person=a).order_by("pk"):
            key = {"source": ps.source_id, "batch": ps.batch_id, "row_no": ps.row_no}
            if ps.source_id in survivor_sources:
                # The survivor is already on this list (unique per person and list): keep the
                # absorbed record's entry in ``moved`` so a split can re-create it.
                kept.append(key)
                ps.delete()
            else:
                moved_sources.append({"id": ps.pk} | key)
        PersonSource.objects.filter(pk__in=[m["id"] for m in moved_sources]).update(person=s)

        today = timezone.localdate()
        open_memberships = list(Membership.objects.filter(person=a, end_event="", ended_on__isnull=True))
        Membership.objects.filter(pk__in=[m.pk for m in open_memberships]).update(
            ended_on=today, end_event=MembershipEvent.MERGED, note=text[:200]
        )

        nid_state, nid_hash = "", ""
        if a.national_id_hash and not s.national_id_hash:
            # The hash column is unique: free it on the absorbed record before the survivor
            # takes it, inside the same transaction.
            nid_state, nid_hash = "to_survivor", a.national_id_hash
            enc = a.national_id_enc
            a.national_id_enc, a.national_id_hash = "", None
            a.save(update_fields=["national_id_enc", "national_id_hash", "updated_at"])
            s.national_id_enc, s.national_id_hash = enc, nid_hash
            s.save(update_fields=["national_id_enc", "national_id_hash", "updated_at"])
        elif a.national_id_hash:
            nid_state = "kept"

        old_status = a.status
        a.status = PersonStatus.MERGED
        a.save(update_fields=["status", "updated_at"])

        merge = PersonMerge.objects.create(
            survivor=s,
            absorbed=a,
            area_code=s.household.area_code,
            staged_row=staged_row,
            reason=text,
            moved={
                "kind": KIND_MERGE,
                "sources": moved_sources,
                "kept": kept,
                "memberships": [
                    {"id": m.pk, "household": m.household_id, "relation": m.relation} for m in open_memberships
                ],
                "status": old_status,
                "national_id": nid_state,
                "nid_hash": nid_hash,
            },
            merged_by=actor,
        )
        nid_change = {"national_id": ["(set)", None]} if nid_state == "to_survivor" else {}
        audit_record(
            actor=actor,
            action="person.merge",
            object_type="person",
            object_ref=a.ref,
            area_code=a.household.area_code,
            changes={
                "merge": merge.pk,
                "merged_into": [None, s.ref],
                "status": [old_status, PersonStatus.MERGED],
                "sources_moved": len(moved_sources) + len(kept),
                "memberships_ended": len(open_memberships),
            }
            | nid_change,
            note=text,
        )
        audit_record(
            actor=actor,
            action="person.merge",
            object_type="person",
            object_ref=s.ref,
            area_code=s.household.area_code,
            changes={"merge": merge.pk, "absorbed": [None, a.ref], "sources_added": len(moved_sources)}
            | ({"national_id": [None, "(set)"]} if nid_change else {}),
            note=text,
        )
    return merge


def split_merge(*, actor: Any, merge: PersonMerge, reason: str) -> PersonMerge:
    """Undo a merge: put back exactly what ``merge.moved`` lists. The merge row stays, with
    who split it, when and why; a split merge cannot be split again."""
    text = _reason(reason, "undo_reason")
    with transaction.atomic():
        m = PersonMerge.objects.select_for_update().get(pk=merge.pk)
        locked = _lock(m.survivor_id, m.absorbed_id)
        s, a = locked[m.survivor_id], locked[m.absorbed_id]
        _check_area(actor, m.area_code, s.household.area_code, a.household.area_code)
        if m.undone_at is not None:
            raise ValidationError({"undo_reason": ALREADY_SPLIT})
        if s.status == PersonStatus.MERGED:
            raise ValidationError({"undo_reason": SURVIVOR_MERGED})
        moved: dict[str, Any] = dict(m.moved or {})

        entries = list(moved.get("sources", []))
        for e in entries:
            back = PersonSource.objects.filter(
                person=s, source_id=e["source"], batch_id=e["batch"], row_no=e["row_no"]
            ).update(person=a)
            if back != 1:
                raise ValidationError({"undo_reason": SOURCES_CHANGED})
        for k in moved.get("kept", []):
            PersonSource.objects.get_or_create(
                person=a, source_id=k["source"], defaults={"batch_id": k["batch"], "row_no": k["row_no"]}
            )

        if moved.get("national_id") == "to_survivor":
            if s.national_id_hash != moved.get("nid_hash"):
                raise ValidationError({"undo_reason": NID_CHANGED})
            enc, h = s.national_id_enc, s.national_id_hash
            s.national_id_enc, s.national_id_hash = "", None
            s.save(update_fields=["national_id_enc", "national_id_hash", "updated_at"])
            a.national_id_enc, a.national_id_hash = enc, h
            a.save(update_fields=["national_id_enc", "national_id_hash", "updated_at"])

        # History stays: the membership the merge ended stays ended; a new stay starts now.
        today = timezone.localdate()
        for ms in moved.get("memberships", []):
            Membership.objects.create(
                person=a,
                household_id=ms["household"],
                relation=ms["relation"],
                started_on=today,
                start_event=MembershipEvent.SPLIT,
                note=text[:200],
            )
        old_status = a.status
        a.status = moved.get("status") or PersonStatus.MEMBER
        a.save(update_fields=["status", "updated_at"])

        m.undone_by, m.undone_at, m.undo_reason = actor, timezone.now(), text
        m.save(update_fields=["undone_by", "undone_at", "undo_reason"])
        audit_record(
            actor=actor,
            action="person.split",
            object_type="person",
            object_ref=a.ref,
            area_code=a.household.area_code,
            changes={
                "merge": m.pk,
                "merged_into": [s.ref, None],
                "status": [old_status, a.status],
                "sources_back": len(entries) + len(moved.get("kept", [])),
                "memberships_reopened": len(moved.get("memberships", [])),
            }
            | ({"national_id": [None, "(set)"]} if moved.get("national_id") == "to_survivor" else {}),
            note=text,
        )
        audit_record(
            actor=actor,
            action="person.split",
            object_type="person",
            object_ref=s.ref,
            area_code=s.household.area_code,
            changes={"merge": m.pk, "absorbed": [a.ref, None], "sources_removed": len(entries)}
            | ({"national_id": ["(set)", None]} if moved.get("national_id") == "to_survivor" else {}),
            note=text,
        )
    return m


def split_review(*, actor: Any, row: StagedRow, reason: str) -> PersonMerge:
    """A reviewer said "same person" for an uncertain list row, wrongly: take the row's list
    entry off the candidate, register the row as a person of its own, and mark the review
    "different person". Kept as an already-split PersonMerge (kind "review"): merged_* is
    the original decision, undone_* this correction."""
    text = _reason(reason)
    with transaction.atomic():
        r = StagedRow.objects.select_for_update().select_related("batch", "batch__source").get(pk=row.pk)
        if r.review != ReviewStatus.SAME or r.person_id is None or r.batch.status != BatchStatus.COMMITTED:
            raise ValidationError({"reason": REVIEW_NOT_SAME})
        candidate = _lock(r.person_id)[r.person_id]
        _check_area(actor, r.area_code, candidate.household.area_code)
        if candidate.status == PersonStatus.MERGED:
            raise ValidationError({"reason": CANDIDATE_MERGED})
        detached = PersonSource.objects.filter(
            person=candidate, source=r.batch.source, batch=r.batch, row_no=r.row_no
        ).delete()[0]
        villages = dict(Area.objects.filter(code=r.area_code).values_list("code", "id"))
        person = create_person_from_row(r, villages, {})
        PersonSource.objects.create(person=person, source=r.batch.source, batch=r.batch, row_no=r.row_no)
        decided_by, decided_at = r.reviewed_by or actor, r.reviewed_at
        now = timezone.now()
        r.person, r.review, r.reviewed_by, r.reviewed_at = person, ReviewStatus.DIFFERENT, actor, now
        r.save(update_fields=["person", "review", "reviewed_by", "reviewed_at"])
        merge = PersonMerge.objects.create(
            survivor=candidate,
            absorbed=person,
            area_code=candidate.household.area_code,
            staged_row=r,
            # No reason of its own: pages say "review decision: same person" for this kind.
            reason="",
            moved={"kind": KIND_REVIEW, "sources": [], "kept": [], "memberships": [], "detached": detached},
            merged_by=decided_by,
            undone_by=actor,
            undone_at=now,
            undo_reason=text,
        )
        if decided_at is not None:
            # merged_at is when the reviewer said "same person", not when it was corrected.
            PersonMerge.objects.filter(pk=merge.pk).update(merged_at=decided_at)
            merge.merged_at = decided_at
        row_ref = f"{r.batch.code}:{r.row_no}"
        audit_record(
            actor=actor,
            action="review.update",
            object_type="staged_row",
            object_ref=row_ref,
            area_code=r.area_code,
            changes={"decision": [ReviewStatus.SAME, ReviewStatus.DIFFERENT], "person": [candidate.ref, person.ref]},
            note=text,
        )
        audit_record(
            actor=actor,
            action="person.split",
            object_type="person",
            object_ref=candidate.ref,
            area_code=candidate.household.area_code,
            changes={"merge": merge.pk, "row": [row_ref, None], "sources_removed": detached},
            note=text,
        )
        audit_record(
            actor=actor,
            action="person.create",
            object_type="person",
            object_ref=person.ref,
            area_code=person.household.area_code,
            changes={"merge": merge.pk, "row": [None, row_ref], "household": [None, person.household.code]},
            note=text,
        )
    return merge
