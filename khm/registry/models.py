"""Households, people and membership history.

Protected models: read them only through ``selectors.py`` / ``access.py``, which apply the
area scope of the person asking (see ``khm.accounts.scoping``). A test fails the build when
a view or API module touches ``Household.objects`` or ``Person.objects`` directly.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from khm.areas.models import Area
from khm.core import lookups  # noqa: F401  (registers the indexed __prefix lookup)
from khm.core.crypto import decrypt
from khm.engines.ids import mask_national_id

_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone


# 31 symbols from 256 byte values: bytes below 248 (= 8 × 31) map to a symbol, the rest
# are dropped, which keeps the choice uniform. A translate table does it in C (bulk
# imports draw hundreds of thousands of codes).
_CODE_TABLE = bytes(ord(_CODE_ALPHABET[b % 31]) if b < 248 else 0 for b in range(256))
_CODE_DROP = bytes(range(248, 256))


def new_code(prefix: str, length: int = 8) -> str:
    out = b""
    while len(out) < length:
        out += secrets.token_bytes(length * 2).translate(_CODE_TABLE, _CODE_DROP)
    return prefix + out[:length].decode("ascii")


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MOVED = "moved", _("Moved away")
    DISSOLVED = "dissolved", _("Dissolved")


class Household(models.Model):
    code = models.CharField(_("household code"), max_length=24, unique=True)
    village = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    # Copy of village.code: the indexed column every scope filter ranges over.
    area_code = models.CharField(_("area code"), max_length=8, editable=False)
    house_no = models.CharField(_("house number"), max_length=20)
    address_extra = models.CharField(_("address details"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [
            # Keyset pagination of a scope: range on area_code, then code.
            models.Index(fields=["area_code", "code"], name="hh_area_code_idx"),
            models.Index(fields=["house_no"], name="hh_house_no_idx"),
            # The map's household points: only located households, in code order per area.
            models.Index(
                fields=["area_code", "code"], name="hh_located_idx", condition=models.Q(latitude__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    GRANDCHILD = "grandchild", _("Grandchild")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Sibling")
    RELATIVE = "relative", _("Other relative")
    OTHER = "other", _("Not related")


class Education(models.TextChoices):
    NONE = "none", _("No schooling")
    PRIMARY = "primary", _("Primary")
    LOWER_SECONDARY = "lower_secondary", _("Lower secondary")
    UPPER_SECONDARY = "upper_secondary", _("Upper secondary")
    VOCATIONAL = "vocational", _("Vocational")
    BACHELOR = "bachelor", _("Bachelor's degree")
    HIGHER = "higher", _("Above bachelor's")


class Occupation(models.TextChoices):
    FARMER = "farmer", _("Farmer")
    FARM_LABOURER = "farm_labourer", _("Farm labourer")
    GENERAL_LABOURER = "general_labourer", _("General labourer")
    TRADER = "trader", _("Trader / own business")
    GOVERNMENT = "government", _("Government employee")
    COMPANY = "company", _("Company employee")
    STUDENT = "student", _("Student")
    UNEMPLOYED = "unemployed", _("Unemployed")
    ELDERLY_DEPENDENT = "elderly_dependent", _("Elderly dependant")
    CHILD = "child", pgettext_lazy("occupation", "Child")
    OTHER = "other", _("Other")


class Disability(models.TextChoices):
    NONE = "", _("None")
    PHYSICAL = "physical", _("Physical / mobility")
    VISUAL = "visual", _("Visual")
    HEARING = "hearing", _("Hearing")
    INTELLECTUAL = "intellectual", _("Intellectual")
    MENTAL = "mental", _("Mental / behavioural")
    OTHER = "other", _("Other")


class Illness(models.TextChoices):
    NONE = "", _("None")
    DIABETES = "diabetes", _("Diabetes")
    HYPERTENSION = "hypertension", _("Hypertension")
    KIDNEY = "kidney", _("Kidney disease")
    HEART = "heart", _("Heart disease")
    OTHER = "other", _("Other")


class PersonStatus(models.TextChoices):
    MEMBER = "member", _("Member")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    MERGED = "merged", _("Merged into another record")


class Person(models.Model):
    # Public reference used in URLs: random, says nothing about the person.
    ref = models.CharField(max_length=16, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="people")
    national_id_enc = models.TextField(blank=True)
    national_id_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    title = models.CharField(_("title"), max_length=30, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    first_name_en = models.CharField(_("first name (English)"), max_length=100, blank=True)
    last_name_en = models.CharField(_("last name (English)"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    relation = models.CharField(_("relation to head"), max_length=20, choices=Relation.choices)
    disability = models.CharField(_("disability"), max_length=20, choices=Disability.choices, blank=True)
    chronic_illness = models.CharField(_("chronic illness"), max_length=20, choices=Illness.choices, blank=True)
    education = models.CharField(_("education"), max_length=20, choices=Education.choices, blank=True)
    occupation = models.CharField(_("occupation"), max_length=20, choices=Occupation.choices, blank=True)
    income_year = models.PositiveIntegerField(_("income (baht per year)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=PersonStatus.choices, default=PersonStatus.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["first_name"], name="person_first_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["last_name"], name="person_last_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def full_name(self) -> str:
        return f"{self.title}{self.first_name} {self.last_name}".strip()

    def national_id(self) -> str:
        """The clear national ID. Only access/selectors call this, for roles allowed it."""
        return decrypt(self.national_id_enc) if self.national_id_enc else ""

    @property
    def national_id_masked(self) -> str:
        return mask_national_id(self.national_id()) if self.national_id_enc else ""


class MembershipEvent(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    BORN = "born", _("Born")
    MOVED_IN = "moved_in", _("Moved in")
    MOVED_OUT = "moved_out", _("Moved out")
    DIED = "died", _("Died")
    MERGED = "merged", _("Record merged into another")
    SPLIT = "split", _("Record split off again")


class Membership(models.Model):
    """One stay of a person in a household: who, which household, from when to when."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    relation = models.CharField(max_length=20, choices=Relation.choices)
    started_on = models.DateField(null=True, blank=True)
    start_event = models.CharField(max_length=20, choices=MembershipEvent.choices)
    ended_on = models.DateField(null=True, blank=True)
    end_event = models.CharField(max_length=20, choices=MembershipEvent.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_on", "id"]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.household_id} {self.start_event}→{self.end_event or '…'}"
