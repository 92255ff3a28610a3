"""Assessment: versioned instruments, household assessments, scoring runs and their results.

History is never rewritten:

* an :class:`Instrument` version is immutable once saved; editing makes version n + 1;
* an :class:`Assessment` keeps the answers and the member roster as they were taken (a
  correction is a new assessment that supersedes the old one);
* a :class:`ScoringRun` records the instrument versions, the code version and hashes of its
  inputs and outputs; its :class:`AssessmentResult` rows are append-only. Only the flag
  ``current`` moves, so that pages read the latest result of each assessment.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from khm.registry.models import Household


class InstrumentKind(models.TextChoices):
    CAPITALS = "capitals", _("Five-capitals questionnaire")
    BMN = "bmn", _("BMN / TPMAP indicators")
    NEEDS = "needs", _("Needs and suggested help")


class ImmutableError(RuntimeError):
    pass


class Instrument(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=InstrumentKind.choices)
    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"))
    title_th = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    definition = models.JSONField()
    checksum = models.CharField(max_length=64, editable=False)
    note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version_uniq")]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and Instrument.objects.filter(pk=self.pk).exists():
            raise ImmutableError("an instrument version is never changed: save a new version")
        super().save(*args, **kwargs)


class AssessmentMethod(models.TextChoices):
    FIELD = "field", _("Field visit")
    DESK = "desk", _("Desk")
    IMPORT = "import", _("Imported")


class Assessment(models.Model):
    ref = models.CharField(max_length=16, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="assessments")
    area_code = models.CharField(max_length=8, editable=False)
    round = models.CharField(_("survey round"), max_length=10)
    assessed_on = models.DateField(_("assessed on"))
    method = models.CharField(_("method"), max_length=10, choices=AssessmentMethod.choices)
    capitals_instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    bmn_instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField()
    data_hash = models.CharField(max_length=64)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [
            models.Index(fields=["area_code", "round"], name="assess_area_round_idx"),
            models.Index(fields=["household", "round"], name="assess_hh_round_idx"),
        ]

    def __str__(self) -> str:
        return self.ref

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and Assessment.objects.filter(pk=self.pk).exists():
            raise ImmutableError("an assessment is never changed: record a new one that supersedes it")
        super().save(*args, **kwargs)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ScoringRun(models.Model):
    capitals_instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    bmn_instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    needs_instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code_version = models.CharField(max_length=80)
    area_code = models.CharField(_("area"), max_length=8, blank=True)
    round = models.CharField(_("survey round"), max_length=10, blank=True)
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reruns")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    n_assessments = models.PositiveIntegerField(default=0)
    inputs_hash = models.CharField(max_length=64, blank=True)
    outputs_hash = models.CharField(max_length=64, blank=True)
    reproduced = models.BooleanField(null=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"run {self.pk}"


class AssessmentResult(models.Model):
    run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="results")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="results")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    round = models.CharField(max_length=10)
    current = models.BooleanField(default=True)
    level = models.PositiveSmallIntegerField(null=True)
    overall = models.FloatField(null=True)
    human = models.FloatField(null=True)
    physical = models.FloatField(null=True)
    financial = models.FloatField(null=True)
    natural = models.FloatField(null=True)
    social = models.FloatField(null=True)
    # Bit i is indicator i of the run's BMN instrument (in its order): deprived / missing.
    deprived_bits = models.BigIntegerField(default=0)
    missing_bits = models.BigIntegerField(default=0)
    tpmap_poor = models.BooleanField(default=False)
    target_poor = models.BooleanField(default=False)
    mpi_score = models.FloatField(null=True)
    mpi_poor = models.BooleanField(null=True)
    # Groups for MPI decomposition (no personal data: sex and age band of the head, size).
    head_sex = models.CharField(max_length=1, blank=True)
    head_age = models.PositiveSmallIntegerField(null=True)
    size = models.PositiveSmallIntegerField(default=0)
    needs = models.JSONField(default=list)
    detail = models.JSONField()
    result_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["round", "area_code"], name="result_current_idx", condition=Q(current=True)),
            models.Index(fields=["assessment", "current"], name="result_assessment_idx"),
        ]

    def __str__(self) -> str:
        return f"result {self.pk}"
