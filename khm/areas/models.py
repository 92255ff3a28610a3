"""The Thai administrative area tree.

DOPA geocodes are themselves a materialised path: a province has 2 digits, each level
below appends 2 digits (district 4601, subdistrict 460101, village 46010102). So "this
area and everything below it" is a prefix of the code. To make that one *indexed* range
query on every database (SQLite's LIKE does not use a plain index, PostgreSQL's LIKE needs
a special operator class) we compare fixed-width codes: see :func:`code_range`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

VILLAGE_CODE_LENGTH = 8


class AreaLevel(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    DISTRICT = 2, _("District")
    SUBDISTRICT = 3, _("Subdistrict")
    VILLAGE = 4, _("Village")


LEVEL_BY_LENGTH = {2: AreaLevel.PROVINCE, 4: AreaLevel.DISTRICT, 6: AreaLevel.SUBDISTRICT, 8: AreaLevel.VILLAGE}


def code_range(prefix: str, width: int = VILLAGE_CODE_LENGTH) -> tuple[str, str]:
    """Inclusive bounds of every fixed-width code that starts with ``prefix``.

    ``code_range("4601")`` is ``("46010000", "46019999")``. Codes are digit strings of one
    width, so their text order equals their numeric order in every collation, and a
    B-tree index on the column answers the range directly.
    """
    # The empty prefix is the whole country (used for system-wide roles).
    if (prefix and not prefix.isdigit()) or len(prefix) > width:
        raise ValueError(f"not an area code: {prefix!r}")
    pad = width - len(prefix)
    return prefix + "0" * pad, prefix + "9" * pad


class Area(models.Model):
    """One node of the tree: province, district, subdistrict or village."""

    code = models.CharField(_("DOPA code"), max_length=8, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices, db_index=True)
    name_th = models.CharField(_("Thai name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    # Padded to 8 digits ("46010000" for district 4601) so one range covers a subtree.
    path = models.CharField(_("path"), max_length=8, db_index=True, editable=False)
    active = models.BooleanField(_("in force"), default=True)
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    successor_codes = models.CharField(_("successor codes"), max_length=200, blank=True)
    postal_codes = models.CharField(_("postal codes"), max_length=100, blank=True)
    village_no = models.PositiveSmallIntegerField(_("village number (หมู่)"), null=True, blank=True)
    population = models.PositiveIntegerField(_("registered population"), null=True, blank=True)
    households = models.PositiveIntegerField(_("registered houses"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        indexes = [models.Index(fields=["name_th"]), models.Index(fields=["name_en"])]

    def __str__(self) -> str:
        return f"{self.name_th} ({self.code})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = self.code.ljust(VILLAGE_CODE_LENGTH, "0")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def range(self) -> tuple[str, str]:
        return code_range(self.code)


class Boundary(models.Model):
    """A polygon for an area, as GeoJSON geometry (WGS84)."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="boundary")
    geometry = models.JSONField()
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("boundary")
        verbose_name_plural = _("boundaries")

    def __str__(self) -> str:
        return f"boundary of area {self.area_id}"


class LocalGovernmentType(models.TextChoices):
    PAO = "PAO", _("Provincial Administrative Organisation")
    CITY = "ThesabanNakhon", _("City municipality")
    TOWN = "ThesabanMueang", _("Town municipality")
    SUBDISTRICT_MUNICIPALITY = "ThesabanTambon", _("Subdistrict municipality")
    SAO = "TAO", _("Subdistrict Administrative Organisation")
