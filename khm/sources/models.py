"""Source lists, their column-mapping profiles, staged import batches and provenance.

An import is a staged batch (DESIGN §3): upload → parse → validate → link → preview →
commit. Staged rows keep the raw values, the per-row errors and the linkage outcome, so the
officer sees exactly what a commit would do before anything touches the registry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khm.accounts.models import Organisation
from khm.registry.models import Person


class SourceKind(models.TextChoices):
    TPMAP = "tpmap", _("TPMAP")
    KHM = "khm", _("Province list (KHM)")
    BOTTOM20 = "bottom20", _("Bottom 20 percent income list")
    BMN = "bmn", _("BMN survey extract")
    FIELD = "field", _("Field survey")
    OTHER = "other", _("Other")


class Source(models.Model):
    """A list of poor people as it arrives each year/round from its owner agency."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    name_th = models.CharField(_("Thai name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    round_label = models.CharField(_("year / round"), max_length=20, help_text=_("e.g. 2566"))
    # Linkage thresholds for this list against the registry (docs/linkage.md): a pair at or
    # above ``match_threshold`` is the same person; between the two it waits for review.
    match_threshold = models.FloatField(_("match threshold"), default=0.95)
    review_threshold = models.FloatField(_("review threshold"), default=0.5)

    class Meta:
        ordering = ["code"]
        verbose_name = _("source list")
        verbose_name_plural = _("source lists")

    def __str__(self) -> str:
        return f"{self.name_th} {self.round_label}"


class MappingProfile(models.Model):
    """Which column of the file holds which field; reusable for next year's file.

    ``fields`` is the linkage engine's FIELDS.json (roles → columns); ``extra`` adds the
    registry-only roles: title, village_no, relation, household_key.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("layout of"), max_length=20, choices=SourceKind.choices)
    fields = models.JSONField(_("field mapping"))
    extra = models.JSONField(_("registry fields"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEW = "preview", _("Ready to review")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Could not be read")
    CANCELLED = "cancelled", _("Cancelled")


# The batch workflow: the only allowed moves; batch_transition() refuses anything else.
BATCH_TRANSITIONS: dict[str, set[str]] = {
    BatchStatus.UPLOADED: {BatchStatus.PREVIEW, BatchStatus.FAILED, BatchStatus.CANCELLED},
    BatchStatus.PREVIEW: {BatchStatus.COMMITTED, BatchStatus.CANCELLED},
    BatchStatus.FAILED: set(),
    BatchStatus.COMMITTED: set(),
    BatchStatus.CANCELLED: set(),
}


class ImportBatch(models.Model):
    code = models.CharField(max_length=16, unique=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    profile = models.ForeignKey(MappingProfile, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_path = models.CharField(max_length=500)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The uploader's scope at upload time, as area codes: who else may see the batch.
    scope_codes = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.UPLOADED)
    counts = models.JSONField(default=dict, blank=True)
    # Linkage summary of the staging run: model, timings, thresholds (no personal data).
    link_info = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code


class RowOutcome(models.TextChoices):
    NEW = "new", _("New person")
    MATCHED = "matched", _("Matched to the registry")
    UNCERTAIN = "uncertain", _("Uncertain match")
    DUPLICATE = "duplicate", _("Duplicate within this file")
    REJECTED = "rejected", _("Rejected")


class ReviewStatus(models.TextChoices):
    NONE = "", _("No review needed")
    PENDING = "pending", _("Waiting for review")
    SAME = "same", _("Same person")
    DIFFERENT = "different", _("Different person")


class StagedRow(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row_no = models.PositiveIntegerField()  # as the officer sees it in the spreadsheet (header = 1)
    # A rejected row's values as the file had them (for the sheet to fix); other rows keep
    # only ``clean`` (record_id included): the file itself is kept by its hash.
    raw = models.JSONField()
    clean = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    outcome = models.CharField(max_length=20, choices=RowOutcome.choices)
    area_code = models.CharField(max_length=8, blank=True, db_index=True)
    # For a match: the registry person; for an uncertain row: the candidate to review.
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A duplicate: the row_no of the first row of the same person in this file.
    duplicate_of = models.PositiveIntegerField(null=True, blank=True)
    # How the link was decided: "national_id" (equal valid IDs) or "model" (Fellegi-Sunter),
    # its probability, and the match weight of each comparison (for the review page).
    match_rule = models.CharField(max_length=20, blank=True)
    match_probability = models.FloatField(null=True, blank=True)
    explain = models.JSONField(default=dict, blank=True)
    review = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NONE, blank=True, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "row_no"]
        constraints = [models.UniqueConstraint(fields=["batch", "row_no"], name="staged_row_unique")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no}"


class PersonSource(models.Model):
    """Provenance: this person is on this list, this round, from this batch and row."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sources")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")
    row_no = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "source"], name="person_source_unique")]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.source_id}"


class PersonMerge(models.Model):
    """Two registry records found to be one person: ``absorbed`` was merged into
    ``survivor``. Kept for ever; a split (undo) fills ``undone_*`` and restores what
    ``moved`` lists. See khm/sources/merge.py."""

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    absorbed = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8, db_index=True)  # the survivor's village, for scoping
    staged_row = models.ForeignKey(StagedRow, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # What the merge changed, so a split can put it back: ids of moved PersonSource rows,
    # ended memberships, the absorbed person's old status.
    moved = models.JSONField(default=dict, blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_reason = models.CharField(_("reason for the split"), max_length=500, blank=True)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.absorbed_id}→{self.survivor_id}"


class FlagKind(models.TextChoices):
    SHARED_ADDRESS = "shared_address", _("One-person households sharing an address")
    TWO_HOUSEHOLDS = "two_households", _("Person listed in two households")
    HOUSEHOLD_SPLIT = "household_split", _("Household split between rounds")
    HOUSEHOLD_MERGED = "household_merged", _("Households merged between rounds")
    IMPLAUSIBLE_AGE = "implausible_age", _("Implausible age")
    IMPLAUSIBLE_RELATION = "implausible_relation", _("Implausible relation")


class FlagStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    CONFIRMED = "confirmed", _("Confirmed, to correct")
    DISMISSED = "dismissed", _("Checked, nothing wrong")


class CompositionFlag(models.Model):
    """A household composition check that needs a person to look (khm/sources/checks.py)."""

    kind = models.CharField(_("check"), max_length=30, choices=FlagKind.choices)
    # kind + the ids involved: running the checks again never files the same flag twice.
    key = models.CharField(max_length=200, unique=True)
    area_code = models.CharField(max_length=8, db_index=True)
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    other_household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    batch = models.ForeignKey(ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Codes and counts that explain the flag (no names, no IDs).
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=FlagStatus.choices, default=FlagStatus.PENDING, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["area_code", "kind", "id"]

    def __str__(self) -> str:
        return self.key
