"""Users, organisations and role assignments (role + organisation + area)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khm.accounts.roles import Role
from khm.areas.models import Area


class OrganisationKind(models.TextChoices):
    PROVINCE_OFFICE = "province_office", _("Province office")
    DISTRICT_OFFICE = "district_office", _("District office")
    LOCAL_GOVERNMENT = "local_government", _("Local government")
    AGENCY = "agency", _("Agency")
    OTHER = "other", _("Other")


class Organisation(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=OrganisationKind.choices)
    name_th = models.CharField(_("Thai name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    # Local-government type (PAO, municipality, SAO) when kind is local_government.
    lg_type = models.CharField(_("local-government type"), max_length=20, blank=True)
    # The area the organisation sits in (a district for a district office, a province…).
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The villages a local government has jurisdiction over (Local Data Ownership).
    jurisdiction = models.ManyToManyField(Area, blank=True, related_name="local_governments")

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name_th


class User(AbstractUser):
    """A person who works in KHM. Never a beneficiary: those are registry.Person."""

    display_name = models.CharField(_("display name"), max_length=200, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """A role held in an organisation over an area.

    ``area`` empty means "the organisation's jurisdiction" (local governments) or its
    own area. An assignment outside its validity window grants nothing.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assignments")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"

    def is_current(self, now: object | None = None) -> bool:
        moment = now or timezone.now()
        return self.valid_from <= moment and (self.valid_until is None or moment < self.valid_until)  # type: ignore[operator]


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"
