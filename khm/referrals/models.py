"""Referrals and assistance: the agencies and services that help, referrals of a household's
needs to them under a guarded workflow, the help given (in baht), and notifications.

A referral's state changes only through ``referral_transition`` (services.py), which checks
the transition table below, records who/when/why as a :class:`ReferralEvent` and notifies.
An agency worker sees a referral only when it is sent to their agency, and then only the
minimum household data copied into the referral (``contact``), never the registry itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khm.accounts.models import Organisation
from khm.registry.models import Household, Person


class Agency(models.Model):
    """An organisation that helps: its type (as in the needs table), where it works and how
    to reach it. Agency workers are users with the agency_worker role in ``organisation``."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_th = models.CharField(_("Thai name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=40)  # an agency type code of the needs instrument
    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="agency")
    # Areas covered: DOPA code prefixes (province, district, subdistrict or village).
    areas = models.JSONField(_("areas covered"), default=list)
    email = models.EmailField(_("e-mail"), blank=True)
    line_to = models.CharField(_("LINE user or group ID"), max_length=64, blank=True)
    escalation_email = models.EmailField(_("district officer e-mail for overdue referrals"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name_th"]
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name_th

    def covers(self, area_code: str) -> bool:
        return any(area_code.startswith(p) for p in self.areas)


class Service(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="services")
    code = models.SlugField(max_length=60)
    name_th = models.CharField(_("Thai name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    needs = models.JSONField(_("needs it meets"), default=list)  # need codes of the needs instrument
    due_days = models.PositiveIntegerField(_("days to act"), default=30)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["agency", "name_th"]
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="service_code_once")]

    def __str__(self) -> str:
        return self.name_th


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    NOT_POSSIBLE = "not_possible", _("Not possible")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (State.SENT, State.ACCEPTED, State.IN_PROGRESS)
CLOSED_STATES = (State.COMPLETED, State.NOT_POSSIBLE, State.CANCELLED)


class Referral(models.Model):
    ref = models.CharField(max_length=16, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="referrals")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    need = models.CharField(_("need"), max_length=60)  # need code of the needs instrument
    need_label = models.CharField(_("need"), max_length=200)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    note = models.TextField(_("what is needed"), blank=True)
    # The minimum an agency needs to act (copied when sent): house, village, head's name.
    contact = models.JSONField(default=dict)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=40, blank=True)  # e.g. "assessment:<ref>", "forum:<ref>"

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["area_code", "state"], name="referral_area_idx"),
            models.Index(fields=["agency", "state"], name="referral_agency_idx"),
        ]

    def __str__(self) -> str:
        return self.ref


class ReferralEvent(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    agency = models.ForeignKey(Agency, null=True, on_delete=models.PROTECT, related_name="+")  # the agency at that time

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state}→{self.to_state}"


class Comment(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    attachment = models.FileField(upload_to="referrals/%Y/%m/", blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk}"


class AssistanceKind(models.TextChoices):
    CASH = "cash", _("Cash")
    IN_KIND = "in_kind", _("In kind")
    TRAINING = "training", _("Training")
    JOB = "job_placement", _("Job placement")
    HOUSING = "housing_repair", _("Housing repair")
    HEALTH = "health_service", _("Health service")
    WELFARE = "welfare_registration", _("Welfare registration")
    LOAN = "loan", _("Loan")
    ENTERPRISE = "enterprise_support", _("Enterprise support")
    OTHER = "other", _("Other")


class Assistance(models.Model):
    ref = models.CharField(max_length=16, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="assistance")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    kind = models.CharField(_("kind"), max_length=30, choices=AssistanceKind.choices)
    programme = models.CharField(_("programme"), max_length=200, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="assistance")
    given_on = models.DateField(_("given on"))
    value_baht = models.DecimalField(_("value (baht)"), max_digits=12, decimal_places=2, default=0)
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="assistance")
    note = models.CharField(_("note"), max_length=500, blank=True)
    batch = models.CharField(max_length=40, blank=True)  # a distribution event's bulk entry
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_on", "-id"]
        indexes = [models.Index(fields=["area_code", "given_on"], name="assistance_area_idx")]

    def __str__(self) -> str:
        return self.ref


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    LINE = "line", "LINE"


class Notification(models.Model):
    """An outbox: written in the transaction of the change, sent after it; no personal data
    in the message (a link and the referral code only)."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    referral = models.ForeignKey(Referral, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.pk}"
