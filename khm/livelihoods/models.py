"""Livelihoods ("3 in 1" model): community enterprises, what they need and the support they
get, households and people linked to them, and household income before and after.

Enterprises are organisations (a public registry): every user with ``enterprise.view`` may
read them. Links and income records are personal data: they carry the household's village
code (``area_code``) and are read only through the scoping primitive (selectors.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from khm.areas.models import Area
from khm.referrals.models import Agency, Assistance, Referral
from khm.registry.models import Household, Person


class EnterpriseKind(models.TextChoices):
    COMMUNITY_ENTERPRISE = "community_enterprise", _("Community enterprise")
    NETWORK = "network", _("Community enterprise network")
    COMMUNITY_BUSINESS = "community_business", _("Community business")
    COOPERATIVE = "cooperative", _("Cooperative")
    SOCIAL_ENTERPRISE = "social_enterprise", _("Social enterprise")


class Stage(models.TextChoices):
    PRODUCTION = "production", _("Production")
    PROCESSING = "processing", _("Processing")
    MARKETING = "marketing", _("Marketing and sales")


class NeedKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    RAW_MATERIAL = "raw_material", _("Raw material")
    SKILLS = "skills", _("Skills")


class SupportKind(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRAINING = "training", _("Training")
    EQUIPMENT = "equipment", _("Equipment")
    FUNDING = "funding", _("Funding")
    OTHER = "other", _("Other")


class Enterprise(models.Model):
    code = models.CharField(max_length=16, unique=True)
    registration_no = models.CharField(_("registration number"), max_length=40, blank=True, db_index=True)
    name_th = models.CharField(_("Thai name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(
        _("kind"), max_length=30, choices=EnterpriseKind.choices, default=EnterpriseKind.COMMUNITY_ENTERPRISE
    )
    village = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    area_code = models.CharField(_("area code"), max_length=8, editable=False)
    products = models.CharField(_("products"), max_length=500, blank=True)
    stages = models.JSONField(_("value-chain stages"), default=list)
    lead_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead agency")
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area_code", "name_th"]
        indexes = [models.Index(fields=["area_code"], name="enterprise_area_idx")]

    def __str__(self) -> str:
        return self.name_th


class EnterpriseNeed(models.Model):
    """What an enterprise asks for: people for work at a stage, raw material, or skills."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="needs")
    kind = models.CharField(_("kind of need"), max_length=20, choices=NeedKind.choices)
    stage = models.CharField(_("value-chain stage"), max_length=20, choices=Stage.choices)
    quantity = models.PositiveSmallIntegerField(_("how many people or households"), default=1)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("still needed"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enterprise", "-active", "kind", "stage"]

    def __str__(self) -> str:
        return f"{self.enterprise_id}:{self.kind}/{self.stage}"


class Support(models.Model):
    """Support an enterprise receives (marketing, training, equipment…) and from whom."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="support")
    kind = models.CharField(_("kind of support"), max_length=20, choices=SupportKind.choices)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    provider = models.CharField(_("other provider"), max_length=200, blank=True)
    programme = models.CharField(_("programme"), max_length=200, blank=True)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    value_baht = models.DecimalField(_("value (baht)"), max_digits=12, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise_id}:{self.kind}"


class LinkRole(models.TextChoices):
    MEMBER = "member", _("Member")
    WORKER = "worker", _("Worker")
    SUPPLIER = "supplier", _("Supplier")


class Link(models.Model):
    """A household (or one of its people) linked to an enterprise. Personal data."""

    ref = models.CharField(max_length=16, unique=True)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="links")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)  # the household's village when linked
    role = models.CharField(_("role"), max_length=20, choices=LinkRole.choices)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=300, blank=True)
    programme = models.CharField(_("programme"), max_length=200, blank=True)
    source = models.CharField(max_length=60, blank=True)  # "referral:<ref>", "forum:<ref>"
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assistance = models.ForeignKey(Assistance, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        indexes = [
            models.Index(fields=["area_code"], name="link_area_idx"),
            models.Index(fields=["enterprise", "started_on"], name="link_enterprise_idx"),
        ]

    def __str__(self) -> str:
        return self.ref


class IncomeSource(models.TextChoices):
    CROPS = "crops", _("Crops")
    LIVESTOCK = "livestock", _("Livestock and fishing")
    WAGES = "wages", _("Wages")
    ENTERPRISE = "enterprise", _("Community enterprise")
    OWN_BUSINESS = "own_business", _("Own business and trade")
    WELFARE = "welfare", _("Welfare and allowances")
    REMITTANCES = "remittances", _("Money from relatives")
    OTHER = "other", _("Other")


class IncomeMethod(models.TextChoices):
    WEB = "web", _("Web form")
    MOBILE = "mobile", _("Phone")
    IMPORT = "import", _("Spreadsheet import")
    API = "api", _("API")


class IncomeRecord(models.Model):
    """A household's income from one source over whole months (baht for the whole period).
    Personal data."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=8)
    period_start = models.DateField(_("from"))  # first day of a month
    period_end = models.DateField(_("until"))  # last day of a month
    source = models.CharField(_("source of income"), max_length=20, choices=IncomeSource.choices)
    amount_baht = models.DecimalField(_("income (baht)"), max_digits=12, decimal_places=2)
    method = models.CharField(max_length=10, choices=IncomeMethod.choices, default=IncomeMethod.WEB)
    batch = models.CharField(max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_end", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "period_start", "period_end", "source"], name="income_once_per_period"
            ),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="income_period"),
        ]
        indexes = [models.Index(fields=["area_code", "period_end"], name="income_area_idx")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.source}:{self.period_start}"
