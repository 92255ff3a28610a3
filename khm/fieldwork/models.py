"""Fieldwork: verification campaigns, assignments, verifications (from the phone, the desk
or a KoboToolbox/ODK export), their photos, and the conflicts a sync could not apply.

A verification is stored once per idempotency key: a phone that sends the same submission
twice (a lost answer, a retry) gets the first one back. Changes to the household that the
server also changed since the phone downloaded it are not applied: each such field is kept
as a :class:`Conflict` for an officer to resolve.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from khm.assessment.models import Assessment
from khm.registry.models import Household


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Selection(models.TextChoices):
    LISTED_UNVERIFIED = "listed_unverified", _("Households on a poor list not yet verified in this round")
    ALL = "all", _("Every household of the area")


class Campaign(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    area_code = models.CharField(_("area"), max_length=8)
    round = models.CharField(_("survey round"), max_length=4)
    selection = models.CharField(_("households"), max_length=20, choices=Selection.choices)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AssignmentStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    DOWNLOADED = "downloaded", _("On the phone")
    DONE = "done", _("Verified")


class Assignment(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="assignments")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.WAITING)
    assigned_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "household"], name="assignment_once")]
        indexes = [
            models.Index(fields=["assignee", "status"], name="assignment_user_idx"),
            models.Index(fields=["campaign", "area_code"], name="assignment_area_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.household_id}"


class Outcome(models.TextChoices):
    CONFIRMED_POOR = "confirmed_poor", _("Confirmed poor")
    NOT_POOR = "not_poor", _("Not poor")
    MOVED = "moved", _("Moved")
    DECEASED = "deceased", _("Deceased")
    NOT_FOUND = "not_found", pgettext_lazy("outcome", "Not found")
    DUPLICATE = "duplicate", _("Duplicate of another household")


class Method(models.TextChoices):
    FIELD = "field", _("Phone, in the field")
    DESK = "desk", _("Desk")
    IMPORT = "import", _("Imported survey (KoboToolbox/ODK)")


class Verification(models.Model):
    ref = models.CharField(max_length=16, unique=True)
    key = models.CharField(max_length=80, unique=True)  # idempotency key from the device
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="verifications")
    area_code = models.CharField(max_length=8)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    moved_to = models.CharField(_("moved to"), max_length=200, blank=True)
    duplicate_of = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verified_on = models.DateField(_("verified on"))
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=Method.choices)
    consent = models.BooleanField(_("consent given"), default=False)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    device = models.CharField(max_length=64, blank=True)
    payload = models.JSONField()  # what was sent, as sent (answers, base, changes)
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["area_code", "received_at"], name="verification_area_idx")]

    def __str__(self) -> str:
        return self.ref


class Photo(models.Model):
    key = models.CharField(max_length=80, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    verification = models.ForeignKey(
        Verification, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    image = models.FileField(upload_to="fieldwork/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an officer")
    KEPT_SERVER = "kept_server", _("Kept the registry's value")
    TOOK_DEVICE = "took_device", _("Took the field value")


class Conflict(models.Model):
    verification = models.ForeignKey(Verification, on_delete=models.PROTECT, related_name="conflicts")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    person_ref = models.CharField(max_length=16, blank=True)  # empty: a household field
    field = models.CharField(max_length=40)
    base_value = models.JSONField(null=True)
    server_value = models.JSONField(null=True)
    device_value = models.JSONField(null=True)
    status = models.CharField(max_length=12, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["area_code", "status"], name="conflict_area_idx")]

    def __str__(self) -> str:
        return f"{self.household_id}.{self.person_ref or 'household'}.{self.field}"
